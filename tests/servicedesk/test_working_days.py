"""The working-day calendar on the REAL bank holidays (the ``holidays`` library): England and
Scotland differ, weekends never count, and "the day received" is the practice's local date."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.urls import reverse

from servicedesk.audit import AuditEvent
from servicedesk.clock import local_today as local_date
from servicedesk.models import ClosedDay, PracticeSettings
from servicedesk.opening_hours import OpeningClock
from servicedesk.working_days import (
    WorkingCalendar,
    add_working_days,
    practice_region,
    working_days_between,
)

LONDON = ZoneInfo("Europe/London")
ENGLAND = WorkingCalendar("GB", "ENG")
SCOTLAND = WorkingCalendar("GB", "SCT")


def london(y: int, m: int, d: int, hh: int, mm: int) -> datetime:
    return datetime(y, m, d, hh, mm, tzinfo=LONDON)


def test_three_working_days_across_a_weekend_are_the_same_everywhere():
    friday = date(2026, 3, 6)
    assert ENGLAND.add_working_days(friday, 3) == SCOTLAND.add_working_days(friday, 3) == date(2026, 3, 11)


@pytest.mark.parametrize(
    ("received", "england", "scotland"),
    [
        # New Year: 2 January is a bank holiday in Scotland only.
        (date(2025, 12, 31), date(2026, 1, 6), date(2026, 1, 7)),
        # Easter: Good Friday everywhere, Easter Monday in England only.
        (date(2026, 4, 2), date(2026, 4, 9), date(2026, 4, 8)),
        # Summer bank holiday: the first Monday of August in Scotland, the last in England.
        (date(2026, 7, 31), date(2026, 8, 5), date(2026, 8, 6)),
        (date(2026, 8, 28), date(2026, 9, 3), date(2026, 9, 2)),
        # St Andrew's Day (Monday 30 November 2026) in Scotland only.
        (date(2026, 11, 27), date(2026, 12, 2), date(2026, 12, 3)),
    ],
)
def test_three_working_days_across_a_bank_holiday_differ_between_england_and_scotland(
    received, england, scotland
):
    assert ENGLAND.add_working_days(received, 3) == england
    assert SCOTLAND.add_working_days(received, 3) == scotland
    assert ENGLAND.working_days_between(received, england) == 3
    assert SCOTLAND.working_days_between(received, scotland) == 3


@pytest.mark.parametrize(
    ("received_at", "due"),
    [
        # British Summer Time starts at 1 am on Sunday 29 March 2026. At 00:30 on Monday 30 March
        # it is still Sunday in UTC: the practice's Monday counts, so Thursday, not Wednesday.
        (london(2026, 3, 29, 23, 30), date(2026, 4, 1)),
        (london(2026, 3, 30, 0, 30), date(2026, 4, 2)),
        # It ends at 2 am on Sunday 25 October 2026: Friday 23:30 BST is Friday 22:30 UTC;
        # Saturday 00:30 BST is still Friday in UTC, but Saturday where the practice is.
        (london(2026, 10, 23, 23, 30), date(2026, 10, 28)),
        (london(2026, 10, 24, 0, 30), date(2026, 10, 28)),
        (london(2026, 10, 25, 23, 30), date(2026, 10, 28)),
        (london(2026, 10, 26, 0, 30), date(2026, 10, 29)),
    ],
)
def test_working_days_count_from_the_practices_date_across_the_clock_change(received_at, due):
    assert ENGLAND.add_working_days(local_date(received_at), 3) == due


def test_the_local_date_is_not_the_utc_date_just_after_midnight_in_summer():
    received_at = london(2026, 3, 30, 0, 30)
    assert received_at.astimezone(ZoneInfo("UTC")).date() == date(2026, 3, 29)
    assert local_date(received_at) == date(2026, 3, 30)


def test_zero_working_days_is_the_next_working_day_from_a_day_off():
    assert ENGLAND.add_working_days(date(2026, 4, 3), 0) == date(2026, 4, 7)  # Good Friday
    assert ENGLAND.add_working_days(date(2026, 4, 8), 0) == date(2026, 4, 8)
    with pytest.raises(ValueError, match="negative"):
        ENGLAND.add_working_days(date(2026, 4, 8), -1)


def test_working_days_between_is_negative_backwards_and_zero_over_a_weekend():
    assert ENGLAND.working_days_between(date(2026, 3, 11), date(2026, 3, 6)) == -3
    assert ENGLAND.working_days_between(date(2026, 3, 6), date(2026, 3, 8)) == 0


@pytest.mark.django_db
def test_the_practices_own_closed_days_are_not_working_days():
    ClosedDay.objects.create(date=date(2026, 3, 9), reason="Staff training")
    assert add_working_days(date(2026, 3, 6), 3) == date(2026, 3, 12)
    assert working_days_between(date(2026, 3, 6), date(2026, 3, 12)) == 3


@pytest.mark.django_db
def test_the_practice_is_in_england_until_a_manager_says_otherwise():
    assert practice_region() == ("GB", "ENG")
    assert add_working_days(date(2026, 11, 27), 3) == date(2026, 12, 2)


# --- The opening-hours clock (the SLA engine) shuts on bank holidays too ---------------------------

WEEKDAYS_8_TO_6 = {day: (time(8), time(18)) for day in range(5)}


def test_the_opening_hours_clock_skips_the_regions_bank_holidays():
    start = london(2026, 4, 2, 17, 0)  # Thursday before Easter: one open hour left
    england = OpeningClock(WEEKDAYS_8_TO_6, holidays_in=("GB", "ENG"))
    scotland = OpeningClock(WEEKDAYS_8_TO_6, holidays_in=("GB", "SCT"))
    assert england.add(start, timedelta(hours=4)) == london(2026, 4, 7, 11, 0)
    assert scotland.add(start, timedelta(hours=4)) == london(2026, 4, 6, 11, 0)


@pytest.mark.django_db
def test_the_practices_clock_reads_its_region(manager):
    from servicedesk.models import OpeningHours
    from servicedesk.services import practice_calendar_save

    for weekday, (opens, closes) in WEEKDAYS_8_TO_6.items():
        OpeningHours.objects.create(weekday=weekday, opens=opens, closes=closes)
    practice_calendar_save(country="GB", region="SCT", by=manager)
    assert OpeningClock.current().add(london(2026, 11, 27, 17, 0), timedelta(hours=2)) == london(
        2026, 12, 1, 9, 0
    )


# --- The calendar form on the opening-hours page --------------------------------------------------

URL = reverse("practice_calendar")


def test_a_manager_moves_the_practice_to_scotland_and_it_is_audited(manager_client):
    response = manager_client.post(URL, {"place": "GB-SCT"})
    assert response.status_code == 302
    assert (PracticeSettings.objects.get().country, PracticeSettings.objects.get().region) == ("GB", "SCT")
    assert practice_region() == ("GB", "SCT")
    assert AuditEvent.objects.filter(target_label="the practice calendar").exists()
    page = manager_client.get(reverse("opening_hours"))
    assert "Saint Andrew" in page.content.decode()


def test_an_unknown_region_is_refused_with_a_message(manager_client):
    response = manager_client.post(URL, {"place": "GB-XYZ"})
    assert response.status_code == 400
    assert "Choose the country and region from the list." in response.content.decode()
    assert not PracticeSettings.objects.exists()


def test_staff_cannot_change_the_calendar(staff_client):
    assert staff_client.post(URL, {"place": "GB-SCT"}).status_code == 403
    assert not PracticeSettings.objects.exists()


def test_the_opening_hours_page_lists_the_coming_bank_holidays(manager_client):
    page = manager_client.get(reverse("opening_hours")).content.decode()
    assert "Bank holidays in the next twelve months" in page
    assert "Christmas Day" in page
