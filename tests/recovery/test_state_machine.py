"""Every allowed and every refused transition, decided by the service (not only the UI)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from recovery import services
from recovery.models import FollowUp, Incident
from tests.recovery.conftest import drive_to

Status = Incident.Status

ALL_STATUSES = list(Status.values)


def run(action: str, incident: Incident, by, now):
    calls = {
        "acknowledge": lambda: services.incident_acknowledge(incident=incident, by=by, now=now),
        "start": lambda: services.incident_start(incident=incident, by=by, now=now),
        "pause": lambda: services.incident_pause(incident=incident, by=by, reason="Awaiting reply", now=now),
        "resume": lambda: services.incident_resume(incident=incident, by=by, now=now),
        "resolve": lambda: services.incident_resolve(
            incident=incident, by=by, summary="Called and apologised.", root_cause="Rota gap.", now=now
        ),
        "close": lambda: services.incident_close(incident=incident, by=by, now=now),
        "reopen": lambda: services.incident_reopen(incident=incident, by=by, reason="Still unhappy", now=now),
    }
    return calls[action]()


CASES = [(status, action) for status in ALL_STATUSES for action in services.TRANSITIONS]


@pytest.mark.django_db
@pytest.mark.parametrize(("status", "action"), CASES)
def test_each_transition_is_allowed_exactly_from_the_listed_statuses(status, action, manager):
    incident = drive_to(status, by=manager)
    transition = services.TRANSITIONS[action]
    rows_before = incident.timeline.count()
    now = timezone.now() + timedelta(hours=3)
    if status in transition.allowed_from:
        result = run(action, incident, manager, now)
        assert result.status == transition.to
        incident.refresh_from_db()
        assert incident.status == transition.to
        assert incident.timeline.count() == rows_before + 1
        last = incident.timeline.latest("at", "pk")
        assert last.kind == FollowUp.Kind.STATUS
        assert last.author == manager
        assert last.changes["status"] == [status, transition.to]
    else:
        with pytest.raises(services.TransitionRefused) as refused:
            run(action, incident, manager, now)
        assert incident.reference in refused.value.messages[0]
        assert "cannot be" in refused.value.messages[0]
        incident.refresh_from_db()
        assert incident.status == status
        assert incident.timeline.count() == rows_before


def test_the_state_machine_covers_every_status():
    reachable = {t.to for t in services.TRANSITIONS.values()} | {Status.NEW}
    assert reachable == set(ALL_STATUSES)
    leavable = set().union(*(t.allowed_from for t in services.TRANSITIONS.values()))
    assert leavable == set(ALL_STATUSES)


@pytest.mark.django_db
def test_resolving_needs_a_summary_and_a_root_cause(manager):
    incident = drive_to(Status.IN_PROGRESS, by=manager)
    with pytest.raises(ValidationError) as error:
        services.incident_resolve(
            incident=incident, by=manager, summary=" ", root_cause="", now=timezone.now()
        )
    assert set(error.value.message_dict) == {"summary", "root_cause"}
    incident.refresh_from_db()
    assert incident.status == Status.IN_PROGRESS


@pytest.mark.django_db
def test_resolving_a_new_incident_is_refused_with_a_hint_to_acknowledge(manager):
    incident = drive_to(Status.NEW, by=manager)
    with pytest.raises(services.TransitionRefused, match="Acknowledge it first"):
        services.incident_resolve(
            incident=incident, by=manager, summary="Sorted.", root_cause="Typo.", now=timezone.now()
        )


@pytest.mark.django_db
def test_reopening_is_counted_and_gives_a_fresh_resolve_clock(manager):
    incident = drive_to(Status.CLOSED, by=manager)
    later = timezone.now() + timedelta(days=30)
    incident = services.incident_reopen(incident=incident, by=manager, reason="Happened again", now=later)
    incident = services.incident_resolve(
        incident=incident, by=manager, summary="Fixed properly.", root_cause="Rota.", now=later
    )
    incident = services.incident_reopen(incident=incident, by=manager, reason="And again", now=later)
    incident.refresh_from_db()
    assert incident.reopen_count == 2
    assert incident.resolved_at is None
    assert incident.closed_at is None
    assert incident.resolve_by == later + services.policy_for(incident.severity).resolve_within
    assert "Reopened (time 2)" in incident.timeline.latest("at", "pk").body


@pytest.mark.django_db
def test_reopening_needs_a_reason(manager):
    incident = drive_to(Status.RESOLVED, by=manager)
    with pytest.raises(ValidationError):
        services.incident_reopen(incident=incident, by=manager, reason="", now=timezone.now())


@pytest.mark.django_db
def test_a_stale_copy_cannot_acknowledge_twice(manager, staff):
    incident = drive_to(Status.NEW, by=manager)
    stale = Incident.objects.get(pk=incident.pk)
    services.incident_acknowledge(incident=incident, by=manager, now=timezone.now())
    with pytest.raises(services.TransitionRefused):
        services.incident_acknowledge(incident=stale, by=staff, now=timezone.now())
    assert incident.timeline.filter(kind=FollowUp.Kind.STATUS).count() == 1


@pytest.mark.django_db
def test_a_closed_incident_cannot_be_assigned_or_get_a_contact_logged(manager, staff):
    incident = drive_to(Status.CLOSED, by=manager)
    with pytest.raises(services.TransitionRefused, match="reopen it"):
        services.incident_assign(incident=incident, assignee=staff, by=manager, now=timezone.now())
    with pytest.raises(services.TransitionRefused, match="reopen it"):
        services.incident_log_contact(
            incident=incident, by=manager, channel="phone", outcome="apologised", body="", now=timezone.now()
        )
