"""Every write to recovery data. Each function is one transaction and leaves one timeline row per change.

The incident state machine lives in ``TRANSITIONS``: a service refuses a move that is not
listed there, whoever calls it (view, task, admin), with a message a person can act on.
"""

from __future__ import annotations

import hashlib
import logging
import secrets
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from servicedesk import notify
from servicedesk.models import Location, Touchpoint, User
from servicedesk.queue import enqueue
from servicedesk.roles import Role
from recovery.durations import humanize_duration
from recovery.models import (
    Category,
    Drill,
    EscalationStep,
    FollowUp,
    Incident,
    IncidentCounter,
    RecoveryPlan,
    RecoveryStep,
    Severity,
    SlaPolicy,
)

logger = logging.getLogger(__name__)

Status = Incident.Status

# The practice's promise when nobody has set a policy yet: (respond within, resolve within).
DEFAULT_SLA: dict[str, tuple[timedelta, timedelta]] = {
    Severity.CRITICAL: (timedelta(minutes=30), timedelta(days=1)),
    Severity.HIGH: (timedelta(hours=4), timedelta(days=3)),
    Severity.MEDIUM: (timedelta(days=1), timedelta(days=7)),
    Severity.LOW: (timedelta(days=3), timedelta(days=14)),
}


class TransitionRefused(ValidationError):
    """The incident is not in a state that allows this; the message says why and what to do."""


@dataclass(frozen=True)
class Transition:
    allowed_from: frozenset[str]
    to: str
    done: str  # "acknowledged", for messages
    hint: str = ""


TRANSITIONS: dict[str, Transition] = {
    "acknowledge": Transition(frozenset({Status.NEW}), Status.ACKNOWLEDGED, "acknowledged"),
    "start": Transition(
        frozenset({Status.ACKNOWLEDGED}), Status.IN_PROGRESS, "started", "Acknowledge it first."
    ),
    "pause": Transition(
        frozenset({Status.ACKNOWLEDGED, Status.IN_PROGRESS}),
        Status.PAUSED,
        "paused",
        "Only an acknowledged incident that is being worked on can wait on the patient.",
    ),
    "resume": Transition(frozenset({Status.PAUSED}), Status.IN_PROGRESS, "resumed", "It is not paused."),
    "resolve": Transition(
        frozenset({Status.ACKNOWLEDGED, Status.IN_PROGRESS, Status.PAUSED}),
        Status.RESOLVED,
        "resolved",
        "Acknowledge it first, so that the first response is on record.",
    ),
    "close": Transition(frozenset({Status.RESOLVED}), Status.CLOSED, "closed", "Resolve it first."),
    "reopen": Transition(
        frozenset({Status.RESOLVED, Status.CLOSED}), Status.IN_PROGRESS, "reopened", "It is still open."
    ),
}


def allowed_actions(incident: Incident) -> list[str]:
    return [name for name, t in TRANSITIONS.items() if incident.status in t.allowed_from]


def _check(incident: Incident, action: str) -> Transition:
    transition = TRANSITIONS[action]
    if incident.status not in transition.allowed_from:
        message = (
            f"{incident.reference} is {incident.get_status_display().lower()}, "
            f"so it cannot be {transition.done} now."
        )
        raise TransitionRefused(f"{message} {transition.hint}".strip(), code=f"cannot_{action}")
    return transition


def _locked(incident: Incident) -> Incident:
    """The current row, locked until the transaction ends: concurrent changes queue behind us."""
    return Incident.objects.select_for_update().get(pk=incident.pk)


def _refuse_when_closed(incident: Incident, doing: str) -> None:
    if incident.status == Status.CLOSED:
        raise TransitionRefused(f"{incident.reference} is closed; reopen it before you {doing}.")


# --- Clocks and escalation schedule -------------------------------------------------------------


def policy_for(severity: str) -> SlaPolicy:
    respond, resolve = DEFAULT_SLA[Severity(severity)]
    policy, _ = SlaPolicy.objects.get_or_create(
        severity=severity, defaults={"respond_within": respond, "resolve_within": resolve}
    )
    return policy


def steps_by_level(severity: str) -> dict[int, EscalationStep]:
    return {
        step.level: step
        for step in EscalationStep.objects.filter(policy__severity=severity).select_related("notify_user")
    }


def next_escalation_at(incident: Incident, steps: dict[int, EscalationStep]) -> datetime | None:
    """When the incident's next escalation step falls due, from its running deadline; None if never."""
    if incident.status not in Incident.RUNNING_STATUSES:
        return None
    step = steps.get(incident.escalation_level + 1)
    if step is None:
        return None
    deadline = incident.respond_by if incident.acknowledged_at is None else incident.resolve_by
    return deadline + step.after


def _reschedule(incident: Incident) -> None:
    incident.next_escalation_at = next_escalation_at(incident, steps_by_level(incident.severity))


def _end_pause(incident: Incident, now: datetime) -> timedelta:
    """Stop the pause clock: deadlines move later by the time spent waiting on the patient."""
    waited = max(now - incident.paused_at, timedelta(0))
    incident.paused_for += waited
    if incident.acknowledged_at is None:  # defensive: pausing needs an acknowledgement
        incident.respond_by += waited
    incident.resolve_by += waited
    incident.paused_at = None
    return waited


# --- Reference numbers ----------------------------------------------------------------------------


def _next_reference(now: datetime) -> str:
    """INC-YYYY-NNNN: the year's counter row is locked until the incident is committed (no gaps)."""
    year = timezone.localtime(now).year
    IncidentCounter.objects.bulk_create([IncidentCounter(year=year)], ignore_conflicts=True)
    counter = IncidentCounter.objects.select_for_update().get(year=year)
    counter.last_number += 1
    counter.save(update_fields=["last_number"])
    return f"INC-{year}-{counter.last_number:04d}"


def _title_from(description: str) -> str:
    """A short title from the first line of what happened, cut at a word boundary."""
    first_line = description.strip().splitlines()[0].strip() if description.strip() else ""
    if len(first_line) <= 80:
        return first_line
    return first_line[:80].rsplit(" ", 1)[0].rstrip(",.;:") + "…"


def _log(incident: Incident, *, kind: str, by: User | None, body: str = "", **fields) -> FollowUp:
    return FollowUp.objects.create(incident=incident, author=by, kind=kind, body=body, **fields)


# --- Opening -------------------------------------------------------------------------------------


@transaction.atomic
def incident_open(
    *,
    description: str,
    category: str,
    severity: str,
    touchpoint: Touchpoint | None,
    now: datetime,
    title: str = "",
    reporter: User | None = None,
    location: Location | None = None,
    source: str = Incident.Source.STAFF,
    patient_consented: bool = False,
    patient_name: str = "",
    patient_phone: str = "",
    patient_email: str = "",
    source_links: dict | None = None,
) -> Incident:
    """Log an incident: give it a reference, start its clocks from the SLA policy, open the timeline."""
    description = description.strip()
    if not description and not title.strip():
        raise ValidationError("Say what happened.", code="required")
    contact = (patient_name.strip(), patient_phone.strip(), patient_email.strip())
    if any(contact) and not patient_consented:
        raise ValidationError(
            "Patient contact details can only be kept when the patient has agreed to be contacted.",
            code="no_consent",
        )
    policy = policy_for(severity)
    incident = Incident(
        reference=_next_reference(now),
        title=(title.strip() or _title_from(description))[:200],
        description=description,
        category=Category(category),
        severity=Severity(severity),
        touchpoint=touchpoint,
        location=location or (touchpoint.location if touchpoint else None) or getattr(reporter, "location", None),
        source=source,
        reporter=reporter,
        patient_consented=patient_consented,
        patient_name=contact[0],
        patient_phone=contact[1],
        patient_email=contact[2],
        respond_by=now + policy.respond_within,
        resolve_by=now + policy.resolve_within,
        **(source_links or {}),
    )
    _reschedule(incident)
    incident.save()
    # created_at is "now" for the service, so clocks and the timeline agree in tests and imports.
    Incident.objects.filter(pk=incident.pk).update(created_at=now)
    incident.created_at = now
    origin = Incident.Source(source).label
    _log(
        incident,
        kind=FollowUp.Kind.OPENED,
        by=reporter,
        body=f"{origin}. Severity {incident.get_severity_display().lower()}: respond by "
        f"{timezone.localtime(incident.respond_by):%d %b %H:%M}, resolve by "
        f"{timezone.localtime(incident.resolve_by):%d %b %H:%M}.",
        changes={"status": [None, Status.NEW], "severity": [None, incident.severity]},
    )
    logger.info("incident %s opened (%s, %s)", incident.reference, incident.severity, source)
    return incident


# --- The state machine -----------------------------------------------------------------------------


def _status_row(incident: Incident, old: str, *, by: User | None, body: str = "", **changes) -> None:
    _log(
        incident,
        kind=FollowUp.Kind.STATUS,
        by=by,
        body=body or f"{Status(old).label} → {incident.get_status_display()}",
        changes={"status": [old, incident.status], **changes},
    )


@transaction.atomic
def incident_acknowledge(*, incident: Incident, by: User, now: datetime) -> Incident:
    """The first response: someone has seen it and owns getting it sorted. Stops the respond clock."""
    incident = _locked(incident)
    transition = _check(incident, "acknowledge")
    old = incident.status
    incident.status = transition.to
    incident.acknowledged_at = now
    _reschedule(incident)
    incident.save(update_fields=["status", "acknowledged_at", "next_escalation_at", "updated_at"])
    took = humanize_duration(now - incident.created_at)
    _status_row(incident, old, by=by, body=f"Acknowledged, {took} after it was logged.")
    return incident


@transaction.atomic
def incident_start(*, incident: Incident, by: User, now: datetime) -> Incident:
    incident = _locked(incident)
    transition = _check(incident, "start")
    old = incident.status
    incident.status = transition.to
    incident.save(update_fields=["status", "updated_at"])
    _status_row(incident, old, by=by, body="Work started.")
    return incident


@transaction.atomic
def incident_pause(*, incident: Incident, by: User, reason: str, now: datetime) -> Incident:
    """Waiting on the patient: the resolve clock stops and nothing escalates until work resumes."""
    if not reason.strip():
        raise ValidationError("Say what you are waiting for from the patient.", code="required")
    incident = _locked(incident)
    transition = _check(incident, "pause")
    old = incident.status
    incident.status = transition.to
    incident.paused_at = now
    incident.next_escalation_at = None
    incident.save(update_fields=["status", "paused_at", "next_escalation_at", "updated_at"])
    _status_row(incident, old, by=by, body=f"Waiting on the patient: {reason.strip()}")
    return incident


@transaction.atomic
def incident_resume(*, incident: Incident, by: User, now: datetime) -> Incident:
    incident = _locked(incident)
    transition = _check(incident, "resume")
    old = incident.status
    waited = _end_pause(incident, now)
    incident.status = transition.to
    _reschedule(incident)
    incident.save(
        update_fields=[
            "status",
            "paused_at",
            "paused_for",
            "respond_by",
            "resolve_by",
            "next_escalation_at",
            "updated_at",
        ]
    )
    _status_row(
        incident,
        old,
        by=by,
        body=f"Work resumed after waiting {humanize_duration(waited)}; "
        f"resolve by {timezone.localtime(incident.resolve_by):%d %b %H:%M}.",
    )
    return incident


@transaction.atomic
def incident_resolve(
    *, incident: Incident, by: User, summary: str, root_cause: str, now: datetime
) -> Incident:
    """Put right: what we did and why it happened are both required, so that we can learn from it."""
    errors = {}
    if not summary.strip():
        errors["summary"] = ValidationError("Say how it was put right.", code="required")
    if not root_cause.strip():
        errors["root_cause"] = ValidationError("Say why it happened.", code="required")
    if errors:
        raise ValidationError(errors)
    incident = _locked(incident)
    transition = _check(incident, "resolve")
    old = incident.status
    if incident.is_paused:
        _end_pause(incident, now)
    incident.status = transition.to
    incident.resolved_at = now
    incident.resolution_summary = summary.strip()
    incident.root_cause = root_cause.strip()
    incident.next_escalation_at = None
    incident.save()
    within = "within" if now <= incident.resolve_by else "outside"
    _status_row(incident, old, by=by, body=f"Resolved ({within} the SLA): {incident.resolution_summary}")
    return incident


@transaction.atomic
def incident_close(*, incident: Incident, by: User, now: datetime) -> Incident:
    incident = _locked(incident)
    transition = _check(incident, "close")
    old = incident.status
    incident.status = transition.to
    incident.closed_at = now
    incident.save(update_fields=["status", "closed_at", "updated_at"])
    _status_row(incident, old, by=by, body="Closed.")
    return incident


@transaction.atomic
def incident_reopen(*, incident: Incident, by: User, reason: str, now: datetime) -> Incident:
    """Not put right after all. Counted, with a fresh resolve clock; the patient can be asked again."""
    if not reason.strip():
        raise ValidationError("Say why it is being reopened.", code="required")
    incident = _locked(incident)
    transition = _check(incident, "reopen")
    old = incident.status
    incident.status = transition.to
    incident.reopen_count += 1
    incident.resolved_at = None
    incident.closed_at = None
    incident.resolve_by = max(incident.resolve_by, now + policy_for(incident.severity).resolve_within)
    incident.loop_token_hash = None
    incident.loop_sent_at = None
    _reschedule(incident)
    incident.save()
    _status_row(
        incident,
        old,
        by=by,
        body=f"Reopened (time {incident.reopen_count}): {reason.strip()}",
        reopen_count=[incident.reopen_count - 1, incident.reopen_count],
    )
    return incident


# --- Work on an incident --------------------------------------------------------------------------


@transaction.atomic
def incident_assign(*, incident: Incident, assignee: User, by: User, now: datetime) -> Incident:
    incident = _locked(incident)
    _refuse_when_closed(incident, "assign it")
    if not assignee.is_active or not assignee.is_team_member:
        raise ValidationError(f"{assignee} is not an active team member.", code="not_team")
    if incident.assignee_id == assignee.pk:
        raise ValidationError(f"{incident.reference} is already assigned to {assignee}.", code="unchanged")
    previous = incident.assignee
    incident.assignee = assignee
    incident.save(update_fields=["assignee", "updated_at"])
    row = _log(
        incident,
        kind=FollowUp.Kind.ASSIGNMENT,
        by=by,
        body=f"Assigned to {assignee}" + (f" (was {previous})." if previous else "."),
        changes={"assignee": [previous.pk if previous else None, assignee.pk]},
        owner=assignee,
        # Nobody needs an email about a job they just gave themselves.
        notified_at=now if assignee.pk == by.pk else None,
    )
    if row.notified_at is None:
        from recovery.tasks import send_assignment_notice

        enqueue(send_assignment_notice, row.pk)
    return incident


@transaction.atomic
def incident_note(*, incident: Incident, by: User, body: str, now: datetime) -> FollowUp:
    if not body.strip():
        raise ValidationError("Write the note first.", code="required")
    return _log(_locked(incident), kind=FollowUp.Kind.NOTE, by=by, body=body.strip())


@transaction.atomic
def incident_log_contact(
    *, incident: Incident, by: User, channel: str, outcome: str, body: str, now: datetime
) -> FollowUp:
    """A conversation (or attempt) with the patient. The first real one is the 'patient contacted' mark."""
    incident = _locked(incident)
    _refuse_when_closed(incident, "log a patient contact")
    changes = {}
    if outcome in FollowUp.REACHED_OUTCOMES and incident.patient_contacted_at is None:
        incident.patient_contacted_at = now
        incident.save(update_fields=["patient_contacted_at", "updated_at"])
        changes["patient_contacted"] = [False, True]
    return _log(
        incident,
        kind=FollowUp.Kind.CONTACT,
        by=by,
        body=body.strip(),
        contact_channel=FollowUp.ContactChannel(channel),
        contact_outcome=FollowUp.ContactOutcome(outcome),
        changes=changes,
    )


@transaction.atomic
def incident_add_action(
    *, incident: Incident, by: User, description: str, due_on: date, now: datetime, owner: User | None = None
) -> FollowUp:
    """Something someone must do by a date; its owner (else the assignee) is reminded on the day."""
    incident = _locked(incident)
    if not incident.is_open:
        raise TransitionRefused(
            f"{incident.reference} is {incident.get_status_display().lower()}; reopen it to add actions."
        )
    if not description.strip():
        raise ValidationError("Say what needs doing.", code="required")
    if due_on < timezone.localdate(now):
        raise ValidationError("The due date is in the past.", code="past")
    return _log(
        incident,
        kind=FollowUp.Kind.ACTION,
        by=by,
        body=description.strip(),
        due_on=due_on,
        owner=owner or incident.assignee,
    )


@transaction.atomic
def action_complete(*, action: FollowUp, by: User, now: datetime) -> bool:
    done = FollowUp.objects.filter(pk=action.pk, kind=FollowUp.Kind.ACTION, done_at__isnull=True).update(
        done_at=now
    )
    if done:  # a colleague may have ticked it a moment ago
        _log(action.incident, kind=FollowUp.Kind.ACTION_DONE, by=by, body=f"Done: {action.body}")
    return bool(done)


# --- Escalation and reminders (the sweeps call these) -------------------------------------------


def _recipients(step: EscalationStep, *, cache: dict | None = None) -> list[str]:
    if step.notify_user_id:
        user = step.notify_user
        return [user.email] if user.is_active and user.email else []
    key = ("role", step.notify_role)
    if cache is not None and key in cache:
        return cache[key]
    emails = list(
        User.objects.with_role(Role(step.notify_role)).exclude(email="").values_list("email", flat=True)
    )
    if cache is not None:
        cache[key] = emails
    return emails


def incident_url(incident: Incident) -> str:
    return settings.SITE_URL + reverse("recovery:incident_detail", args=[incident.reference])


def incident_escalate(
    *,
    incident_id: int,
    now: datetime,
    steps: dict[int, EscalationStep] | None = None,
    recipients_cache: dict | None = None,
) -> bool:
    """Climb one escalation step, exactly once.

    1. Lock the incident if it is still due (another sweep holding it: skip).
    2. Claim the step with a conditional UPDATE on the level we read: zero rows means someone
       else escalated it, or it was acknowledged/paused/resolved in the meantime.
    3. Record the timeline row and send the emails in the same transaction: a mail failure
       rolls the claim back and the next sweep tries again.
    """
    with transaction.atomic():
        incident = (
            Incident.objects.due_for_escalation(now)
            .select_for_update(skip_locked=True)
            .filter(pk=incident_id)
            .first()
        )
        if incident is None:
            return False
        steps = steps if steps is not None else steps_by_level(incident.severity)
        level = incident.escalation_level
        step = steps.get(level + 1)
        if step is None:  # the policy lost that step since it was scheduled
            Incident.objects.filter(pk=incident.pk, escalation_level=level).update(next_escalation_at=None)
            return False
        clock, deadline = incident.running_deadline()
        incident.escalation_level = level + 1
        claimed = Incident.objects.filter(
            pk=incident.pk,
            escalation_level=level,
            status__in=Incident.RUNNING_STATUSES,
            next_escalation_at__lte=now,
        ).update(escalation_level=level + 1, next_escalation_at=next_escalation_at(incident, steps))
        if not claimed:
            return False
        overdue = humanize_duration(now - deadline)
        what = "not acknowledged" if clock == "respond" else "not resolved"
        recipients = _recipients(step, cache=recipients_cache)
        _log(
            incident,
            kind=FollowUp.Kind.ESCALATION,
            by=None,
            body=f"Escalated to level {level + 1}: {what}, overdue by {overdue}. "
            f"Notified {step.recipient_label}" + ("." if recipients else " (nobody has an email address)."),
            escalation_level=level + 1,
            changes={"escalation_level": [level, level + 1]},
        )
        context = {"incident": incident, "level": level + 1, "what": what, "overdue": overdue}
        context["url"] = incident_url(incident)
        text = render_to_string("recovery/email/escalation.txt", context)
        subject = f"{incident.reference} {what}: overdue by {overdue} (escalation level {level + 1})"
        for email in recipients:
            notify.send_email(to=email, subject=subject, text=text, kind="incident_escalation")
    logger.info("incident %s escalated to level %s", incident.reference, level + 1)
    return True


def incidents_escalate_due(*, now: datetime, limit: int = 1000) -> int:
    """One sweep: every incident whose next escalation step is due, oldest deadline first."""
    due = list(
        Incident.objects.due_for_escalation(now)
        .order_by("next_escalation_at")
        .values_list("pk", "severity")[:limit]
    )
    steps = {severity: steps_by_level(severity) for severity in {severity for _pk, severity in due}}
    recipients_cache: dict = {}
    escalated = 0
    for pk, severity in due:
        try:
            escalated += incident_escalate(
                incident_id=pk, now=now, steps=steps[severity], recipients_cache=recipients_cache
            )
        except notify.SendError:
            continue  # rolled back and logged by notify; the next sweep tries again
    return escalated


def _owner_emails(owner: User | None) -> list[str]:
    if owner is not None and owner.is_active and owner.email:
        return [owner.email]
    return list(User.objects.managers().exclude(email="").values_list("email", flat=True))


def action_remind(*, action_id: int, now: datetime) -> bool:
    """Remind an action's owner (else the incident's assignee, else the managers) on its due date, once."""
    today = timezone.localdate(now)
    with transaction.atomic():
        claimed = FollowUp.objects.due_for_reminder(today).filter(pk=action_id).update(notified_at=now)
        if not claimed:
            return False
        action = FollowUp.objects.select_related("incident__assignee", "owner").get(pk=action_id)
        context = {"action": action, "incident": action.incident, "url": incident_url(action.incident)}
        for email in _owner_emails(action.owner or action.incident.assignee):
            notify.send_email(
                to=email,
                subject=f"Due today: an action on {action.incident.reference}",
                text=render_to_string("recovery/email/action_due.txt", context),
                kind="incident_action_due",
            )
    return True


def assignment_notice_send(*, followup_id: int, now: datetime) -> bool:
    """Tell someone an incident was given to them, once."""
    with transaction.atomic():
        claimed = FollowUp.objects.filter(
            pk=followup_id, kind=FollowUp.Kind.ASSIGNMENT, notified_at__isnull=True
        ).update(notified_at=now)
        if not claimed:
            return False
        row = FollowUp.objects.select_related("incident", "owner", "author").get(pk=followup_id)
        if row.owner is None or not row.owner.email:
            return False
        context = {"row": row, "incident": row.incident, "url": incident_url(row.incident)}
        notify.send_email(
            to=row.owner.email,
            subject=f"{row.incident.reference} is assigned to you",
            text=render_to_string("recovery/email/assigned.txt", context),
            kind="incident_assigned",
        )
    return True


# --- SLA policies (managers) ------------------------------------------------------------------


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
    policy.respond_within, policy.resolve_within = respond_within, resolve_within
    policy.save()
    policy.steps.all().delete()
    EscalationStep.objects.bulk_create(
        EscalationStep(
            policy=policy, level=n, after=s.after, notify_role=s.notify_role, notify_user=s.notify_user
        )
        for n, s in enumerate(steps, start=1)
    )
    ladder = steps_by_level(policy.severity)
    batch = []
    for incident in Incident.objects.running().filter(severity=policy.severity).iterator(chunk_size=2000):
        incident.next_escalation_at = next_escalation_at(incident, ladder)
        batch.append(incident)
        if len(batch) >= 2000:
            Incident.objects.bulk_update(batch, ["next_escalation_at"])
            batch.clear()
    Incident.objects.bulk_update(batch, ["next_escalation_at"])
    logger.info("SLA policy %s changed by user %s", policy.severity, by.pk)
    return policy


# --- Closing the loop with the patient ----------------------------------------------------------


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def loop_link_send(*, incident: Incident, by: User, now: datetime) -> str:
    """Send the patient a one-question "Did we put it right?" link, by email or else SMS. Returns the channel.

    Only the token's hash is stored: the link cannot be rebuilt from the database.
    """
    with transaction.atomic():
        incident = _locked(incident)
        if incident.status not in (Status.RESOLVED, Status.CLOSED):
            raise TransitionRefused("Resolve the incident before asking the patient whether it is put right.")
        if not incident.has_patient_contact:
            raise TransitionRefused("The patient did not agree to be contacted, or left no email or phone.")
        if incident.loop_sent_at is not None:
            raise TransitionRefused("The patient has already been sent the question.")
        token = secrets.token_urlsafe(32)
        incident.loop_token_hash = hash_token(token)
        incident.loop_sent_at = now
        incident.save(update_fields=["loop_token_hash", "loop_sent_at", "updated_at"])
        link = settings.SITE_URL + reverse("recovery:loop", args=[token])
        context = {"incident": incident, "link": link, "practice_name": settings.PRACTICE_NAME}
        if incident.patient_email:
            channel = "email"
            notify.send_email(
                to=incident.patient_email,
                subject=f"{settings.PRACTICE_NAME}: did we put it right?",
                text=render_to_string("recovery/email/loop.txt", context),
                kind="recovery_loop",
            )
        else:
            channel = "text message"
            notify.send_sms(
                to=incident.patient_phone,
                body=render_to_string("recovery/email/loop_sms.txt", context).strip(),
                kind="recovery_loop",
            )
        _log(incident, kind=FollowUp.Kind.LOOP, by=by, body=f'Asked the patient "Did we put it right?" by {channel}.')
    return channel


def loop_incident_for_token(token: str) -> Incident | None:
    """The incident a patient's link belongs to, if the link is still unanswered."""
    if not token or len(token) > 100:
        return None
    return Incident.objects.filter(loop_token_hash=hash_token(token), loop_answered_at__isnull=True).first()


@transaction.atomic
def loop_answer(*, token: str, recovered: bool, now: datetime) -> bool:
    """Record the patient's answer once; a second answer through the same link changes nothing."""
    incident = loop_incident_for_token(token)
    if incident is None:
        return False
    answered = Incident.objects.filter(pk=incident.pk, loop_answered_at__isnull=True).update(
        loop_answered_at=now, patient_recovered=recovered
    )
    if answered:
        verdict = "it was put right" if recovered else "it was not put right"
        _log(
            incident,
            kind=FollowUp.Kind.LOOP,
            by=None,
            body=f"The patient answered: {verdict}.",
            changes={"patient_recovered": [None, recovered]},
        )
    return bool(answered)


@transaction.atomic
def loop_opt_out(*, token: str, now: datetime) -> bool:
    """The patient wants no more contact about this: erase their details and use up the link."""
    incident = loop_incident_for_token(token)
    if incident is None:
        return False
    erased = Incident.objects.filter(pk=incident.pk, loop_answered_at__isnull=True).update(
        loop_answered_at=now,
        patient_consented=False,
        patient_name="",
        patient_phone="",
        patient_email="",
    )
    if erased:
        _log(
            incident,
            kind=FollowUp.Kind.LOOP,
            by=None,
            body="The patient asked not to be contacted again; their contact details were erased.",
            changes={"patient_consented": [True, False]},
        )
    return bool(erased)


# --- Recovery plans ------------------------------------------------------------------------------


@dataclass(frozen=True)
class PlanStepSpec:
    instruction: str
    owner: str


@transaction.atomic
def plan_save(
    *,
    plan: RecoveryPlan | None,
    title: str,
    summary: str,
    owner: User | None,
    drill_every_days: int,
    next_drill_on: date | None,
    is_active: bool,
    steps: list[PlanStepSpec],
) -> RecoveryPlan:
    """Create or replace a plan with its steps, numbered in the order given."""
    if not steps:
        raise ValidationError("A plan needs at least one step.", code="no_steps")
    plan = plan or RecoveryPlan()
    plan.title, plan.summary, plan.owner = title.strip(), summary.strip(), owner
    plan.drill_every_days, plan.next_drill_on, plan.is_active = drill_every_days, next_drill_on, is_active
    plan.save()
    plan.steps.all().delete()
    RecoveryStep.objects.bulk_create(
        RecoveryStep(plan=plan, position=n, instruction=s.instruction.strip(), owner=s.owner.strip())
        for n, s in enumerate(steps, start=1)
    )
    return plan


@transaction.atomic
def drill_log(
    *, plan: RecoveryPlan, held_on: date, led_by: User | None, outcome: str, notes: str, today: date
) -> Drill:
    """Record a rehearsal; the next one falls due one drill interval after the latest drill."""
    if held_on > today:
        raise ValidationError({"held_on": "Log a drill once it has happened."})
    plan = RecoveryPlan.objects.select_for_update().get(pk=plan.pk)
    drill = Drill.objects.create(
        plan=plan, held_on=held_on, led_by=led_by, outcome=Drill.Outcome(outcome), notes=notes.strip()
    )
    latest = plan.drills.order_by("-held_on").values_list("held_on", flat=True).first()
    plan.next_drill_on = latest + timedelta(days=plan.drill_every_days)
    plan.save(update_fields=["next_drill_on", "updated_at"])
    return drill


def drill_reminder_send(*, plan_id: int, today: date) -> bool:
    """Remind the plan's owner (else the managers) once per overdue due date."""
    with transaction.atomic():
        plan = RecoveryPlan.objects.due_for_drill_reminder(today).filter(pk=plan_id).select_related("owner").first()
        if plan is None:
            return False
        claimed = (
            RecoveryPlan.objects.filter(pk=plan.pk, next_drill_on=plan.next_drill_on)
            .exclude(drill_reminded_for=plan.next_drill_on)
            .update(drill_reminded_for=plan.next_drill_on)
        )
        if not claimed:
            return False
        context = {
            "plan": plan,
            "url": settings.SITE_URL + reverse("recovery:plan_detail", args=[plan.pk]),
        }
        for email in _owner_emails(plan.owner):
            notify.send_email(
                to=email,
                subject=f"Drill overdue: {plan.title}",
                text=render_to_string("recovery/email/drill_due.txt", context),
                kind="recovery_drill_due",
            )
    return True
