"""The statutory clocks on the real calendars: acknowledge within 3 working days of the day
received — a Friday's complaint by Wednesday; bank holidays differ between England and Scotland;
the day received is the practice's local date, also either side of a clock change."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine

from complaints.models import Complaint
from complaints.services import acknowledgement_due
from servicedesk.models import PracticeSettings
from servicedesk.working_days import WorkingCalendar, forget_practice_region
from tests.complaints.conftest import record

LONDON = ZoneInfo("Europe/London")
ENGLAND, SCOTLAND = WorkingCalendar("GB", "ENG"), WorkingCalendar("GB", "SCT")


def test_a_complaint_received_on_friday_is_acknowledged_by_wednesday():
    assert acknowledgement_due(date(2026, 3, 6), ENGLAND) == date(2026, 3, 11)


@pytest.mark.parametrize(
    ("received", "england", "scotland"),
    [
        (date(2026, 4, 2), date(2026, 4, 9), date(2026, 4, 8)),  # Easter Monday: England only
        (date(2026, 11, 27), date(2026, 12, 2), date(2026, 12, 3)),  # St Andrew's Day: Scotland only
        (date(2025, 12, 31), date(2026, 1, 6), date(2026, 1, 7)),  # 2 January: Scotland only
    ],
)
def test_the_acknowledgement_day_skips_the_regions_bank_holidays(received, england, scotland):
    assert acknowledgement_due(received, ENGLAND) == england
    assert acknowledgement_due(received, SCOTLAND) == scotland


@pytest.mark.django_db
def test_a_practice_in_scotland_gets_scotlands_acknowledgement_day(staff):
    PracticeSettings.objects.create(pk=1, country="GB", region="SCT")
    forget_practice_region()
    with time_machine.travel(datetime(2026, 11, 27, 10, 0, tzinfo=LONDON), tick=False):
        complaint = record(by=staff)
    assert complaint.acknowledge_by == date(2026, 12, 3)


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("at", "received_on", "due"),
    [
        # BST starts on Sunday 29 March 2026: 00:30 on Monday is still Sunday in UTC.
        (datetime(2026, 3, 29, 23, 30, tzinfo=LONDON), date(2026, 3, 29), date(2026, 4, 1)),
        (datetime(2026, 3, 30, 0, 30, tzinfo=LONDON), date(2026, 3, 30), date(2026, 4, 2)),
        # BST ends on Sunday 25 October 2026.
        (datetime(2026, 10, 25, 23, 30, tzinfo=LONDON), date(2026, 10, 25), date(2026, 10, 28)),
        (datetime(2026, 10, 26, 0, 30, tzinfo=LONDON), date(2026, 10, 26), date(2026, 10, 29)),
    ],
)
def test_an_online_complaint_is_received_on_the_practices_date_across_the_clock_change(
    client, at, received_on, due
):
    from tests.complaints.test_public import fill

    with time_machine.travel(at - timedelta(seconds=30), tick=False):
        form = client.get("/complaints/tell-us/").context["form"]
    with time_machine.travel(at, tick=False):
        response = client.post("/complaints/tell-us/", fill(form))
    assert response.status_code == 302
    complaint = Complaint.objects.get()
    assert (complaint.received_on, complaint.acknowledge_by) == (received_on, due)


@pytest.mark.django_db
def test_overdue_is_the_day_after_the_acknowledgement_day(staff):
    complaint = record(by=staff, received_on=date(2026, 3, 6), now=datetime(2026, 3, 6, 12, tzinfo=LONDON))
    assert complaint.acknowledge_by == date(2026, 3, 11)
    assert not complaint.acknowledgement_overdue(date(2026, 3, 11))
    assert complaint.acknowledgement_overdue(date(2026, 3, 12))
    assert list(Complaint.objects.acknowledgement_overdue(date(2026, 3, 11))) == []
    assert list(Complaint.objects.acknowledgement_overdue(date(2026, 3, 12))) == [complaint]
