"""Logging and working an incident. Each function is one transaction and leaves one timeline row per change.

The incident state machine lives in ``TRANSITIONS``: a service refuses a move that is not
listed there, whoever calls it (view, task, admin), with a message a person can act on.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from recovery.durations import humanize_duration
from recovery.models import (
    FollowUp,
    Incident,
    IncidentCounter,
)
from recovery.services.sla import clock_for, end_pause, policy_for, policy_for_incident, reschedule
from recovery.signals import incident_opened
from recovery.vocabulary import Category, Severity
from servicedesk.attachments.services import CheckedUpload, attachment_store
from servicedesk.events import send_on_commit
from servicedesk.models import Location, Touchpoint, User
from servicedesk.queue import enqueue, task

logger = logging.getLogger(__name__)


Status = Incident.Status


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


def lock_incident(incident: Incident) -> Incident:
    """The current row, locked until the transaction ends: concurrent changes queue behind us."""
    locked: Incident = Incident.objects.select_for_update().get(pk=incident.pk)
    return locked


def _refuse_when_closed(incident: Incident, doing: str) -> None:
    if incident.status == Status.CLOSED:
        raise TransitionRefused(f"{incident.reference} is closed; reopen it before you {doing}.")


# --- Reference numbers ----------------------------------------------------------------------------


def reserve_reference_numbers(year: int, count: int = 1) -> range:
    """The year's next ``count`` reference numbers. The counter row stays locked until the
    transaction ends, so numbers are unique and a rollback gives them back (no gaps)."""
    IncidentCounter.objects.bulk_create([IncidentCounter(year=year)], ignore_conflicts=True)
    counter = IncidentCounter.objects.select_for_update().get(year=year)
    first = counter.last_number + 1
    counter.last_number += count
    counter.save(update_fields=["last_number"])
    return range(first, first + count)


def format_reference(year: int, number: int) -> str:
    return f"INC-{year}-{number:04d}"


def _next_reference(now: datetime) -> str:
    """INC-YYYY-NNNN, numbered within the (local) year it was logged."""
    year = timezone.localtime(now).year
    return format_reference(year, reserve_reference_numbers(year)[0])


def title_from(description: str) -> str:
    """A short title from the first line of what happened, cut at a word boundary."""
    first_line = description.strip().splitlines()[0].strip() if description.strip() else ""
    if len(first_line) <= 80:
        return first_line
    return first_line[:80].rsplit(" ", 1)[0].rstrip(",.;:") + "…"


def log_change(
    incident: Incident, *, at: datetime, kind: str, by: User | None, body: str = "", **fields: Any
) -> FollowUp:
    """One timeline row: who (None for Servicedesk or the patient), when it happened, what changed."""
    return FollowUp.objects.create(incident=incident, at=at, author=by, kind=kind, body=body, **fields)


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
    source_links: dict[str, Any] | None = None,
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
    location = (
        location or (touchpoint.location if touchpoint else None) or getattr(reporter, "location", None)
    )
    policy = policy_for(severity, location.pk if location else None)  # the site's own, else the group's
    clock = clock_for(policy)
    incident = Incident(
        reference=_next_reference(now),
        title=(title.strip() or title_from(description))[:200],
        description=description,
        category=Category(category),
        severity=Severity(severity),
        touchpoint=touchpoint,
        location=location,
        source=source,
        reporter=reporter,
        patient_consented=patient_consented,
        patient_name=contact[0],
        patient_phone=contact[1],
        patient_email=contact[2],
        respond_by=clock.add(now, policy.respond_within),
        resolve_by=clock.add(now, policy.resolve_within),
        **(source_links or {}),
    )
    if touchpoint is not None:
        latest = Incident.objects.latest_similar_before(incident.category, touchpoint, now).first()
        incident.similar_before_at = latest["created_at"] if latest else None
    reschedule(incident, policy, clock)
    incident.save()
    # created_at is "now" for the service, so clocks and the timeline agree in tests and imports.
    Incident.objects.filter(pk=incident.pk).update(created_at=now)
    incident.created_at = now
    if touchpoint is not None:
        _note_as_predecessor(incident)
    origin = Incident.Source(source).label
    log_change(
        incident,
        at=now,
        kind=FollowUp.Kind.OPENED,
        by=reporter,
        body=f"{origin}. Severity {incident.get_severity_display().lower()}: respond by "
        f"{timezone.localtime(incident.respond_by):%d %b %H:%M}, resolve by "
        f"{timezone.localtime(incident.resolve_by):%d %b %H:%M}.",
        changes={"status": [None, Status.NEW], "severity": [None, incident.severity]},
    )
    logger.info("incident %s opened (%s, %s)", incident.reference, incident.severity, source)
    send_on_commit(incident_opened, "incident_opened", sender=Incident, incident_id=incident.pk)
    return incident


def _note_as_predecessor(incident: Incident) -> None:
    """An incident logged back-dated (an import, a late entry) may be the nearest earlier one of the
    next incident of its kind at its touchpoint: that one's ``similar_before_at`` moves up to it."""
    following = (
        Incident.objects.filter(
            category=incident.category, touchpoint=incident.touchpoint_id, created_at__gt=incident.created_at
        )
        .order_by("created_at")
        .only("pk", "similar_before_at")
        .first()
    )
    if following and (
        following.similar_before_at is None or following.similar_before_at < incident.created_at
    ):
        Incident.objects.filter(pk=following.pk).update(similar_before_at=incident.created_at)


# --- The state machine -----------------------------------------------------------------------------


def _move(incident: Incident, action: str) -> tuple[Incident, str]:
    """Lock the row, refuse a move ``TRANSITIONS`` does not allow, and make it (not yet saved).
    Returns the locked incident and the status it had."""
    incident = lock_incident(incident)
    transition = _check(incident, action)
    old = incident.status
    incident.status = transition.to
    return incident, old


def _save_moved(
    incident: Incident,
    old: str,
    fields: list[str] | None,
    *,
    at: datetime,
    by: User | None,
    body: str,
    **changes: Any,
) -> Incident:
    """Save a move made by ``_move`` (status, ``fields`` and updated_at; every field when ``fields`` is
    None) and write its timeline row."""
    incident.save(update_fields=None if fields is None else ["status", *fields, "updated_at"])
    log_change(
        incident,
        at=at,
        kind=FollowUp.Kind.STATUS,
        by=by,
        body=body,
        changes={"status": [old, incident.status], **changes},
    )
    return incident


@transaction.atomic
def incident_acknowledge(*, incident: Incident, by: User, now: datetime) -> Incident:
    """The first response: someone has seen it and owns getting it sorted. Stops the respond clock."""
    incident, old = _move(incident, "acknowledge")
    incident.acknowledged_at = now
    reschedule(incident)
    took = humanize_duration(now - incident.created_at)
    return _save_moved(
        incident,
        old,
        ["acknowledged_at", "next_escalation_at"],
        at=now,
        by=by,
        body=f"Acknowledged, {took} after it was logged.",
    )


@transaction.atomic
def incident_start(*, incident: Incident, by: User, now: datetime) -> Incident:
    incident, old = _move(incident, "start")
    return _save_moved(incident, old, [], at=now, by=by, body="Work started.")


@transaction.atomic
def incident_pause(*, incident: Incident, by: User, reason: str, now: datetime) -> Incident:
    """Waiting on the patient: the resolve clock stops and nothing escalates until work resumes."""
    if not reason.strip():
        raise ValidationError("Say what you are waiting for from the patient.", code="required")
    incident, old = _move(incident, "pause")
    incident.paused_at = now
    incident.next_escalation_at = None
    return _save_moved(
        incident,
        old,
        ["paused_at", "next_escalation_at"],
        at=now,
        by=by,
        body=f"Waiting on the patient: {reason.strip()}",
    )


@transaction.atomic
def incident_resume(*, incident: Incident, by: User, now: datetime) -> Incident:
    incident, old = _move(incident, "resume")
    policy = policy_for_incident(incident)
    clock = clock_for(policy)  # read once: the pause and the ladder both use it
    waited = end_pause(incident, now, clock)
    reschedule(incident, policy, clock)
    return _save_moved(
        incident,
        old,
        ["paused_at", "paused_for", "respond_by", "resolve_by", "next_escalation_at"],
        at=now,
        by=by,
        body=f"Work resumed after waiting {humanize_duration(waited)}; "
        f"resolve by {timezone.localtime(incident.resolve_by):%d %b %H:%M}.",
    )


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
    incident, old = _move(incident, "resolve")
    if old == Status.PAUSED:
        end_pause(incident, now)
    incident.resolved_at = now
    incident.resolution_summary = summary.strip()
    incident.root_cause = root_cause.strip()
    incident.next_escalation_at = None
    within = "within" if now <= incident.resolve_by else "outside"
    return _save_moved(
        incident,
        old,
        None,
        at=now,
        by=by,
        body=f"Resolved ({within} the SLA): {incident.resolution_summary}",
    )


@transaction.atomic
def incident_close(*, incident: Incident, by: User, now: datetime) -> Incident:
    incident, old = _move(incident, "close")
    incident.closed_at = now
    return _save_moved(incident, old, ["closed_at"], at=now, by=by, body="Closed.")


@transaction.atomic
def incident_reopen(*, incident: Incident, by: User, reason: str, now: datetime) -> Incident:
    """Not put right after all. Counted, with a fresh resolve clock; the patient can be asked again."""
    if not reason.strip():
        raise ValidationError("Say why it is being reopened.", code="required")
    incident, old = _move(incident, "reopen")
    incident.reopen_count += 1
    incident.resolved_at = None
    incident.closed_at = None
    policy = policy_for_incident(incident)
    clock = clock_for(policy)
    incident.resolve_by = max(incident.resolve_by, clock.add(now, policy.resolve_within))
    incident.loop_token_hash = None
    incident.loop_sent_at = None
    reschedule(incident, policy, clock)
    return _save_moved(
        incident,
        old,
        None,
        at=now,
        by=by,
        body=f"Reopened (time {incident.reopen_count}): {reason.strip()}",
        reopen_count=[incident.reopen_count - 1, incident.reopen_count],
    )


# --- Work on an incident --------------------------------------------------------------------------


@transaction.atomic
def incident_assign(*, incident: Incident, assignee: User, by: User, now: datetime) -> Incident:
    incident = lock_incident(incident)
    _refuse_when_closed(incident, "assign it")
    if not assignee.is_active or not assignee.is_team_member:
        raise ValidationError(f"{assignee} is not an active team member.", code="not_team")
    if incident.assignee_id == assignee.pk:
        raise ValidationError(f"{incident.reference} is already assigned to {assignee}.", code="unchanged")
    previous = incident.assignee
    incident.assignee = assignee
    incident.save(update_fields=["assignee", "updated_at"])
    row = log_change(
        incident,
        at=now,
        kind=FollowUp.Kind.ASSIGNMENT,
        by=by,
        body=f"Assigned to {assignee}" + (f" (was {previous})." if previous else "."),
        changes={"assignee": [previous.pk if previous else None, assignee.pk]},
        owner=assignee,
        # Nobody needs an email about a job they just gave themselves.
        notified_at=now if assignee.pk == by.pk else None,
    )
    if row.notified_at is None:
        enqueue(task("recovery.tasks.send_assignment_notice"), row.pk)
    return incident


@transaction.atomic
def incident_note(
    *, incident: Incident, by: User | None, body: str, now: datetime, attachment: CheckedUpload | None = None
) -> FollowUp:
    """A note on the timeline, with a photo or file when one was attached (kept privately). ``by``
    None: Servicedesk wrote it (an email from the patient, read from the practice's mailbox)."""
    if not body.strip():
        raise ValidationError("Write the note first.", code="required")
    incident = lock_incident(incident)
    stored = attachment_store(upload=attachment, by=by, now=now) if attachment is not None else None
    return log_change(incident, at=now, kind=FollowUp.Kind.NOTE, by=by, body=body.strip(), attachment=stored)


@transaction.atomic
def incident_log_contact(
    *, incident: Incident, by: User, channel: str, outcome: str, body: str, now: datetime
) -> FollowUp:
    """A conversation (or attempt) with the patient. The first real one is the 'patient contacted' mark."""
    incident = lock_incident(incident)
    _refuse_when_closed(incident, "log a patient contact")
    changes = {}
    if outcome in FollowUp.REACHED_OUTCOMES and incident.patient_contacted_at is None:
        incident.patient_contacted_at = now
        incident.save(update_fields=["patient_contacted_at", "updated_at"])
        changes["patient_contacted"] = [False, True]
    return log_change(
        incident,
        at=now,
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
    incident = lock_incident(incident)
    if not incident.is_open:
        raise TransitionRefused(
            f"{incident.reference} is {incident.get_status_display().lower()}; reopen it to add actions."
        )
    if not description.strip():
        raise ValidationError("Say what needs doing.", code="required")
    if due_on < timezone.localdate(now):
        raise ValidationError("The due date is in the past.", code="past")
    return log_change(
        incident,
        at=now,
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
        log_change(
            action.incident, at=now, kind=FollowUp.Kind.ACTION_DONE, by=by, body=f"Done: {action.body}"
        )
    return bool(done)
