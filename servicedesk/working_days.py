"""The practice's working-day calendar: what "acknowledge within 3 working days" counts.

A working day is a weekday that is neither a bank holiday where the practice is (the maintained
``holidays`` library, for the country and region in ``PracticeSettings``: England, Scotland, Wales
and Northern Ireland differ, and so do US states) nor one of the practice's own ``ClosedDay`` rows.
The opening-hours clock (``servicedesk.opening_hours``) skips the same days, so the SLA engine and
the complaint clocks agree on when the practice is shut.

Dates here are the practice's local dates (``servicedesk.clock.local_today``, in
``settings.TIME_ZONE``): a complaint received at 00:30 on a Saturday in London was received on
Saturday, whatever the UTC date says.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from functools import lru_cache
from typing import Any

import holidays
from django.utils.translation import gettext_lazy as _

from servicedesk.caching import cached, forget
from servicedesk.models import ClosedDay, PracticeSettings

_REGION_KEY = "practice-calendar:v1"
_REGION_SECONDS = 300  # as the other practice settings: bounds how stale a copy can be

# The countries the form offers, each with its regions (holidays' subdivision codes) in the
# practice's words. One place: the form, the model's check and the tests read it.
COUNTRIES: dict[str, tuple[Any, dict[str, Any]]] = {
    "GB": (
        _("United Kingdom"),
        {"ENG": _("England"), "SCT": _("Scotland"), "WLS": _("Wales"), "NIR": _("Northern Ireland")},
    ),
    "US": (
        _("United States"),
        {code: code for code in holidays.country_holidays("US").subdivisions},
    ),
}
DEFAULT_COUNTRY, DEFAULT_REGION = "GB", "ENG"


@lru_cache(maxsize=64)
def bank_holidays(country: str, region: str, year: int) -> frozenset[date]:
    """The bank holidays of one year where the practice is; computed once a year per process."""
    return frozenset(holidays.country_holidays(country, subdiv=region or None, years=year).keys())


def bank_holiday_names(country: str, region: str, year: int) -> list[tuple[date, str]]:
    """The year's bank holidays with their names, in date order (for the calendar page)."""
    rows = holidays.country_holidays(country, subdiv=region or None, years=year)
    return sorted(rows.items())


def _read_region() -> tuple[str, str]:
    row = PracticeSettings.objects.filter(pk=PracticeSettings.SINGLETON).only("country", "region").first()
    return (row.country, row.region) if row is not None else (DEFAULT_COUNTRY, DEFAULT_REGION)


def practice_region() -> tuple[str, str]:
    """The practice's (country, region), e.g. ("GB", "SCT"); England until a manager says otherwise."""
    return cached(_REGION_KEY, _read_region, timeout=_REGION_SECONDS)


def forget_practice_region() -> None:
    forget(_REGION_KEY)


@dataclass(frozen=True)
class WorkingCalendar:
    """Weekdays minus bank holidays (``country``/``region``) minus the practice's ``closed`` days."""

    country: str = DEFAULT_COUNTRY
    region: str = DEFAULT_REGION
    closed: frozenset[date] = field(default_factory=frozenset)

    @classmethod
    def current(cls) -> WorkingCalendar:
        """The practice's calendar now: its region (cached) and its own closed days (one query)."""
        country, region = practice_region()
        return cls(country, region, frozenset(ClosedDay.objects.values_list("date", flat=True)))

    def is_bank_holiday(self, day: date) -> bool:
        return day in bank_holidays(self.country, self.region, day.year)

    def is_working_day(self, day: date) -> bool:
        return day.weekday() < 5 and day not in self.closed and not self.is_bank_holiday(day)

    def add_working_days(self, day: date, n: int) -> date:
        """The ``n``-th working day after ``day`` (``day`` itself never counts: received on Friday,
        3 working days is Wednesday). ``n`` of 0 is the first working day from ``day`` on."""
        if n < 0:
            raise ValueError("n must not be negative")
        if n == 0:
            while not self.is_working_day(day):
                day += timedelta(days=1)
            return day
        while n:
            day += timedelta(days=1)
            n -= self.is_working_day(day)
        return day

    def working_days_between(self, a: date, b: date) -> int:
        """How many working days after ``a`` up to and including ``b`` (negative when ``b`` is
        earlier): ``working_days_between(d, add_working_days(d, n)) == n``."""
        if b < a:
            return -self.working_days_between(b, a)
        return sum(self.is_working_day(a + timedelta(days=i)) for i in range(1, (b - a).days + 1))


def add_working_days(day: date, n: int) -> date:
    """``n`` working days after ``day`` on the practice's calendar."""
    return WorkingCalendar.current().add_working_days(day, n)


def working_days_between(a: date, b: date) -> int:
    """Working days after ``a`` up to ``b`` on the practice's calendar."""
    return WorkingCalendar.current().working_days_between(a, b)
