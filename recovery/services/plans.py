"""Recovery plans: continuity playbooks with ordered steps, drills and drill reminders."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from recovery.models import (
    Drill,
    RecoveryPlan,
    RecoveryStep,
)
from recovery.services.escalation import email_owner
from servicedesk.attachments.services import CheckedUpload, attachment_store
from servicedesk.models import User

logger = logging.getLogger(__name__)


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
    *,
    plan: RecoveryPlan,
    held_on: date,
    led_by: User | None,
    outcome: str,
    notes: str,
    today: date,
    file: CheckedUpload | None = None,
    now: datetime | None = None,
) -> Drill:
    """Record a rehearsal (with a photo or report when given); the next one falls due one drill
    interval after the latest drill."""
    if held_on > today:
        raise ValidationError({"held_on": "Log a drill once it has happened."})
    plan = RecoveryPlan.objects.select_for_update().get(pk=plan.pk)
    attachment = (
        attachment_store(upload=file, by=led_by, now=now or timezone.now()) if file is not None else None
    )
    drill = Drill.objects.create(
        plan=plan,
        held_on=held_on,
        led_by=led_by,
        outcome=Drill.Outcome(outcome),
        notes=notes.strip(),
        attachment=attachment,
    )
    latest = plan.drills.order_by("-held_on").values_list("held_on", flat=True).first() or held_on
    plan.next_drill_on = latest + timedelta(days=plan.drill_every_days)
    plan.save(update_fields=["next_drill_on", "updated_at"])
    return drill


def drill_reminder_send(*, plan_id: int, now: datetime) -> bool:
    """Remind the plan's owner (else the managers) once per overdue due date."""
    today = timezone.localdate(now)
    with transaction.atomic():
        plan = (
            RecoveryPlan.objects.due_for_drill_reminder(today)
            .filter(pk=plan_id)
            .select_related("owner")
            .first()
        )
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
        email_owner(
            plan.owner,
            key=f"{plan.pk}:{plan.next_drill_on}",
            now=now,
            subject=f"Drill overdue: {plan.title}",
            template="recovery/email/drill_due.txt",
            context=context,
            kind="recovery_drill_due",
        )
    return True
