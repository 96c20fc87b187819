"""SLA policies per site: a site's own policy for a severity governs its incidents, the group's the rest."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine

from recovery import services
from recovery.models import FollowUp, Incident, SlaPolicy
from servicedesk.security.models import AuditEvent
from tests.factories import LocationFactory, TouchpointFactory, UserFactory, open_incident

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=ZoneInfo("Europe/London"))  # a Monday morning
StepSpec = services.StepSpec


@pytest.fixture
def group_manager(db):
    return UserFactory(manager=True, email="group@practice.example")


@pytest.fixture
def riverside(db):
    return LocationFactory(name="Riverside")


@pytest.fixture
def hilltop(db):
    return LocationFactory(name="Hilltop")


@pytest.fixture
def lead(db, riverside):
    return UserFactory(location=riverside, email="riverside-lead@practice.example")


def override(site, by, *, respond=timedelta(hours=1), after=timedelta(minutes=30), person=None) -> SlaPolicy:
    """Give ``site`` its own policy for high incidents: respond within 1 h, one step 30 min late."""
    return services.sla_site_policy_save(
        location=site,
        severity="high",
        respond_within=respond,
        resolve_within=timedelta(days=1),
        steps=[
            StepSpec(after=after, notify_user=person)
            if person
            else StepSpec(after=after, notify_role="Managers")
        ],
        by=by,
        opening_hours_only=False,
    )


def high_at(site, now: datetime = T0) -> Incident:
    return open_incident(severity="high", touchpoint=TouchpointFactory(location=site), now=now)


# --- The policy in force ---------------------------------------------------------------------------


@pytest.mark.django_db
def test_an_incident_at_a_site_with_its_own_policy_gets_its_deadlines(group_manager, riverside, hilltop):
    override(riverside, group_manager)
    at_riverside, at_hilltop = high_at(riverside), high_at(hilltop)
    assert at_riverside.respond_by == T0 + timedelta(hours=1)
    assert at_riverside.resolve_by == T0 + timedelta(days=1)
    assert at_riverside.next_escalation_at == T0 + timedelta(hours=1, minutes=30)
    group = services.policy_for("high")
    assert at_hilltop.respond_by == T0 + group.respond_within  # 4 h: no opening hours set, every hour counts
    assert at_hilltop.resolve_by == T0 + group.resolve_within
    assert services.policy_for_incident(at_riverside).location == riverside
    assert services.policy_for_incident(at_hilltop) == group


@pytest.mark.django_db
def test_a_sites_own_policy_for_one_severity_leaves_the_others_to_the_group(group_manager, riverside):
    override(riverside, group_manager)
    medium = open_incident(severity="medium", touchpoint=TouchpointFactory(location=riverside), now=T0)
    assert services.policy_for_incident(medium) == services.policy_for("medium")
    assert medium.respond_by == T0 + services.policy_for("medium").respond_within


@pytest.mark.django_db
def test_an_override_starts_as_a_copy_of_the_groups_unless_told_otherwise(group_manager, riverside):
    group = services.policy_for("high")
    own = services.sla_site_policy_save(
        location=riverside,
        severity="high",
        respond_within=group.respond_within,
        resolve_within=group.resolve_within,
        steps=[StepSpec(after=s.after, notify_role=s.notify_role) for s in group.steps.order_by("level")],
        by=group_manager,
    )
    assert (own.respond_within, own.resolve_within, own.opening_hours_only) == (
        group.respond_within,
        group.resolve_within,
        group.opening_hours_only,
    )
    assert [(s.level, s.after, s.notify_role) for s in own.steps.order_by("level")] == [
        (s.level, s.after, s.notify_role) for s in group.steps.order_by("level")
    ]
    assert SlaPolicy.objects.filter(severity="high").count() == 2


@pytest.mark.django_db
def test_reopening_at_a_site_with_its_own_policy_gives_its_resolve_time(group_manager, riverside):
    override(riverside, group_manager)
    incident = high_at(riverside)
    incident = services.incident_acknowledge(
        incident=incident, by=group_manager, now=T0 + timedelta(minutes=5)
    )
    incident = services.incident_resolve(
        incident=incident,
        by=group_manager,
        summary="Rebooked.",
        root_cause="Overran.",
        now=T0 + timedelta(hours=1),
    )
    later = T0 + timedelta(days=3)
    incident = services.incident_reopen(incident=incident, by=group_manager, reason="Not fixed", now=later)
    assert incident.resolve_by == later + timedelta(days=1)


@pytest.mark.django_db
def test_resuming_at_a_site_with_its_own_policy_climbs_its_ladder(group_manager, riverside):
    override(riverside, group_manager, after=timedelta(minutes=45))
    incident = high_at(riverside)
    incident = services.incident_acknowledge(
        incident=incident, by=group_manager, now=T0 + timedelta(minutes=5)
    )
    incident = services.incident_pause(
        incident=incident, by=group_manager, reason="Call back", now=T0 + timedelta(hours=1)
    )
    incident = services.incident_resume(incident=incident, by=group_manager, now=T0 + timedelta(hours=3))
    assert incident.resolve_by == T0 + timedelta(days=1, hours=2)
    assert incident.next_escalation_at == incident.resolve_by + timedelta(minutes=45)


# --- The sweep ---------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_sweep_escalates_on_the_sites_own_ladder(group_manager, riverside, hilltop, lead, mailoutbox):
    override(riverside, group_manager, person=lead)
    at_riverside, at_hilltop = high_at(riverside), high_at(hilltop)
    # 1 h 30: Riverside's step is due (1 h + 30 min); Hilltop's promise (4 h) still runs.
    assert services.incidents_escalate_due(now=T0 + timedelta(hours=1, minutes=30)) == 1
    assert [m.to for m in mailoutbox] == [[lead.email]]
    row = at_riverside.timeline.get(kind=FollowUp.Kind.ESCALATION)
    assert str(lead) in row.body
    at_riverside.refresh_from_db()
    assert at_riverside.escalation_level == 1
    assert at_riverside.next_escalation_at is None  # the site's ladder has one step
    # 4 h: Hilltop's incident climbs the group's first step, to the group's managers.
    assert services.incidents_escalate_due(now=T0 + timedelta(hours=4)) == 1
    assert mailoutbox[-1].to == [group_manager.email]
    assert not at_hilltop.timeline.filter(kind=FollowUp.Kind.ESCALATION, body__contains=str(lead)).exists()


@pytest.mark.django_db
def test_the_sweep_at_a_site_with_its_own_policy_notifies_once_when_run_twice(
    group_manager, riverside, lead, mailoutbox
):
    override(riverside, group_manager, person=lead)
    incident = high_at(riverside)
    with time_machine.travel(T0 + timedelta(hours=2), tick=False):
        assert services.incidents_escalate_due(now=T0 + timedelta(hours=2)) == 1
        assert services.incidents_escalate_due(now=T0 + timedelta(hours=2)) == 0
    assert len(mailoutbox) == 1
    assert incident.timeline.filter(kind=FollowUp.Kind.ESCALATION).count() == 1


@pytest.mark.django_db
def test_the_sweep_reads_policies_in_a_fixed_number_of_queries(
    group_manager, riverside, hilltop, count_queries
):
    """Three sites, one with its own policy: the sweep's cost does not grow with the incidents."""
    dale = LocationFactory(name="Dale")
    override(riverside, group_manager)
    sites = (riverside, hilltop, dale)

    def sweep_over(per_site: int, start: datetime) -> int:
        """Open ``per_site`` high incidents at each site; 5 h later every one is overdue and climbs its
        policy's first step (to the group's managers, on either ladder)."""
        for site in sites:
            for _ in range(per_site):
                high_at(site, now=start)
        with time_machine.travel(start + timedelta(hours=5), tick=False):
            return count_queries(lambda: services.incidents_escalate_due(now=start + timedelta(hours=5)))

    small = sweep_over(1, T0)
    # The first three step out of the way (their next steps would fall due in the second sweep too).
    Incident.objects.update(next_escalation_at=None)
    large = sweep_over(4, T0 + timedelta(days=1))
    assert Incident.objects.filter(escalation_level=1).count() == 3 + 12
    # The incidents, the policies in force, their steps, the opening hours (2), the claim, the
    # managers' addresses, the timeline rows, one outbox message, and the savepoints around them.
    assert large == small == 17


# --- Changing and removing -----------------------------------------------------------------------------


@pytest.mark.django_db
def test_changing_the_groups_policy_leaves_sites_with_their_own_alone(group_manager, riverside, hilltop):
    override(riverside, group_manager)
    at_riverside, at_hilltop = high_at(riverside), high_at(hilltop)
    services.sla_policy_update(
        policy=services.policy_for("high"),
        respond_within=timedelta(hours=2),
        resolve_within=timedelta(days=2),
        steps=[StepSpec(after=timedelta(hours=2), notify_role="Managers")],
        by=group_manager,
    )
    at_riverside.refresh_from_db()
    at_hilltop.refresh_from_db()
    assert at_riverside.next_escalation_at == T0 + timedelta(hours=1, minutes=30)  # its own ladder still
    assert at_riverside.respond_by == T0 + timedelta(hours=1)
    assert at_hilltop.respond_by == T0 + timedelta(hours=4)  # open incidents keep their deadlines
    assert at_hilltop.next_escalation_at == at_hilltop.respond_by + timedelta(hours=2)  # the new ladder


@pytest.mark.django_db
def test_changing_a_sites_own_policy_reschedules_only_that_sites_incidents(group_manager, riverside, hilltop):
    override(riverside, group_manager)
    at_riverside, at_hilltop = high_at(riverside), high_at(hilltop)
    hilltop_next = at_hilltop.next_escalation_at
    override(riverside, group_manager, after=timedelta(hours=3))
    at_riverside.refresh_from_db()
    at_hilltop.refresh_from_db()
    assert at_riverside.next_escalation_at == T0 + timedelta(hours=4)
    assert at_hilltop.next_escalation_at == hilltop_next
    assert SlaPolicy.objects.filter(location=riverside).count() == 1


@pytest.mark.django_db
def test_using_the_groups_policy_again_reschedules_the_sites_running_incidents(
    group_manager, riverside, hilltop
):
    own = override(riverside, group_manager)
    incident = high_at(riverside)
    assert incident.next_escalation_at == T0 + timedelta(hours=1, minutes=30)
    assert services.sla_site_policy_remove(policy=own, by=group_manager) == 1
    incident.refresh_from_db()
    assert incident.respond_by == T0 + timedelta(hours=1)  # the promise made stands
    assert incident.next_escalation_at == incident.respond_by  # the group's first step: when it is missed
    assert not SlaPolicy.objects.filter(location=riverside).exists()
    assert services.policy_for_incident(incident) == services.policy_for("high")
    later = high_at(riverside, now=T0 + timedelta(hours=1))
    assert later.respond_by == T0 + timedelta(hours=5)  # new incidents get the group's promise


@pytest.mark.django_db
def test_the_groups_own_policy_cannot_be_removed(group_manager):
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError):
        services.sla_site_policy_remove(policy=services.policy_for("high"), by=group_manager)
    assert SlaPolicy.objects.filter(severity="high").exists()


@pytest.mark.django_db
def test_a_refused_override_writes_nothing(group_manager, riverside):
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError):
        override(riverside, group_manager, respond=timedelta(days=3))  # resolves before it responds
    assert not SlaPolicy.objects.filter(location=riverside).exists()
    assert not AuditEvent.objects.filter(target_type="recovery.slapolicy").exists()


@pytest.mark.django_db
def test_overriding_and_removing_are_audited_naming_the_site(group_manager, riverside):
    own = override(riverside, group_manager)
    override(riverside, group_manager, after=timedelta(hours=1))
    services.sla_site_policy_remove(policy=own, by=group_manager)
    events = list(
        AuditEvent.objects.filter(target_type="recovery.slapolicy")
        .order_by("pk")
        .values_list("action", "target_label", "actor")
    )
    label = "the SLA policy “High” for Riverside"
    assert events == [
        ("created", label, group_manager.pk),
        ("changed", label, group_manager.pk),
        ("removed", label, group_manager.pk),
    ]
