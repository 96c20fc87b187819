"""A clock that runs only while the practice is open (``OpeningHours``), for promises made in
opening hours: "respond within 4 hours" counts the hours someone is there to respond.

All arithmetic is on UTC instants; each day's window is built in the practice's time zone, so a
day on which the clocks change is as long as it really is. The practice's clock shuts on the same
days as its working-day calendar (``servicedesk.working_days``): its closed days and the bank
holidays of its country and region.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta

from django.utils import timezone

from servicedesk.models import ClosedDay, OpeningHours
from servicedesk.working_days import bank_holidays, practice_region


@dataclass(frozen=True)
class OpeningClock:
    """``hours`` maps a weekday (Monday 0) to its (opens, closes); empty means open around the clock.
    ``closed`` are dates it stays shut whatever the weekday (the practice's closed days);
    ``holidays_in`` is a (country, region) whose bank holidays it also stays shut on, or None."""

    hours: dict[int, tuple[time, time]] = field(default_factory=dict)
    closed: frozenset[date] = frozenset()
    holidays_in: tuple[str, str] | None = None

    @classmethod
    def current(cls) -> OpeningClock:
        """The practice's hours, its closed days (from a year back: older ones no clock reaches) and
        the bank holidays where it is."""
        since = timezone.localdate() - timedelta(days=366)
        return cls(
            {row.weekday: (row.opens, row.closes) for row in OpeningHours.objects.all()},
            frozenset(ClosedDay.objects.filter(date__gte=since).values_list("date", flat=True)),
            practice_region(),
        )

    def is_closed_on(self, day: date) -> bool:
        if day in self.closed:
            return True
        return self.holidays_in is not None and day in bank_holidays(*self.holidays_in, day.year)

    @property
    def always_open(self) -> bool:
        return not self.hours

    def windows(self, start: datetime) -> Iterator[tuple[datetime, datetime]]:
        """The open periods (UTC) from the local day of ``start`` onwards, in order, for ever."""
        tz = timezone.get_current_timezone()
        day: date = timezone.localtime(start, tz).date()
        while True:
            if (hours := self.hours.get(day.weekday())) is not None and not self.is_closed_on(day):
                opens, closes = (datetime.combine(day, t, tzinfo=tz).astimezone(UTC) for t in hours)
                yield opens, closes
            day += timedelta(days=1)

    def add(self, start: datetime, duration: timedelta) -> datetime:
        """The moment ``duration`` of open time after ``start``: a deadline."""
        if self.always_open or duration <= timedelta(0):
            return start + duration
        remaining = duration
        for opens, closes in self.windows(start):
            if closes <= start:
                continue
            begin = max(opens, start)
            if remaining <= closes - begin:
                return begin + remaining
            remaining -= closes - begin
        raise AssertionError("unreachable: a clock with opening hours opens every week")

    def between(self, start: datetime, end: datetime) -> timedelta:
        """How much open time passed from ``start`` to ``end`` (zero if end is not later)."""
        if self.always_open:
            return max(end - start, timedelta(0))
        total = timedelta(0)
        for opens, closes in self.windows(start):
            if opens >= end:
                return total
            total += max(min(closes, end) - max(opens, start), timedelta(0))
        raise AssertionError("unreachable: windows() goes on for ever")


ALWAYS_OPEN = OpeningClock()
