"""Feedback's background work. Tasks take ids; the database says what is due (see invitations.py)."""

from __future__ import annotations

from celery import shared_task
from django.utils import timezone

from feedback import invitations, retention
from feedback.invitations import imports as invitation_import
from servicedesk.sweeps import sweep

# --- Survey invitations (issue 6) ------------------------------------------------------------------


@shared_task(acks_late=True)
def send_invitation_message(message_id: int) -> bool:
    """Hand one due invitation or reminder to the outbox, which sends it once (and retries it)."""
    return invitations.message_send(message_id=message_id)


@sweep
def invitations_sweep() -> dict:
    """Every minute: expire, cancel what is no longer needed, publish what is due, resume imports."""
    return invitations.invitations_sweep().as_dict()


@sweep
def invitations_purge() -> int:
    """Hourly: delete contact details whose retention period has passed."""
    return invitations.invitations_purge()


# --- Responses' and answers' monthly partitions (issue 19) ------------------------------------------


@sweep
def feedback_partitions_sweep() -> dict:
    """Hourly: the coming months' partitions of responses and answers made, expired months dropped
    (see retention.py)."""
    return retention.feedback_partitions_sweep(now=timezone.now()).as_dict()


@shared_task(acks_late=True)
def check_invitation_import(import_id: int) -> str:
    """Validate an uploaded visit list too long to check while the manager waits."""
    return invitation_import.import_validate(import_id=import_id)


@shared_task(acks_late=True)
def run_invitation_import(import_id: int) -> str:
    """Import a confirmed visit list, all rows or none."""
    return invitation_import.import_run(import_id=import_id)
