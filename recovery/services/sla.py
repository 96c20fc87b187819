"""SLA policies: the promise per severity (the group's, and a site's own where it has one), the
escalation ladder, and when the next step falls due."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q, QuerySet

from recovery.durations import humanize_duration
from recovery.models import (
    EscalationStep,
    Incident,
    SlaPolicy,
)
from recovery.vocabulary import Severity
from servicedesk.audit import Action, changes, log_action
from servicedesk.models import Location, User
from servicedesk.opening_hours import ALWAYS_OPEN, OpeningClock
from servicedesk.roles import Role

logger = logging.getLogger(__name__)


# The practice's promise when nobody has set a policy yet: (respond within, resolve within).
DEFAULT_SLA: dict[str, tuple[timedelta, timedelta]] = {
    Severity.CRITICAL: (timedelta(minutes=30), timedelta(days=1)),
    Severity.HIGH: (timedelta(hours=4), timedelta(days=3)),
    Severity.MEDIUM: (timedelta(days=1), timedelta(days=7)),
    Severity.LOW: (timedelta(days=3), timedelta(days=14)),
}


def _get_or_create_policy(severity: str) -> tuple[SlaPolicy, bool]:
    """The group's policy for the severity, created with the default promise when there is none yet."""
    respond, resolve = DEFAULT_SLA[Severity(severity)]
    defaults = {
        "respond_within": respond,
        "resolve_within": resolve,
        # Only a critical incident is worked through the night; the others fall due in opening
        # hours (a high one logged at 23:00 is due at noon, not at 03:00). No opening hours set:
        # every hour counts.
        "opening_hours_only": severity != Severity.CRITICAL,
    }
    return SlaPolicy.objects.get_or_create(severity=severity, location=None, defaults=defaults)


Key = tuple[str, int | None]  # (severity, site id or None)


def policies_in_force(keys: set[Key]) -> dict[Key, SlaPolicy]:
    """The policy in force for each (severity, site): the site's own policy for that severity if it
    has one, else the group's. The one place that rule lives; one query for any number of keys (plus
    creating a group policy nobody has set yet, with the default promise)."""
    severities = {severity for severity, _site in keys}
    sites = {site for _severity, site in keys if site is not None}
    found = {
        (policy.severity, policy.location_id): policy
        for policy in SlaPolicy.objects.filter(severity__in=severities).filter(
            Q(location__isnull=True) | Q(location__in=sites)
        )
    }
    in_force = {}
    for severity, site in keys:
        policy = found.get((severity, site)) if site is not None else None
        if policy is None:
            if (severity, None) not in found:
                found[(severity, None)] = _get_or_create_policy(severity)[0]
            policy = found[(severity, None)]
        in_force[(severity, site)] = policy
    return in_force


def policy_for(severity: str, location_id: int | None = None) -> SlaPolicy:
    """The policy in force for an incident of ``severity`` at site ``location_id`` (None: the group's)."""
    return policies_in_force({(severity, location_id)})[(severity, location_id)]


def policy_for_incident(incident: Incident) -> SlaPolicy:
    """The policy in force for ``incident``: its site's own for its severity, else the group's."""
    return policy_for(incident.severity, incident.location_id)


@transaction.atomic
def sla_policies_ensure_defaults() -> None:
    """Create any missing severity's group policy with the default promise and a two-step ladder to
    managers (what the data migration gives a new practice)."""
    for severity, (respond, _resolve) in DEFAULT_SLA.items():
        policy, created = _get_or_create_policy(severity)
        if created:
            EscalationStep.objects.bulk_create(
                [
                    EscalationStep(policy=policy, level=1, after=timedelta(0), notify_role=Role.MANAGER),
                    EscalationStep(policy=policy, level=2, after=respond, notify_role=Role.MANAGER),
                ]
            )


def clock_for(policy: SlaPolicy) -> OpeningClock:
    """The clock a policy's promises run on: opening hours, or every hour."""
    return OpeningClock.current() if policy.opening_hours_only else ALWAYS_OPEN


def steps_by_level(policy: SlaPolicy) -> dict[int, EscalationStep]:
    """The policy's escalation ladder, by level."""
    steps = EscalationStep.objects.filter(policy=policy).select_related("notify_user")
    return {step.level: _with_policy(step, policy) for step in steps}


def _with_policy(step: EscalationStep, policy: SlaPolicy) -> EscalationStep:
    step.policy = policy  # already read: no query when the step's clock or label asks for it
    return step


class PolicyBook:
    """The policy in force, its ladder and its clock for each incident of a batch (a sweep, a
    reschedule), read in a fixed number of queries however many incidents, sites and severities:
    the policies, their steps, and the opening hours once. Keyed by policy id, since two sites'
    incidents of one severity may run on different policies."""

    def __init__(self, incidents: Iterable[Incident]) -> None:
        self._in_force = policies_in_force({(i.severity, i.location_id) for i in incidents})
        policies = {policy.pk: policy for policy in self._in_force.values()}
        self._ladders: dict[int, dict[int, EscalationStep]] = {pk: {} for pk in policies}
        for step in EscalationStep.objects.filter(policy__in=policies).select_related("notify_user"):
            self._ladders[step.policy_id][step.level] = _with_policy(step, policies[step.policy_id])
        practice = (
            OpeningClock.current() if any(p.opening_hours_only for p in policies.values()) else ALWAYS_OPEN
        )
        self._clocks = {pk: practice if p.opening_hours_only else ALWAYS_OPEN for pk, p in policies.items()}

    def policy(self, incident: Incident) -> SlaPolicy:
        return self._in_force[(incident.severity, incident.location_id)]

    def ladder(self, incident: Incident) -> dict[int, EscalationStep]:
        return self._ladders[self.policy(incident).pk]

    def clock(self, incident: Incident) -> OpeningClock:
        return self._clocks[self.policy(incident).pk]

    def next_escalation_at(self, incident: Incident) -> datetime | None:
        return next_escalation_at(incident, self.ladder(incident), self.clock(incident))


def next_escalation_at(
    incident: Incident, steps: dict[int, EscalationStep], clock: OpeningClock | None = None
) -> datetime | None:
    """When the incident's next escalation step falls due, from its running deadline; None if never.

    A step's delay runs on the policy's clock (``clock``, else read from the step's policy).
    """
    if incident.status not in Incident.RUNNING_STATUSES:
        return None
    step = steps.get(incident.escalation_level + 1)
    if step is None:
        return None
    running = incident.running_deadline()
    if running is None:  # running statuses are open, so this is only a guard
        return None
    return (clock or clock_for(step.policy)).add(running[1], step.after)


def reschedule(
    incident: Incident, policy: SlaPolicy | None = None, clock: OpeningClock | None = None
) -> None:
    """Set when the incident's next escalation step falls due, on the ladder of the policy in force
    (``policy``, ``clock``: that policy and its clock, if at hand)."""
    policy = policy or policy_for_incident(incident)
    incident.next_escalation_at = next_escalation_at(incident, steps_by_level(policy), clock)


def end_pause(incident: Incident, now: datetime, clock: OpeningClock | None = None) -> timedelta:
    """Stop the pause clock: deadlines move later by the time spent waiting on the patient (on an
    opening-hours policy, by the open time that passed while waiting). ``clock``: the policy's, if at
    hand; else it is read."""
    paused_at = incident.paused_at
    if paused_at is None:  # not paused: nothing to add back
        return timedelta(0)
    waited = max(now - paused_at, timedelta(0))
    clock = clock or clock_for(policy_for_incident(incident))
    counted = clock.between(paused_at, now)
    incident.paused_for += waited
    if incident.acknowledged_at is None:  # defensive: pausing needs an acknowledgement
        incident.respond_by = clock.add(incident.respond_by, counted)
    incident.resolve_by = clock.add(incident.resolve_by, counted)
    incident.paused_at = None
    return waited


@dataclass(frozen=True)
class StepSpec:
    after: timedelta
    notify_role: str = ""
    notify_user: User | None = None


def _validate(respond_within: timedelta, resolve_within: timedelta, steps: list[StepSpec]) -> None:
    if respond_within <= timedelta(0):
        raise ValidationError({"respond_within": "Give a time longer than zero."})
    if resolve_within < respond_within:
        raise ValidationError({"resolve_within": "Resolving cannot be due before the first response."})
    for spec in steps:
        if bool(spec.notify_role) == bool(spec.notify_user):
            raise ValidationError("Each escalation step notifies either a role or one person.")
        if spec.after < timedelta(0):
            raise ValidationError("An escalation step cannot fire before the deadline.")


def policy_label(policy: SlaPolicy) -> str:
    """How the audit log names a policy: the group's by its severity, a site's with the site."""
    name = f"the SLA policy “{policy.get_severity_display()}”"
    return name if policy.location_id is None else f"{name} for {policy.location}"


def governed_by(policy: SlaPolicy) -> QuerySet[Incident]:
    """The running incidents ``policy`` is in force for: its site's of its severity; for the group's
    policy, those of its severity at every site without its own policy for it (and at no site)."""
    running = Incident.objects.running().filter(severity=policy.severity)
    if policy.location_id is not None:
        return running.filter(location_id=policy.location_id)
    overridden = SlaPolicy.objects.filter(severity=policy.severity, location__isnull=False)
    return running.exclude(location__in=overridden.values("location_id"))


def _reschedule_all(incidents: QuerySet[Incident]) -> int:
    """Recompute the next escalation moment of each incident on the policy now in force for it, in
    batches (one read of policies, ladders and clocks per batch). Deadlines are left alone. Returns
    how many incidents were rescheduled."""
    batch: list[Incident] = []
    done = 0

    def flush() -> None:
        nonlocal done
        done += len(batch)
        book = PolicyBook(batch)
        for incident in batch:
            incident.next_escalation_at = book.next_escalation_at(incident)
        Incident.objects.bulk_update(batch, ["next_escalation_at"])
        batch.clear()

    for incident in incidents.iterator(chunk_size=2000):
        batch.append(incident)
        if len(batch) >= 2000:
            flush()
    if batch:
        flush()
    return done


@transaction.atomic
def sla_policy_update(
    *,
    policy: SlaPolicy,
    respond_within: timedelta,
    resolve_within: timedelta,
    steps: list[StepSpec],
    by: User,
    opening_hours_only: bool | None = None,
) -> SlaPolicy:
    """Change a policy's promise and escalation ladder (the group's, or a site's own).

    Open incidents keep the deadlines they were given (that was the promise); the next escalation
    moment of the running incidents this policy governs is recomputed from the new ladder. The
    group's policy does not govern the incidents at sites with their own for that severity.
    """
    _validate(respond_within, resolve_within, steps)
    policy = SlaPolicy.objects.select_for_update(of=("self",)).select_related("location").get(pk=policy.pk)
    before = _policy_facts(policy)
    _apply(policy, respond_within, resolve_within, steps, opening_hours_only)
    if changed := changes(before, _policy_facts(policy)):
        log_action(policy, Action.CHANGED, by, changed, label=policy_label(policy))
    return policy


def _apply(
    policy: SlaPolicy,
    respond_within: timedelta,
    resolve_within: timedelta,
    steps: list[StepSpec],
    opening_hours_only: bool | None,
) -> None:
    policy.respond_within, policy.resolve_within = respond_within, resolve_within
    if opening_hours_only is not None:
        policy.opening_hours_only = opening_hours_only
    policy.save()
    policy.steps.all().delete()
    EscalationStep.objects.bulk_create(
        EscalationStep(
            policy=policy, level=n, after=s.after, notify_role=s.notify_role, notify_user=s.notify_user
        )
        for n, s in enumerate(steps, start=1)
    )
    _reschedule_all(governed_by(policy))


@transaction.atomic
def sla_site_policy_save(
    *,
    location: Location,
    severity: str,
    respond_within: timedelta,
    resolve_within: timedelta,
    steps: list[StepSpec],
    by: User,
    opening_hours_only: bool | None = None,
) -> SlaPolicy:
    """Save a site's own policy for a severity, creating it (an override of the group's) if the site
    has none yet. From then on it governs the site's incidents of that severity: the running ones
    keep their deadlines and climb its ladder from their next step."""
    severity = Severity(severity)
    _validate(respond_within, resolve_within, steps)
    group = policy_for(severity)
    policy, created = SlaPolicy.objects.select_for_update().get_or_create(
        severity=severity,
        location=location,
        defaults={
            "respond_within": group.respond_within,
            "resolve_within": group.resolve_within,
            "opening_hours_only": group.opening_hours_only,
        },
    )
    if not created:
        return sla_policy_update(
            policy=policy,
            respond_within=respond_within,
            resolve_within=resolve_within,
            steps=steps,
            by=by,
            opening_hours_only=opening_hours_only,
        )
    _apply(policy, respond_within, resolve_within, steps, opening_hours_only)
    log_action(policy, Action.CREATED, by, _policy_facts(policy), label=policy_label(policy))
    logger.info("site %s has its own %s SLA policy", location.pk, severity)
    return policy


@transaction.atomic
def sla_site_policy_remove(*, policy: SlaPolicy, by: User) -> int:
    """Use the group's policy again at the policy's site: delete the site's own and put its running
    incidents of that severity back on the group's ladder. Their deadlines stand (that was the
    promise); only when their next escalation step falls due is recomputed. Returns how many
    running incidents were rescheduled."""
    policy = SlaPolicy.objects.select_for_update(of=("self",)).select_related("location").get(pk=policy.pk)
    if policy.location_id is None:
        raise ValidationError("The group's own policy cannot be removed, only changed.")
    incidents = governed_by(policy)  # read after the delete: the group's policy is then in force
    log_action(policy, Action.REMOVED, by, _policy_facts(policy), label=policy_label(policy))
    policy.delete()  # its escalation steps go with it
    moved = _reschedule_all(incidents)
    logger.info("site %s uses the group's %s SLA policy again", policy.location_id, policy.severity)
    return moved


def _policy_facts(policy: SlaPolicy) -> dict[str, str]:
    """A policy as a manager reads it, to say in the audit log what a change changed."""
    steps = policy.steps.select_related("notify_user").order_by("level")
    return {
        "respond within": humanize_duration(policy.respond_within),
        "resolve within": humanize_duration(policy.resolve_within),
        "opening hours only": "yes" if policy.opening_hours_only else "no",
        "escalation": "; ".join(
            f"{humanize_duration(step.after)} late: {step.notify_user or step.get_notify_role_display()}"
            for step in steps
        )
        or "none",
    }
