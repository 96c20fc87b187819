"""What the sweeps do: climb escalation steps, remind action owners, tell people about assignments."""

from __future__ import annotations

import logging
from datetime import datetime

from django.conf import settings
from django.db import transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from recovery.durations import humanize_duration
from recovery.models import (
    EscalationStep,
    FollowUp,
    Incident,
)
from recovery.services.incidents import log_change
from recovery.services.sla import next_escalation_at, steps_by_level
from servicedesk import notify
from servicedesk.models import User
from servicedesk.roles import Role

logger = logging.getLogger(__name__)


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
        log_change(
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


def owner_emails(owner: User | None) -> list[str]:
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
        for email in owner_emails(action.owner or action.incident.assignee):
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
