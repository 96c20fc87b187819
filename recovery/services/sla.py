"""SLA policies: the promise per severity, the escalation ladder, and when the next step falls due."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.core.exceptions import ValidationError
from django.db import transaction

from recovery.durations import humanize_duration
from recovery.models import (
    EscalationStep,
    Incident,
    SlaPolicy,
)
from recovery.vocabulary import Severity
from servicedesk.audit import Action, changes, log_action
from servicedesk.models import User
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
    """The severity's policy, created with the default promise when there is none yet."""
    respond, resolve = DEFAULT_SLA[Severity(severity)]
    defaults = {
        "respond_within": respond,
        "resolve_within": resolve,
        # Only a critical incident is worked through the night; the others fall due in opening
        # hours (a high one logged at 23:00 is due at noon, not at 03:00). No opening hours set:
        # every hour counts.
        "opening_hours_only": severity != Severity.CRITICAL,
    }
    return SlaPolicy.objects.get_or_create(severity=severity, defaults=defaults)


def policy_for(severity: str) -> SlaPolicy:
    return _get_or_create_policy(severity)[0]


@transaction.atomic
def sla_policies_ensure_defaults() -> None:
    """Create any missing severity's policy with the default promise and a two-step ladder to managers
    (what the data migration gives a new practice)."""
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


def clocks_by_severity(severities: set[str]) -> dict[str, OpeningClock]:
    """``clock_for`` each severity's policy, reading the opening hours at most once (for a sweep)."""
    policies = {severity: policy_for(severity) for severity in severities}
    if not any(p.opening_hours_only for p in policies.values()):
        return dict.fromkeys(policies, ALWAYS_OPEN)
    practice = OpeningClock.current()
    return {severity: practice if p.opening_hours_only else ALWAYS_OPEN for severity, p in policies.items()}


def steps_by_level(severity: str) -> dict[int, EscalationStep]:
    return {
        step.level: step
        for step in EscalationStep.objects.filter(policy__severity=severity).select_related(
            "notify_user", "policy"
        )
    }


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


def reschedule(incident: Incident, clock: OpeningClock | None = None) -> None:
    """Set when the incident's next escalation step falls due (``clock``: its policy's, if at hand)."""
    incident.next_escalation_at = next_escalation_at(incident, steps_by_level(incident.severity), clock)


def end_pause(incident: Incident, now: datetime, clock: OpeningClock | None = None) -> timedelta:
    """Stop the pause clock: deadlines move later by the time spent waiting on the patient (on an
    opening-hours policy, by the open time that passed while waiting). ``clock``: the policy's, if at
    hand; else it is read."""
    paused_at = incident.paused_at
    if paused_at is None:  # not paused: nothing to add back
        return timedelta(0)
    waited = max(now - paused_at, timedelta(0))
    clock = clock or clock_for(policy_for(incident.severity))
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
    """Change a severity's promise and escalation ladder.

    Open incidents keep the deadlines they were given (that was the promise); their next
    escalation moment is recomputed from the new ladder.
    """
    if respond_within <= timedelta(0):
        raise ValidationError({"respond_within": "Give a time longer than zero."})
    if resolve_within < respond_within:
        raise ValidationError({"resolve_within": "Resolving cannot be due before the first response."})
    for spec in steps:
        if bool(spec.notify_role) == bool(spec.notify_user):
            raise ValidationError("Each escalation step notifies either a role or one person.")
        if spec.after < timedelta(0):
            raise ValidationError("An escalation step cannot fire before the deadline.")
    policy = SlaPolicy.objects.select_for_update().get(pk=policy.pk)
    before = _policy_facts(policy)
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
    ladder, clock = steps_by_level(policy.severity), clock_for(policy)
    batch = []
    for incident in Incident.objects.running().filter(severity=policy.severity).iterator(chunk_size=2000):
        incident.next_escalation_at = next_escalation_at(incident, ladder, clock)
        batch.append(incident)
        if len(batch) >= 2000:
            Incident.objects.bulk_update(batch, ["next_escalation_at"])
            batch.clear()
    Incident.objects.bulk_update(batch, ["next_escalation_at"])
    if changed := changes(before, _policy_facts(policy)):
        log_action(
            policy, Action.CHANGED, by, changed, label=f"the SLA policy “{policy.get_severity_display()}”"
        )
    return policy


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
