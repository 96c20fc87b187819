from __future__ import annotations

from celery import shared_task
from django.utils import timezone

from servicedesk.audit import audit_partitions_sweep as audit_partitions
from servicedesk.models import User
from servicedesk.outbox import outbox_deliver, outbox_sweep
from servicedesk.services import welcome_email_send
from servicedesk.sweeps import sweep


@shared_task
def send_welcome_email(user_id: int) -> bool:
    return welcome_email_send(user_id=user_id, now=timezone.now())


@sweep
def send_due_welcome_emails() -> int:
    """Sweep: every account still waiting for its welcome email (broker was down, mail failed)."""
    due = User.objects.awaiting_welcome_email().values_list("pk", flat=True)[:200]
    return sum(welcome_email_send(user_id=pk, now=timezone.now()) for pk in due)


@shared_task
def deliver_message(message_id: int) -> bool:
    """Send one outbox message (queued after the commit that wrote it)."""
    return outbox_deliver(message_id=message_id, now=timezone.now())


@sweep
def sweep_outbox() -> int:
    """Sweep: every message due (new after a broker outage, or a retry), interrupted sends, old rows."""
    return outbox_sweep(now=timezone.now())


@sweep
def audit_partitions_sweep() -> dict:
    """Hourly: the audit log's coming months partitioned, expired months dropped (servicedesk.audit)."""
    return audit_partitions(now=timezone.now()).as_dict()
