"""What the sweeps do: climb escalation steps, remind action owners, tell people about assignments."""

from __future__ import annotations

import logging
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime
from functools import reduce
from operator import or_
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import Case, DateTimeField, F, Q, Value, When
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from recovery.durations import humanize_duration
from recovery.models import (
    EscalationStep,
    FollowUp,
    Incident,
)
from recovery.services.sla import PolicyBook
from servicedesk.models import User
from servicedesk.outbox import message_key, outbox_email
from servicedesk.roles import Role

logger = logging.getLogger(__name__)


def _recipients(
    step: EscalationStep, *, site_id: int | None, by_role: dict[tuple[str, int | None], list[str]]
) -> list[str]:
    """The step's addresses; a role's are read once per sweep batch and kept in ``by_role``. Site
    managers are those of the incident's site (the group's managers are everyone's)."""
    if step.notify_user is not None:
        user = step.notify_user
        return [user.email] if user.is_active and user.email else []
    role = Role(step.notify_role)
    key = (step.notify_role, site_id if role == Role.SITE_MANAGER else None)
    if key not in by_role:
        people = User.objects.with_role(role, site_id=key[1]) if key[1] else User.objects.with_role(role)
        if role == Role.SITE_MANAGER and key[1] is None:
            people = people.none()  # an incident tied to no site has no site manager: its step names nobody
        by_role[key] = list(people.exclude(email="").values_list("email", flat=True))
    return by_role[key]


def incident_url(incident: Incident) -> str:
    return f"{settings.SITE_URL}{reverse('recovery:incident_detail', args=[incident.reference])}"


@dataclass
class _Escalated:
    incident: Incident
    level: int
    what: str
    overdue: str
    url: str


class _ClaimLost(Exception):
    """Fewer rows matched the claim than were locked: roll the batch back, the next sweep retries."""


def escalate_due_batch(
    *, now: datetime, limit: int = 100, incident_id: int | None = None, skip: set[int] | None = None
) -> tuple[list[int], int]:
    """Climb one escalation step for up to ``limit`` due incidents, exactly once each, in one transaction.

    1. Lock the due incidents (rows another sweep holds are skipped, not waited for).
    2. Claim every step with one conditional UPDATE: each row only if it still has the level we
       read and is still due and running. If fewer rows match than we locked (a database without
       row locks, or a bug), the whole batch rolls back rather than notify anyone twice.
    3. Write the timeline rows and send each recipient one email listing their incidents, in the
       same transaction: a mail failure rolls the claims back and the next sweep tries again.

    Returns (the ids looked at, how many were escalated).
    """
    due = Incident.objects.due_for_escalation(now).select_for_update(skip_locked=True, of=("self",))
    if incident_id is not None:
        due = due.filter(pk=incident_id)
    if skip:
        due = due.exclude(pk__in=skip)
    due = due.select_related("touchpoint", "assignee").order_by("next_escalation_at", "pk")
    try:
        with transaction.atomic():
            incidents = list(due[:limit])
            escalated = _claim_and_notify(incidents, now=now)
    except _ClaimLost:
        logger.warning("escalation claim lost a race; the next sweep retries those incidents")
        return [incident.pk for incident in incidents], 0
    for row in escalated:
        logger.info("incident %s escalated to level %s", row.incident.reference, row.escalation_level)
    return [incident.pk for incident in incidents], len(escalated)


def _per_row(values: dict[int, datetime | None]) -> Case | None:
    """A CASE giving each row its own next escalation time (plain NULL when none has one: PostgreSQL
    would type an all-NULL CASE as text)."""
    if not any(values.values()):
        return None
    return Case(
        *(When(pk=pk, then=Value(at, output_field=DateTimeField())) for pk, at in values.items()),
        output_field=DateTimeField(),
    )


def _claim_and_notify(incidents: list[Incident], *, now: datetime) -> list[FollowUp]:
    book = PolicyBook(incidents)  # each incident's policy in force (its site's own, else the group's)
    claims: list[tuple[Incident, int, EscalationStep]] = []
    stuck: list[int] = []
    for incident in incidents:
        step = book.ladder(incident).get(incident.escalation_level + 1)
        if step is None:  # the policy lost that step since it was scheduled: nothing more to climb
            stuck.append(incident.pk)
        else:
            claims.append((incident, incident.escalation_level, step))
    if stuck:
        Incident.objects.filter(pk__in=stuck).update(next_escalation_at=None)
    if not claims:
        return []

    next_at = {}
    for incident, level, _step in claims:
        incident.escalation_level = level + 1
        next_at[incident.pk] = book.next_escalation_at(incident)
    claimed = Incident.objects.filter(
        reduce(or_, (Q(pk=incident.pk, escalation_level=level) for incident, level, _step in claims)),
        status__in=Incident.RUNNING_STATUSES,
        next_escalation_at__lte=now,
    ).update(
        escalation_level=F("escalation_level") + 1,
        next_escalation_at=_per_row(next_at),
    )
    if claimed != len(claims):
        raise _ClaimLost

    emails_by_role: dict[tuple[str, int | None], list[str]] = {}
    rows: list[FollowUp] = []
    by_recipient: dict[str, list[_Escalated]] = defaultdict(list)
    for incident, level, step in claims:
        running = incident.running_deadline()
        if running is None:  # claimed incidents are running: only a guard
            continue
        clock, deadline = running
        done = _Escalated(
            incident=incident,
            level=level + 1,
            what="not acknowledged" if clock == "respond" else "not resolved",
            overdue=humanize_duration(now - deadline),
            url=incident_url(incident),
        )
        recipients = _recipients(step, site_id=incident.location_id, by_role=emails_by_role)
        rows.append(
            FollowUp(
                incident=incident,
                at=now,
                kind=FollowUp.Kind.ESCALATION,
                body=f"Escalated to level {done.level}: {done.what}, overdue by {done.overdue}. "
                f"Notified {step.recipient_label}"
                + ("." if recipients else " (nobody there has an email address)."),
                escalation_level=done.level,
                changes={"escalation_level": [level, done.level]},
            )
        )
        for email in recipients:
            by_recipient[email].append(done)
    FollowUp.objects.bulk_create(rows)
    for email, items in by_recipient.items():
        _queue_escalation_email(email, items, now=now)
    return rows


def _queue_escalation_email(email: str, items: list[_Escalated], *, now: datetime) -> None:
    """One email per recipient per batch, listing every incident that climbed a step for them."""
    if len(items) == 1:
        item = items[0]
        subject = f"{item.incident.reference} {item.what}, overdue by {item.overdue} (level {item.level})"
    else:
        subject = f"{len(items)} incidents have run out of time (escalation)"
    text = render_to_string("recovery/email/escalation.txt", {"items": items})
    steps = "-".join(f"{item.incident.pk}.{item.level}" for item in items)  # each step is climbed once
    key = message_key("incident_escalation", steps, email)
    outbox_email(key=key, to=email, subject=subject, text=text, kind="incident_escalation", now=now)


def incident_escalate(*, incident_id: int, now: datetime) -> bool:
    """Climb the next escalation step of one incident if it is due (see escalate_due_batch)."""
    return escalate_due_batch(now=now, incident_id=incident_id, limit=1)[1] == 1


def incidents_escalate_due(*, now: datetime, limit: int = 1000, batch: int = 200) -> int:
    """One sweep: one step for every incident whose next step is due (up to ``limit``), oldest first.

    An incident climbs at most one step per sweep, so one that is far behind (after an outage)
    catches up a step every few minutes instead of sending every step's email at once.
    """
    looked_at: set[int] = set()
    escalated = 0
    while len(looked_at) < limit:
        seen, done = escalate_due_batch(now=now, limit=min(batch, limit - len(looked_at)), skip=looked_at)
        if not seen:
            break
        looked_at.update(seen)
        escalated += done
    return escalated


def owner_emails(owner: User | None) -> list[str]:
    if owner is not None and owner.is_active and owner.email:
        return [owner.email]
    return list(User.objects.managers().exclude(email="").values_list("email", flat=True))


def email_owner(
    owner: User | None,
    *,
    key: str,
    subject: str,
    template: str,
    context: dict[str, Any],
    kind: str,
    now: datetime,
) -> None:
    """Queue an email to ``owner``, else every manager with an address (rendered once for them all).
    ``key`` names the reason; each recipient's message is keyed by it and their address."""
    emails = owner_emails(owner)
    if not emails:
        return
    text = render_to_string(template, context)
    for email in emails:
        outbox_email(
            key=message_key(kind, key, email), to=email, subject=subject, text=text, kind=kind, now=now
        )


def action_remind(*, action_id: int, now: datetime) -> bool:
    """Remind an action's owner (else the incident's assignee, else the managers) on its due date, once."""
    today = timezone.localdate(now)
    with transaction.atomic():
        claimed = FollowUp.objects.due_for_reminder(today).filter(pk=action_id).update(notified_at=now)
        if not claimed:
            return False
        action = FollowUp.objects.select_related("incident__assignee", "owner").get(pk=action_id)
        context = {"action": action, "incident": action.incident, "url": incident_url(action.incident)}
        email_owner(
            action.owner or action.incident.assignee,
            key=str(action.pk),
            now=now,
            subject=f"Due today: an action on {action.incident.reference}",
            template="recovery/email/action_due.txt",
            context=context,
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
        outbox_email(
            key=message_key("incident_assigned", row.pk),
            to=row.owner.email,
            subject=f"{row.incident.reference} is assigned to you",
            text=render_to_string("recovery/email/assigned.txt", context),
            kind="incident_assigned",
            now=now,
        )
    return True
