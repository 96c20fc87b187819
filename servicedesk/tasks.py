from __future__ import annotations

from celery import shared_task
from django.utils import timezone

from servicedesk.models import User
from servicedesk.notify import SendError
from servicedesk.services import welcome_email_send


@shared_task(autoretry_for=(SendError,), retry_backoff=30, retry_backoff_max=600, max_retries=5)
def send_welcome_email(user_id: int) -> bool:
    return welcome_email_send(user_id=user_id, now=timezone.now())


@shared_task
def send_due_welcome_emails() -> int:
    """Sweep: every account still waiting for its welcome email (broker was down, mail failed)."""
    due = User.objects.awaiting_welcome_email().values_list("pk", flat=True)[:200]
    sent = 0
    for pk in due:
        try:
            sent += welcome_email_send(user_id=pk, now=timezone.now())
        except SendError:
            continue  # logged by notify; the next sweep tries again
    return sent
