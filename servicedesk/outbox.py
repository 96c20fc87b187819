"""The outbox: the one way Servicedesk sends an email or a text message.

1. **Write** — a service that decides to send calls ``outbox_email`` / ``outbox_sms`` inside its
   own transaction, with a ``key`` that names the reason ("escalation:41-2:7"). The row commits
   or rolls back with the decision; the same key twice is one row, so the message goes once
   however often a sweep, a task or two workers decide it.
2. **Send** — after commit a task delivers it (``outbox_deliver``): it claims the row with a
   conditional UPDATE (queued → sending) that commits at once, then calls the mail or SMS
   provider with no transaction open and no row locked, then records the outcome. One
   recipient's failure never touches another's message: each is its own row.
3. **Retry** — a refused message waits (30 s, 1 min, 2 min, … at most an hour) and is tried
   again, up to ``OUTBOX_MAX_ATTEMPTS``; then it is *failed* and shown to managers, who can send
   it again. A refusal for good (``notify.SendRefused``: a number that takes no texts) fails at
   once, and so does a text the provider later reports undelivered (``outbox_record_receipt``).
   The sweep (every minute) delivers whatever is due, so a broker outage only delays.
4. **At most once** — a worker killed after claiming a message cannot say whether the provider
   took it. Sending it again could mail someone twice, so the sweep marks such a message
   *failed — interrupted* after ``OUTBOX_SENDING_TIMEOUT`` for a manager to decide.

The body is kept only until the message is sent (it may carry a link that works like a
password); sent rows are deleted after ``OUTBOX_RETENTION_DAYS``. Log lines name the kind, the
message id and the provider's id, never the recipient or the text.
"""

from __future__ import annotations

import hashlib
import logging
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Max
from django.utils.translation import gettext_lazy as _

from servicedesk import notify
from servicedesk.celery import app
from servicedesk.models import OutboxMessage
from servicedesk.queue import enqueue

logger = logging.getLogger(__name__)

Status = OutboxMessage.Status

# What each kind of message is, for the managers' failed-messages page.
KINDS = {
    "welcome": _("Welcome email with a set-password link"),
    "password_link": _("Set-password link sent by a manager"),
    "password_reset": _("Set-password link asked for on the login page"),
    "goal_review_due": _("Goal review reminder"),
    "goals_past_review": _("Goals past their review date"),
    "incident_escalation": _("Incident escalation"),
    "incident_assigned": _("Incident assigned"),
    "incident_action_due": _("Incident action due"),
    "recovery_loop": _("“Did we put it right?” question to a patient"),
    "recovery_drill_due": _("Continuity drill due"),
    "checklist_reminder": _("Checklist reminder"),
    "weekly_digest": _("Weekly digest"),
    "survey_invitation": _("Survey invitation to a patient"),
    "survey_reminder": _("Survey reminder to a patient"),
    "complaint_letter": _("Letter to a complainant"),
}

DELIVER_TASK = "servicedesk.tasks.deliver_message"
KEY_LENGTH = 200  # OutboxMessage.key's max_length
SWEEP_SECONDS = 60.0  # a sweep's sending, at most (the task's soft time limit is 240 s)


def message_key(kind: str, *parts: object) -> str:
    """The dedupe key for one message: its kind and what makes it that message ("weekly_digest",
    the week, the manager). Hashed when long, so any parts fit."""
    key = ":".join([kind, *(str(part) for part in parts)])
    if len(key) <= 200:
        return key
    return f"{kind}:sha256:{hashlib.sha256(key.encode()).hexdigest()}"


def kind_label(kind: str) -> str:
    return str(KINDS.get(kind, kind.replace("_", " ").capitalize()))


def outbox_email(
    *, key: str, to: str, subject: str, text: str, kind: str, now: datetime, html: str = ""
) -> bool:
    """Queue one email in the caller's transaction; sent after commit. False: that key was queued before."""
    channel = OutboxMessage.Channel.EMAIL
    return _queue(key=key, channel=channel, to=to, subject=subject, text=text, html=html, kind=kind, now=now)


def outbox_sms(*, key: str, to: str, text: str, kind: str, now: datetime) -> bool:
    """Queue one text message in the caller's transaction; sent after commit."""
    channel = OutboxMessage.Channel.SMS
    return _queue(key=key, channel=channel, to=to, subject="", text=text, html="", kind=kind, now=now)


def _queue(
    *, key: str, channel: str, to: str, subject: str, text: str, html: str, kind: str, now: datetime
) -> bool:
    if len(key) > KEY_LENGTH:
        raise ValueError(f"An outbox key is at most 200 characters: {key[:40]}…")
    message, created = OutboxMessage.objects.get_or_create(
        key=key,
        defaults={
            "channel": channel,
            "to": to,
            "subject": subject[:250],
            "text": text,
            "html": html,
            "kind": kind,
            "next_attempt_at": now,
        },
    )
    if created:
        enqueue(app.signature(DELIVER_TASK), message.pk)
    return created


def _backoff(attempts: int) -> timedelta:
    """30 s after the first failure, doubling, at most an hour."""
    return timedelta(seconds=min(30 * 2 ** max(attempts - 1, 0), 3600))


def outbox_deliver(*, message_id: int, now: datetime) -> bool:
    """Send one queued message if it is due. True when the provider took it.

    Called outside any transaction (tasks and sweeps are): the claim commits before the
    provider is called, so no lock is held during the call and a concurrent worker sees it taken.
    """
    claimed = (
        OutboxMessage.objects.due(now).filter(pk=message_id).update(status=Status.SENDING, claimed_at=now)
    )
    if not claimed:
        return False  # sent, failed, not yet due, or another worker has it
    message = OutboxMessage.objects.get(pk=message_id)
    attempts = message.attempts + 1
    try:
        if message.channel == OutboxMessage.Channel.SMS:
            provider_id = notify.send_sms(to=message.to, body=message.text, kind=message.kind)
        else:
            provider_id = notify.send_email(
                to=message.to, subject=message.subject, text=message.text, html=message.html or None,
                kind=message.kind,
            )  # fmt: skip
    except notify.SendError as exc:
        final = isinstance(exc, notify.SendRefused)
        _refused(message, attempts=attempts, error=str(exc), now=now, final=final)
        return False
    OutboxMessage.objects.filter(pk=message.pk, status=Status.SENDING).update(
        status=Status.SENT, attempts=attempts, sent_at=now, provider_id=provider_id[:200], last_error="",
        text="", html="",  # the body may hold a link that works like a password: keep no copy
    )  # fmt: skip
    return True


def _refused(message: OutboxMessage, *, attempts: int, error: str, now: datetime, final: bool) -> None:
    error = error.replace(message.to, masked(message.to))  # the error is shown on a page
    fields: dict[str, object] = {"attempts": attempts, "last_error": error[:200]}
    if final or attempts >= settings.OUTBOX_MAX_ATTEMPTS:
        fields["status"] = Status.FAILED
        logger.warning("outbox message %s (%s) failed after %s attempts", message.pk, message.kind, attempts)
    else:
        fields |= {"status": Status.QUEUED, "next_attempt_at": now + _backoff(attempts)}
        logger.info(
            "outbox message %s (%s) refused, attempt %s; will retry", message.pk, message.kind, attempts
        )
    OutboxMessage.objects.filter(pk=message.pk, status=Status.SENDING).update(**fields)


def outbox_sweep(*, now: datetime, limit: int = 500, seconds: float = SWEEP_SECONDS) -> int:
    """Deliver what is due, give up on sends interrupted long ago, forget old sent messages.

    Sending stops after ``seconds`` (the next sweep goes on), well inside the task's time limit:
    a backlog after an outage must not have the limit kill the worker mid-send, which would turn
    a message into an "interrupted" one. Returns how many messages were sent.
    """
    timeout = timedelta(seconds=settings.OUTBOX_SENDING_TIMEOUT)
    interrupted = OutboxMessage.objects.interrupted(now - timeout).update(
        status=Status.FAILED,
        last_error="Interrupted while sending: it may or may not have arrived.",
    )
    if interrupted:
        logger.warning("outbox: %s interrupted sends marked failed for a manager to decide", interrupted)
    retention = timedelta(days=settings.OUTBOX_RETENTION_DAYS)
    OutboxMessage.objects.filter(status=Status.SENT, sent_at__lt=now - retention).delete()
    due = list(
        OutboxMessage.objects.due(now).order_by("next_attempt_at", "pk").values_list("pk", flat=True)[:limit]
    )
    stop_at = time.monotonic() + seconds
    sent = 0
    for pk in due:
        if time.monotonic() >= stop_at:
            break
        sent += outbox_deliver(message_id=pk, now=now)
    return sent


# Twilio's MessageStatus values that end a text's journey (the others — queued, sending, sent —
# are on the way). https://www.twilio.com/docs/messaging/api/message-resource#message-status-values
RECEIPT_DELIVERED = frozenset({"delivered", "read"})
RECEIPT_FAILED = frozenset({"failed", "undelivered"})


def outbox_record_receipt(*, provider_id: str, status: str, error_code: str, now: datetime) -> bool:
    """Record a provider's delivery receipt on the message it sent as ``provider_id``.

    Delivered → ``delivered_at``. Failed or undelivered → the message is *failed*, with the
    provider's reason, on the managers' failed-messages page. Each is a conditional UPDATE: the
    same receipt twice, or a late "delivered" after "failed", changes nothing. A receipt for a
    message we do not know (erased, or long deleted) changes nothing. True when something changed.
    """
    if not provider_id:
        return False
    sent = OutboxMessage.objects.filter(provider_id=provider_id, status=Status.SENT)
    if status in RECEIPT_DELIVERED:
        changed = sent.filter(delivered_at__isnull=True).update(delivered_at=now, updated_at=now)
    elif status in RECEIPT_FAILED:
        code = f", error {error_code}" if error_code else ""
        error = f"Not delivered: the provider reported it {status}{code}."
        changed = sent.update(status=Status.FAILED, last_error=error[:200], updated_at=now)
    else:
        return False
    if changed:
        logger.info("outbox: receipt %s for provider id %s", status, provider_id)
    return bool(changed)


@transaction.atomic
def outbox_send_again(*, message: OutboxMessage, now: datetime) -> bool:
    """A manager's "send again" for a failed message: queued afresh, attempts counted from zero.

    Not one whose text is gone: it was sent (its body is not kept) and the provider reported it
    undelivered: what it said can only be sent afresh from where it started."""
    updated = (
        OutboxMessage.objects.filter(pk=message.pk, status=Status.FAILED)
        .exclude(text="")
        .update(status=Status.QUEUED, attempts=0, next_attempt_at=now, claimed_at=None, last_error="")
    )
    if updated:
        enqueue(app.signature(DELIVER_TASK), message.pk)
    return bool(updated)


@contextmanager
def discarding() -> Iterator[None]:
    """Messages queued inside the block are deleted at its end, unsent: the demo's people are fictional.

    Development and benchmarks only (seeding); a task already enqueued for one finds nothing to send.
    """
    before = OutboxMessage.objects.aggregate(last=Max("pk"))["last"] or 0
    try:
        yield
    finally:
        OutboxMessage.objects.filter(pk__gt=before).delete()


def outbox_withdraw(*, ids: list[int]) -> list[int]:
    """Take back messages not sent yet (queued, or failed) because they are no longer wanted:
    the patient answered, or opted out. A message being sent at this moment is left to finish.
    Returns the ids taken back (deleted)."""
    if not ids:
        return []
    with transaction.atomic():
        unsent = OutboxMessage.objects.filter(pk__in=ids, status__in=(Status.QUEUED, Status.FAILED))
        taken = list(unsent.select_for_update(skip_locked=True).values_list("pk", flat=True))
        OutboxMessage.objects.filter(pk__in=taken).delete()
    return taken


def outbox_erase_recipient(*, to: str) -> int:
    """Forget every message to one address or number (a contact's erasure): sent or not."""
    deleted, _counts = OutboxMessage.objects.filter(to=to).delete()
    return deleted


def masked(to: str) -> str:
    """j•••@example.org, •••••••890: enough for a manager to recognise, not to read off a list."""
    if "@" in to:
        name, _at, domain = to.partition("@")
        return f"{name[:1]}•••@{domain}"
    return "•" * max(len(to) - 3, 3) + to[-3:]
