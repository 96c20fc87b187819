"""Escalation: one step at a time, exactly once, even with two sweeps at once."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.exceptions import ValidationError

from recovery import services, tasks
from recovery.models import EscalationStep, FollowUp, Incident, SlaPolicy
from tests.concurrency import at_once
from tests.factories import UserFactory
from tests.recovery.conftest import drive_to

Status = Incident.Status
T0 = datetime(2026, 3, 2, 9, 0, tzinfo=ZoneInfo("Europe/London"))


@pytest.fixture
def managers(db):
    return [UserFactory(manager=True), UserFactory(manager=True)]


def escalations(incident: Incident) -> list[FollowUp]:
    return list(incident.timeline.filter(kind=FollowUp.Kind.ESCALATION).order_by("escalation_level"))


@pytest.mark.django_db
def test_escalation_happens_once_even_when_the_sweep_runs_twice(managers, mailoutbox):
    incident = drive_to(Status.NEW, by=managers[0], severity="high", now=T0)  # respond within 4 h
    with time_machine.travel(T0 + timedelta(hours=4, minutes=1), tick=False):
        assert tasks.escalate_overdue_incidents() == 1
        assert tasks.escalate_overdue_incidents() == 0
    incident.refresh_from_db()
    assert incident.escalation_level == 1
    assert len(mailoutbox) == len(managers)
    assert {m.to[0] for m in mailoutbox} == {m.email for m in managers}
    assert incident.reference in mailoutbox[0].subject
    assert "not acknowledged" in mailoutbox[0].subject
    [row] = escalations(incident)
    assert row.author is None
    assert "overdue by 1 min" in row.body
    assert "Manager" in row.body


@pytest.mark.django_db
def test_several_incidents_due_together_make_one_email_per_person(managers, mailoutbox):
    first = drive_to(Status.NEW, by=managers[0], severity="high", now=T0)
    second = drive_to(Status.NEW, by=managers[0], severity="critical", now=T0)
    assert services.incidents_escalate_due(now=T0 + timedelta(hours=5)) == 2
    assert len(mailoutbox) == len(managers)
    assert mailoutbox[0].subject == "2 incidents have run out of time (escalation)"
    assert first.reference in mailoutbox[0].body
    assert second.reference in mailoutbox[0].body


@pytest.mark.django_db
def test_nothing_escalates_before_the_deadline(managers, mailoutbox):
    drive_to(Status.NEW, by=managers[0], severity="high", now=T0)
    assert services.incidents_escalate_due(now=T0 + timedelta(hours=3, minutes=59)) == 0
    assert mailoutbox == []


@pytest.mark.django_db
def test_the_ladder_is_climbed_one_step_per_due_time(managers, mailoutbox):
    incident = drive_to(Status.NEW, by=managers[0], severity="high", now=T0)  # steps: +0 h, +4 h
    assert services.incidents_escalate_due(now=T0 + timedelta(hours=5)) == 1
    assert services.incidents_escalate_due(now=T0 + timedelta(hours=7)) == 0
    assert services.incidents_escalate_due(now=T0 + timedelta(hours=8)) == 1
    incident.refresh_from_db()
    assert incident.escalation_level == 2
    assert incident.next_escalation_at is None  # no third step
    assert services.incidents_escalate_due(now=T0 + timedelta(days=30)) == 0
    assert [r.escalation_level for r in escalations(incident)] == [1, 2]


@pytest.mark.django_db
def test_a_step_can_notify_one_person(managers, mailoutbox):
    lead = UserFactory(email="lead@practice.example")
    policy = SlaPolicy.objects.get(severity="low")
    services.sla_policy_update(
        policy=policy,
        respond_within=timedelta(hours=1),
        resolve_within=timedelta(days=1),
        steps=[services.StepSpec(after=timedelta(minutes=30), notify_user=lead)],
        by=managers[0],
    )
    drive_to(Status.NEW, by=managers[0], severity="low", now=T0)
    assert services.incidents_escalate_due(now=T0 + timedelta(hours=1, minutes=29)) == 0
    assert services.incidents_escalate_due(now=T0 + timedelta(hours=1, minutes=30)) == 1
    assert [m.to for m in mailoutbox] == [["lead@practice.example"]]


@pytest.mark.django_db
def test_acknowledging_stops_the_respond_escalation_and_the_resolve_clock_takes_over(managers):
    incident = drive_to(Status.NEW, by=managers[0], severity="high", now=T0)
    services.incident_acknowledge(incident=incident, by=managers[0], now=T0 + timedelta(hours=1))
    assert services.incidents_escalate_due(now=T0 + timedelta(hours=10)) == 0
    incident.refresh_from_db()
    assert incident.next_escalation_at == incident.resolve_by
    assert services.incidents_escalate_due(now=incident.resolve_by + timedelta(minutes=1)) == 1
    [row] = escalations(incident)
    assert "not resolved" in row.body


@pytest.mark.django_db
def test_a_paused_or_resolved_incident_never_escalates(managers):
    paused = drive_to(Status.PAUSED, by=managers[0], severity="critical", now=T0)
    resolved = drive_to(Status.RESOLVED, by=managers[0], severity="critical", now=T0)
    assert services.incidents_escalate_due(now=T0 + timedelta(days=60)) == 0
    assert escalations(paused) == escalations(resolved) == []


@pytest.mark.django_db
def test_a_refused_escalation_email_climbs_the_step_once_and_is_retried(
    managers, mailoutbox, refused_addresses, time_machine
):
    incident = drive_to(Status.NEW, by=managers[0], severity="high", now=T0)
    refused_addresses.update(m.email for m in managers)
    time_machine.move_to(T0 + timedelta(hours=5))
    assert services.incidents_escalate_due(now=T0 + timedelta(hours=5)) == 1
    assert services.incidents_escalate_due(now=T0 + timedelta(hours=5)) == 0
    incident.refresh_from_db()
    assert incident.escalation_level == 1
    assert len(escalations(incident)) == 1
    assert len(mailoutbox) == 0

    refused_addresses.clear()
    time_machine.move_to(T0 + timedelta(hours=5, minutes=1))
    assert len(mailoutbox) == 2  # one each, from the outbox's retry


@pytest.mark.django_db
def test_changing_the_ladder_reschedules_open_incidents(managers):
    incident = drive_to(Status.NEW, by=managers[0], severity="medium", now=T0)
    policy = SlaPolicy.objects.get(severity="medium")
    services.sla_policy_update(
        policy=policy,
        respond_within=policy.respond_within,
        resolve_within=policy.resolve_within,
        steps=[services.StepSpec(after=timedelta(hours=2), notify_role="Managers")],
        by=managers[0],
    )
    incident.refresh_from_db()
    assert incident.next_escalation_at == incident.respond_by + timedelta(hours=2)
    services.sla_policy_update(
        policy=policy,
        respond_within=policy.respond_within,
        resolve_within=policy.resolve_within,
        steps=[],
        by=managers[0],
    )
    incident.refresh_from_db()
    assert incident.next_escalation_at is None


def test_two_concurrent_sweeps_escalate_each_step_once(postgres, sla_defaults, mailoutbox):
    manager = UserFactory(manager=True)
    incidents = [drive_to(Status.NEW, by=manager, severity="high", now=T0) for _ in range(12)]
    now = T0 + timedelta(hours=5)

    def sweep() -> int:
        return services.incidents_escalate_due(now=now, batch=3)

    results = at_once(sweep, sweep)  # raises what either sweep raised
    assert sum(results) == len(incidents)
    # Each incident is in exactly one email (each sweep sends the manager one list per batch).
    bodies = "".join(m.body for m in mailoutbox)
    assert all(bodies.count(f"{i.reference} ·") == 1 for i in incidents)
    levels = Incident.objects.values_list("escalation_level", flat=True)
    assert set(levels) == {1}
    assert FollowUp.objects.filter(kind=FollowUp.Kind.ESCALATION).count() == len(incidents)


def test_a_task_retried_for_a_step_already_taken_sends_nothing(postgres, sla_defaults, mailoutbox):
    manager = UserFactory(manager=True)
    incident = drive_to(Status.NEW, by=manager, severity="high", now=T0)
    now = T0 + timedelta(hours=5)
    assert services.incident_escalate(incident_id=incident.pk, now=now)
    assert not services.incident_escalate(incident_id=incident.pk, now=now)
    assert len(mailoutbox) == 1


@pytest.mark.django_db
def test_nobody_responds_so_the_incident_escalates_over_time(client, staff, mailoutbox):
    """Time travel: a staff member logs a high-severity incident; nobody acknowledges it."""
    boss = UserFactory(manager=True, email="boss@practice.example")
    client.force_login(staff)
    from tests.factories import TouchpointFactory

    touchpoint = TouchpointFactory()
    with time_machine.travel(T0, tick=False):
        response = client.post(
            "/recovery/incidents/new/",
            {
                "description": "Patient's results were given to the wrong person on the phone.",
                "touchpoint": touchpoint.pk,
                "severity": "high",
                "category": "privacy",
            },
        )
        assert response.status_code == 302
        tasks.escalate_overdue_incidents()
    incident = Incident.objects.get()
    assert incident.escalation_level == 0
    assert mailoutbox == []
    with time_machine.travel(T0 + timedelta(hours=3, minutes=59), tick=False):
        tasks.escalate_overdue_incidents()
    assert mailoutbox == []
    with time_machine.travel(T0 + timedelta(hours=4, minutes=3), tick=False):
        tasks.escalate_overdue_incidents()
    incident.refresh_from_db()
    assert incident.escalation_level == 1
    assert [m.to for m in mailoutbox] == [[boss.email]]
    with time_machine.travel(T0 + timedelta(hours=8, minutes=3), tick=False):
        tasks.escalate_overdue_incidents()
        tasks.escalate_overdue_incidents()
    incident.refresh_from_db()
    assert incident.escalation_level == 2
    assert len(mailoutbox) == 2
    page = client.get(f"/recovery/incidents/{incident.reference}/").content.decode()
    assert "Escalated · level 2" in page


@pytest.mark.django_db
def test_escalation_steps_need_a_role_or_a_person_not_both(managers):
    policy = SlaPolicy.objects.get(severity="low")
    with pytest.raises(ValidationError):
        services.sla_policy_update(
            policy=policy,
            respond_within=timedelta(hours=1),
            resolve_within=timedelta(days=1),
            steps=[services.StepSpec(after=timedelta(0), notify_role="Managers", notify_user=managers[0])],
            by=managers[0],
        )
    assert EscalationStep.objects.filter(policy=policy).count() == 2
