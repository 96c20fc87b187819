from __future__ import annotations

from celery import shared_task
from django.utils import timezone

from servicedesk.attachments.services import attachment_process, pending_process
from servicedesk.sweeps import sweep


@shared_task(acks_late=True, time_limit=300)
def process_attachment(attachment_id: int) -> bool:
    """Make one large picture's copies (enqueued after the commit that stored it). Safe to rerun."""
    return attachment_process(attachment_id=attachment_id, now=timezone.now())


@sweep
def process_pending_attachments() -> int:
    """Sweep: pictures still unprocessed (the broker was down, a worker died)."""
    return pending_process(now=timezone.now())
