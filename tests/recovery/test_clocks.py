"""SLA clocks: deadlines from the policy, pauses that stop them, "due in" / "overdue by"."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.template import Context, Template

from recovery import services
from recovery.durations import humanize_duration
from recovery.models import Incident, SlaPolicy
from tests.recovery.conftest import drive_to

Status = Incident.Status
T0 = datetime(2026, 3, 2, 9, 0, tzinfo=ZoneInfo("Europe/London"))


@pytest.mark.django_db
def test_deadlines_come_from_the_policy_of_the_severity(manager):
    SlaPolicy.objects.filter(severity="high").update(
        respond_within=timedelta(hours=2), resolve_within=timedelta(days=2)
    )
    incident = drive_to(Status.NEW, by=manager, severity="high", now=T0)
    assert incident.respond_by == T0 + timedelta(hours=2)
    assert incident.resolve_by == T0 + timedelta(days=2)
    assert incident.created_at == T0


@pytest.mark.django_db
def test_every_severity_has_a_default_policy_with_escalation_steps():
    policies = SlaPolicy.objects.prefetch_related("steps")
    assert {p.severity for p in policies} == {"low", "medium", "high", "critical"}
    assert all(p.steps.count() == 2 for p in policies)
    critical = SlaPolicy.objects.get(severity="critical")
    assert critical.respond_within <= timedelta(hours=1)


@pytest.mark.django_db
def test_a_pause_stops_the_resolve_clock_and_resume_restarts_it(manager):
    incident = drive_to(Status.IN_PROGRESS, by=manager, severity="medium", now=T0)
    resolve_by = incident.resolve_by
    services.incident_pause(
        incident=incident, by=manager, reason="Patient is checking dates", now=T0 + timedelta(hours=1)
    )
    incident.refresh_from_db()
    assert incident.next_escalation_at is None
    # Ten days later nothing is overdue: the clock is stopped.
    assert not Incident.objects.overdue(T0 + timedelta(days=10)).filter(pk=incident.pk).exists()
    left_while_paused = incident.time_left(T0 + timedelta(days=10))
    assert left_while_paused == resolve_by - (T0 + timedelta(hours=1))

    services.incident_resume(incident=incident, by=manager, now=T0 + timedelta(hours=49))
    incident.refresh_from_db()
    assert incident.paused_for == timedelta(hours=48)
    assert incident.resolve_by == resolve_by + timedelta(hours=48)
    assert incident.next_escalation_at == incident.resolve_by  # level 1 fires at the deadline
    assert incident.time_left(T0 + timedelta(hours=49)) == left_while_paused


@pytest.mark.django_db
def test_two_pauses_add_up(manager):
    incident = drive_to(Status.IN_PROGRESS, by=manager, now=T0)
    resolve_by = incident.resolve_by
    for start in (T0 + timedelta(hours=1), T0 + timedelta(hours=10)):
        services.incident_pause(incident=incident, by=manager, reason="Waiting", now=start)
        services.incident_resume(incident=incident, by=manager, now=start + timedelta(hours=3))
    incident.refresh_from_db()
    assert incident.paused_for == timedelta(hours=6)
    assert incident.resolve_by == resolve_by + timedelta(hours=6)


@pytest.mark.django_db
def test_resolving_while_paused_counts_the_pause_and_judges_the_sla_fairly(manager):
    incident = drive_to(Status.IN_PROGRESS, by=manager, severity="high", now=T0)  # resolve within 3 days
    services.incident_pause(incident=incident, by=manager, reason="Waiting", now=T0 + timedelta(hours=1))
    incident = services.incident_resolve(
        incident=incident, by=manager, summary="Sorted.", root_cause="Rota.", now=T0 + timedelta(days=5)
    )
    assert incident.paused_for == timedelta(days=5) - timedelta(hours=1)
    assert incident.resolved_at <= incident.resolve_by
    assert "within the SLA" in incident.timeline.latest("at", "pk").body


@pytest.mark.django_db
def test_overdue_means_past_the_running_deadline(manager):
    incident = drive_to(Status.NEW, by=manager, severity="high", now=T0)  # respond within 4 h
    assert not incident.is_overdue(T0 + timedelta(hours=3))
    assert incident.is_overdue(T0 + timedelta(hours=5))
    assert Incident.objects.overdue(T0 + timedelta(hours=5)).filter(pk=incident.pk).exists()
    services.incident_acknowledge(incident=incident, by=manager, now=T0 + timedelta(hours=5))
    incident.refresh_from_db()
    # Acknowledged late, but the resolve clock (3 days) is still running.
    assert not incident.is_overdue(T0 + timedelta(hours=6))
    assert incident.is_overdue(T0 + timedelta(days=3, minutes=1))


@pytest.mark.django_db
def test_the_clock_badge_says_due_in_or_overdue_by(manager):
    incident = drive_to(Status.NEW, by=manager, severity="high", now=T0)
    template = Template("{% load recovery_tags %}{% sla_clock incident now %}")

    def render(now):
        return template.render(Context({"incident": incident, "now": now}))

    assert "Respond in 3 h" in render(T0 + timedelta(hours=1))
    assert "Response overdue by 1 h 30 min" in render(T0 + timedelta(hours=5, minutes=30))
    incident = services.incident_acknowledge(incident=incident, by=manager, now=T0 + timedelta(hours=1))
    assert "Due in 2 days 23 h" in render(T0 + timedelta(hours=1))
    incident = services.incident_pause(
        incident=incident, by=manager, reason="Waiting", now=T0 + timedelta(hours=2)
    )
    assert "Clock paused" in render(T0 + timedelta(days=9))


@pytest.mark.parametrize(
    ("delta", "text"),
    [
        (timedelta(seconds=20), "under a minute"),
        (timedelta(minutes=5), "5 min"),
        (timedelta(hours=2), "2 h"),
        (timedelta(hours=2, minutes=15), "2 h 15 min"),
        (timedelta(days=1), "1 day"),
        (timedelta(days=3, hours=4, minutes=59), "3 days 4 h"),
        (-timedelta(hours=1), "1 h"),
    ],
)
def test_durations_read_the_way_staff_speak(delta, text):
    assert humanize_duration(delta) == text
