"""When a checklist is due: periods, shifts and deadlines, in the practice's local time.

Pure functions, no database. Deadlines are built from local dates and times with
``zoneinfo`` and only then turned into aware datetimes, so "09:00" means 09:00 on the
practice's clock on both sides of a daylight-saving change.
"""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from delivery.models import ChecklistTemplate

Frequency = ChecklistTemplate.Frequency
_SHIFT = re.compile(r"^\s*(?P<name>[^=,]+?)\s*=\s*(?P<start>\d{1,2}:\d{2})\s*-\s*(?P<end>\d{1,2}:\d{2})\s*$")


@dataclass(frozen=True)
class Shift:
    name: str
    start: time
    end: time


@dataclass(frozen=True)
class Slot:
    """One period of a template: the key of its run and the run's deadline."""

    period_start: date
    shift: str
    due_at: datetime


def practice_tz() -> ZoneInfo:
    return ZoneInfo(settings.TIME_ZONE)


def local_date(moment: datetime) -> date:
    return moment.astimezone(practice_tz()).date()


def at_local(day: date, clock: time) -> datetime:
    """The aware instant when the practice's clock shows ``clock`` on ``day``."""
    return datetime.combine(day, clock, tzinfo=practice_tz())


def end_of_local_day(day: date) -> datetime:
    return at_local(day + timedelta(days=1), time.min) - timedelta(microseconds=1)


def shifts() -> list[Shift]:
    """The practice's shifts, from ``DELIVERY_SHIFTS`` ("Morning=08:00-13:00,Afternoon=13:00-18:30")."""
    result = []
    for part in settings.DELIVERY_SHIFTS.split(","):
        match = _SHIFT.match(part)
        if not match:
            raise ImproperlyConfigured(
                f"DELIVERY_SHIFTS: {part!r} is not 'Name=HH:MM-HH:MM' (e.g. 'Morning=08:00-13:00')."
            )
        start, end = (time.fromisoformat(match[key].zfill(5)) for key in ("start", "end"))
        if end <= start:
            raise ImproperlyConfigured(f"DELIVERY_SHIFTS: shift {match['name']!r} must end after it starts.")
        result.append(Shift(name=match["name"], start=start, end=end))
    return result


def last_weekday(first: date, last: date) -> date:
    """The last Monday-to-Friday day in [first, last] (or ``last`` if there is none)."""
    day = last
    while day.weekday() >= 5 and day > first:
        day -= timedelta(days=1)
    return day


def slots_for_day(template: ChecklistTemplate, day: date) -> list[Slot]:
    """The runs ``template`` needs for the period(s) that contain ``day``.

    1. Each shift: one slot per shift that day, due at the shift's end.
    2. Daily: one slot, due at the template's due time.
    3. Weekly: the ISO week's slot, due at the due time on its last weekday (Friday).
    4. Monthly: the month's slot, due at the due time on its last weekday.
    Ad-hoc checklists, and checklists about each team member, are not periodic: none.
    """
    if template.per_person:
        return []
    frequency = template.frequency
    if frequency == Frequency.EACH_SHIFT:
        return [Slot(day, shift.name, at_local(day, shift.end)) for shift in shifts()]
    if frequency == Frequency.DAILY:
        return [Slot(day, "", at_local(day, template.due_time))]
    if frequency == Frequency.WEEKLY:
        monday = day - timedelta(days=day.weekday())
        due_day = last_weekday(monday, monday + timedelta(days=6))
        return [Slot(monday, "", at_local(due_day, template.due_time))]
    if frequency == Frequency.MONTHLY:
        first = day.replace(day=1)
        last = day.replace(day=calendar.monthrange(day.year, day.month)[1])
        return [Slot(first, "", at_local(last_weekday(first, last), template.due_time))]
    return []


def ad_hoc_slot(template: ChecklistTemplate, now: datetime) -> Slot:
    """A run started by hand: due at the due time today, or by the end of today once that has passed."""
    today = local_date(now)
    due_at = at_local(today, template.due_time)
    return Slot(today, "", due_at if due_at > now else end_of_local_day(today))
