"""The weekly digest: the dashboard's headline figures and attention list, to each manager, once a week."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from dashboard.digest import digest_week_due, weekly_digests_send
from dashboard.tasks import send_weekly_digests
from tests.factories import ChecklistRunFactory, ServiceGoalFactory, TouchpointFactory, UserFactory

pytestmark = pytest.mark.django_db

LONDON = ZoneInfo("Europe/London")
MONDAY_8AM = datetime(2026, 11, 23, 8, 0, tzinfo=LONDON)


@pytest.fixture
def managers(db):
    return [UserFactory(manager=True, username="maya"), UserFactory(manager=True, username="omar")]


def test_the_digest_is_due_from_monday_seven_in_the_morning():
    assert digest_week_due(MONDAY_8AM) == MONDAY_8AM.date()
    assert digest_week_due(MONDAY_8AM.replace(hour=6, minute=59)) is None
    assert digest_week_due(MONDAY_8AM + timedelta(days=3)) == MONDAY_8AM.date()  # late, still this week's


def test_each_manager_gets_the_digest_once_however_often_the_sweep_runs(
    managers, staff, mailoutbox, time_machine
):
    time_machine.move_to(MONDAY_8AM)
    assert send_weekly_digests() == 2
    assert send_weekly_digests() == 0
    time_machine.move_to(MONDAY_8AM + timedelta(hours=5))
    assert send_weekly_digests() == 0
    assert sorted(m.to[0] for m in mailoutbox) == ["maya@practice.example", "omar@practice.example"]
    assert staff.email not in [m.to[0] for m in mailoutbox]
    time_machine.move_to(MONDAY_8AM + timedelta(days=7))
    assert send_weekly_digests() == 2  # next week's


def test_nothing_is_sent_before_the_digest_hour(managers, mailoutbox, time_machine):
    time_machine.move_to(MONDAY_8AM.replace(hour=6))
    assert send_weekly_digests() == 0
    assert mailoutbox == []


def test_a_refused_digest_is_retried_for_that_manager_only(
    managers, mailoutbox, refused_addresses, time_machine
):
    time_machine.move_to(MONDAY_8AM)
    refused_addresses.add("maya@practice.example")
    assert weekly_digests_send(now=MONDAY_8AM) == 2
    assert [m.to for m in mailoutbox] == [["omar@practice.example"]]

    refused_addresses.clear()
    time_machine.move_to(MONDAY_8AM + timedelta(minutes=15))
    assert weekly_digests_send(now=MONDAY_8AM + timedelta(minutes=15)) == 0
    assert sorted(m.to[0] for m in mailoutbox) == ["maya@practice.example", "omar@practice.example"]


def test_the_digest_has_the_headline_figures_and_the_attention_list(
    managers, feedback, summarise, mailoutbox, time_machine
):
    time_machine.move_to(MONDAY_8AM - timedelta(days=3))  # last Friday
    desk = TouchpointFactory(name="Front desk — Riverside")
    feedback(6, choice="poor", nps=2, touchpoint=desk)
    feedback(4, choice="very_good", nps=10, touchpoint=desk)
    ServiceGoalFactory(
        title="FFT positive at the front desk",
        metric_key="tests.fixed",
        metric_params={"now": "40", "before": "40"},  # the digest reads the goal as the week ended
    )
    ChecklistRunFactory(
        template__title="Morning premises check", status="missed", due_at=MONDAY_8AM - timedelta(days=1)
    )
    time_machine.move_to(MONDAY_8AM)
    summarise(days=30)
    weekly_digests_send(now=MONDAY_8AM)

    message = mailoutbox[0]
    assert message.subject.startswith("Week of 16 Nov: 1 goal missed")
    text = message.body
    assert "Your practice's week, Monday 16 November to Sunday 22 November 2026" in text
    assert "- MISSED: FFT positive at the front desk — 40 % against ≥ 90 %" in text
    assert "- Responses: 10" in text
    assert "- FFT positive: 40 %" in text
    assert "- Net Promoter Score: -20" in text
    assert "Least satisfied touchpoints: Front desk — Riverside (40 % positive)" in text
    assert "Missed checks: 1" in text
    assert "Morning premises check" in text
    assert "/dashboard/?days=7&until=2026-11-22" in text
    html = message.alternatives[0][0]
    assert "<strong>Missed</strong>: FFT positive at the front desk" in html


def test_managers_without_an_email_or_who_left_get_nothing(time_machine):
    UserFactory(manager=True, email="")
    UserFactory(manager=True, is_active=False)
    time_machine.move_to(MONDAY_8AM)
    assert send_weekly_digests() == 0
