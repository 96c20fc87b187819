"""Recovery's background work. Every periodic job is a sweep: safe to run twice, late, or on two machines."""

from __future__ import annotations

from datetime import timedelta

from celery import shared_task
from django.conf import settings
from django.utils import timezone

from recovery import services
from recovery.models import FollowUp, RecoveryPlan
from servicedesk.sweeps import sweep


@sweep
def escalate_overdue_incidents() -> int:
    """Climb one escalation step for every incident whose next step is due (claimed one by one)."""
    return services.incidents_escalate_due(now=timezone.now(), limit=settings.RECOVERY_ESCALATION_BATCH)


@shared_task
def send_assignment_notice(followup_id: int) -> bool:
    return services.assignment_notice_send(followup_id=followup_id, now=timezone.now())


@sweep
def send_recovery_reminders() -> int:
    """Sweep: assignment notices the broker never delivered, and actions due today (from the morning)."""
    now = timezone.now()
    sent = 0
    notices = FollowUp.objects.awaiting_assignment_notice(since=now - timedelta(days=1))
    for pk in notices.values_list("pk", flat=True)[:200]:
        sent += services.assignment_notice_send(followup_id=pk, now=now)
    if timezone.localtime(now).hour < settings.RECOVERY_REMINDER_HOUR:
        return sent
    today = timezone.localdate(now)
    for pk in FollowUp.objects.due_for_reminder(today).values_list("pk", flat=True)[:500]:
        sent += services.action_remind(action_id=pk, now=now)
    for pk in RecoveryPlan.objects.due_for_drill_reminder(today).values_list("pk", flat=True):
        sent += services.drill_reminder_send(plan_id=pk, now=now)
    return sent  # queued in the outbox, which sends and retries each message
