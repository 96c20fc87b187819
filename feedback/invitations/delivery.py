"""Handing due invitations and reminders to the outbox, and reading back what became of them.

The invitation decides *whether and when*; the outbox (``servicedesk.outbox``) does the
*sending*, as it does for every other email and text message: one row per message, keyed
``survey_invitation:<message id>``, retried with backoff, and shown to managers with "Send
again" once it has failed. So ``InvitationMessage.status`` reads:

- ``queued``: scheduled (the first message, or reminder N once the one before it was sent).
- ``sending``: handed to the outbox (``outbox`` is its row); nothing more to decide.
- ``sent``: the outbox sent it. The invitation is Sent or Reminded and the next reminder is due
  ``reminder_after_days`` after this send.
- ``failed``: the outbox gave up, or the provider's receipt said a sent text never arrived
  (undelivered). A first message leaves the invitation Failed and its reminder is withdrawn (it
  would go to the same number). A manager's "Send again" queues the same outbox row, and the
  next sweep reads it back as ``sending``; an undelivered text has no body left to send again.
- ``cancelled``: not needed: the patient answered or opted out, the link expired, or the outbox
  row was withdrawn or erased before it went.

Handing over re-checks the invitation under a row lock and writes the outbox row in the same
transaction, so a task delivered twice or two sweeps at once hand over one message; the lock
is never held during a provider call (the outbox sends after commit). The minute sweep reads
outcomes back with set-based queries, so a worker dying anywhere delays a status, never loses it.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import F, Q, QuerySet
from django.template.loader import render_to_string
from django.utils import timezone, translation

from feedback.invitations.contacts import Contact, contact_is_suppressed
from feedback.invitations.sending import (
    OPTED_OUT,
    SEND_TASK,
    in_quiet_hours,
    outside_quiet_hours,
    reminder_due,
)
from feedback.models import Invitation, InvitationMessage, InvitationRules
from servicedesk import identity
from servicedesk.models import OutboxMessage
from servicedesk.outbox import message_key, outbox_deliver, outbox_email, outbox_sms, outbox_withdraw
from servicedesk.queue import publish, task

logger = logging.getLogger(__name__)

# The sweep publishes a due message again only if its last publication is this old (a backlog).
REPUBLISH_AFTER = timedelta(minutes=5)
SWEEP_BATCH = 5000
WITHDRAWN = "withdrawn before it was sent"

Status = Invitation.Status
MessageStatus = InvitationMessage.Status
OutboxStatus = OutboxMessage.Status

# The outbox's kinds for invitation messages (its failed-messages page names them).
OUTBOX_KIND = {
    InvitationMessage.Kind.FIRST: "survey_invitation",
    InvitationMessage.Kind.REMINDER: "survey_reminder",
}


@dataclass(frozen=True)
class Rendered:
    subject: str
    text: str
    html: str
    sms: str


def message_render(*, message: InvitationMessage) -> Rendered:
    """The message in the invitation's language: practice name, link, opt-out link, nothing clinical."""
    invitation = message.invitation
    language = invitation.language if invitation.language in ("en", "es") else "en"
    context = {
        "practice": settings.PRACTICE_NAME,
        "look": identity.current(),  # the practice's logo and accent
        "site_url": settings.SITE_URL,
        "first_name": invitation.first_name,
        "link": settings.SITE_URL + invitation.get_absolute_url(),
        "opt_out_link": settings.SITE_URL + invitation.get_absolute_url() + "opt-out/",
        "is_reminder": message.kind == InvitationMessage.Kind.REMINDER,
        "expires_on": invitation.expires_at,
    }
    folder = "feedback/messages"
    with translation.override(language):
        return Rendered(
            subject=render_to_string(f"{folder}/invitation_subject_{language}.txt", context).strip(),
            text=render_to_string(f"{folder}/invitation_email_{language}.txt", context),
            html=render_to_string(f"{folder}/invitation_email_{language}.html", context),
            sms=" ".join(render_to_string(f"{folder}/invitation_sms_{language}.txt", context).split()),
        )


def _why_not_send(message: InvitationMessage, *, now: datetime) -> str | None:
    invitation = message.invitation
    if invitation.status not in Invitation.OPEN_STATUSES or invitation.expires_at <= now:
        return f"invitation {invitation.get_status_display().lower()}"
    address = invitation.phone if message.channel == InvitationMessage.Channel.SMS else invitation.email
    if not address:
        return "no contact details left"
    if contact_is_suppressed(contact=Contact(email=invitation.email, phone=invitation.phone)):
        return OPTED_OUT
    return None


def message_send(*, message_id: int, now: datetime | None = None) -> bool:
    """Hand one due message to the outbox, then try to send it at once. True when it went.

    Whatever happens after the hand-over (a refusal, a retry, this worker dying) is the
    outbox's to finish; the sweep reads the outcome back.
    """
    now = now or timezone.now()
    outbox_id = message_hand_over(message_id=message_id, now=now)
    if outbox_id is None:
        return False
    if not outbox_deliver(message_id=outbox_id, now=now):
        return False  # refused (the outbox retries it) or taken by another worker: the sweep reads it back
    message = InvitationMessage.objects.select_related("invitation", "outbox").get(pk=message_id)
    _record_sent(message=message, rules=InvitationRules.current(), now=now)
    return True


def message_hand_over(*, message_id: int, now: datetime) -> int | None:
    """Write the outbox row for one due message, or cancel it, or move it past the quiet hours.

    Returns the outbox row's id when it was handed over. The message row is locked (skipping
    one another worker holds) while the invitation is re-checked, and unlocked before any send.
    """
    with transaction.atomic():
        message = (
            InvitationMessage.objects.due(now)
            .select_for_update(skip_locked=True, of=("self",))
            .select_related("invitation")
            .filter(pk=message_id)
            .first()
        )
        if message is None:
            return None  # handed over, cancelled, rescheduled, not yet due, or another worker has it
        reason = _why_not_send(message, now=now)
        if reason is not None:
            _message_cancel(message=message, reason=reason, now=now)
            return None
        rules = InvitationRules.current()
        if in_quiet_hours(now, rules=rules):
            later = outside_quiet_hours(now, rules=rules)
            InvitationMessage.objects.filter(pk=message.pk).update(
                due_at=later, enqueued_at=None, updated_at=now
            )
            return None
        outbox_id = message_to_outbox(message, now=now)
        InvitationMessage.objects.filter(pk=message.pk).update(
            status=MessageStatus.SENDING, outbox_id=outbox_id, attempts=F("attempts") + 1, claimed_at=now,
            updated_at=now,
        )  # fmt: skip
    logger.info("invitation message %s handed to the outbox as %s", message.pk, outbox_id)
    return outbox_id


def message_to_outbox(message: InvitationMessage, *, now: datetime) -> int:
    """Write the message's outbox row (rendered in the patient's language); returns its id."""
    rendered = message_render(message=message)
    kind = OUTBOX_KIND[InvitationMessage.Kind(message.kind)]
    key = message_key(kind, message.pk)
    invitation = message.invitation
    if message.channel == InvitationMessage.Channel.SMS:
        outbox_sms(key=key, to=invitation.phone, text=rendered.sms, kind=kind, now=now)
    else:
        outbox_email(
            key=key, to=invitation.email, subject=rendered.subject, text=rendered.text, html=rendered.html,
            kind=kind, now=now,
        )  # fmt: skip
    return OutboxMessage.objects.values_list("pk", flat=True).get(key=key)


def _message_cancel(*, message: InvitationMessage, reason: str, now: datetime) -> None:
    InvitationMessage.objects.filter(pk=message.pk).update(
        status=MessageStatus.CANCELLED, last_error=reason, updated_at=now
    )
    if reason == OPTED_OUT:
        Invitation.objects.filter(pk=message.invitation_id, status__in=Invitation.OPEN_STATUSES).update(
            status=Status.OPTED_OUT, opted_out_at=now, updated_at=now
        )
    logger.info("invitation message %s cancelled: %s", message.pk, reason)


# --- Reading back what the outbox did ------------------------------------------------------------


@dataclass
class ReadBack:
    sent: int = 0
    failed: int = 0
    sent_again: int = 0
    withdrawn: int = 0
    undelivered: int = 0


def messages_read_back(*, now: datetime, message_ids: list[int] | None = None) -> ReadBack:
    """Bring handed-over messages up to date with their outbox rows (all of them, or ``message_ids``).

    Each step is a conditional UPDATE on the message's status, so running it twice, or beside
    another sweep, records each outcome once.
    """
    handed = InvitationMessage.objects.all()
    if message_ids is not None:
        handed = handed.filter(pk__in=message_ids)
    report = ReadBack()
    sent = handed.filter(
        status__in=(MessageStatus.SENDING, MessageStatus.FAILED), outbox__status=OutboxStatus.SENT
    ).select_related("invitation", "outbox")
    rules = InvitationRules.current()
    for message in sent:
        report.sent += _record_sent(message=message, rules=rules, now=now)
    for message in handed.filter(
        status=MessageStatus.SENDING, outbox__status=OutboxStatus.FAILED
    ).select_related("outbox"):
        report.failed += _record_failure(message=message, now=now)
    for message in handed.filter(
        status=MessageStatus.SENT, outbox__status=OutboxStatus.FAILED
    ).select_related("outbox"):
        report.undelivered += _record_undelivered(message=message, now=now)
    report.sent_again = _record_sent_again(handed, now=now)
    report.withdrawn = handed.filter(status=MessageStatus.SENDING, outbox__isnull=True).update(
        status=MessageStatus.CANCELLED, last_error=WITHDRAWN, updated_at=now
    )
    return report


@transaction.atomic
def _record_sent(*, message: InvitationMessage, rules: InvitationRules, now: datetime) -> int:
    outbox = message.outbox
    if outbox is None or outbox.sent_at is None:
        return 0  # read back a moment ago, or erased since
    handed = (MessageStatus.SENDING, MessageStatus.FAILED)  # failed: a manager sent it again, and it went
    sent_at = outbox.sent_at
    recorded = InvitationMessage.objects.filter(pk=message.pk, status__in=handed).update(
        status=MessageStatus.SENT,
        sent_at=sent_at,
        provider_id=outbox.provider_id,
        last_error="",
        updated_at=now,
    )
    if not recorded:
        return 0
    invitation = message.invitation
    if message.kind == InvitationMessage.Kind.FIRST:
        Invitation.objects.filter(pk=invitation.pk, status__in=(Status.PENDING, Status.FAILED)).update(
            status=Status.SENT, sent_at=sent_at, updated_at=now
        )
    else:
        Invitation.objects.filter(pk=invitation.pk, status__in=(Status.SENT, Status.REMINDED)).update(
            status=Status.REMINDED, reminder_count=message.number, last_reminded_at=sent_at, updated_at=now
        )
    number = message.number + 1
    if number <= rules.max_reminders:
        due_at = reminder_due(previous_sent_at=sent_at, rules=rules, now=sent_at)
        if due_at < invitation.expires_at:
            # ignore_conflicts: the unique (invitation, number) makes "reminder N" a one-off.
            reminder = InvitationMessage(
                invitation=invitation, kind=InvitationMessage.Kind.REMINDER, number=number,
                channel=message.channel, due_at=due_at,
            )  # fmt: skip
            InvitationMessage.objects.bulk_create([reminder], ignore_conflicts=True)
    logger.info("invitation message %s sent (%s %s)", message.pk, message.kind, message.channel)
    return 1


@transaction.atomic
def _record_failure(*, message: InvitationMessage, now: datetime) -> int:
    error = message.outbox.last_error if message.outbox else ""
    recorded = InvitationMessage.objects.filter(pk=message.pk, status=MessageStatus.SENDING).update(
        status=MessageStatus.FAILED, last_error=error, updated_at=now
    )
    if recorded and message.kind == InvitationMessage.Kind.FIRST:
        Invitation.objects.filter(pk=message.invitation_id, status=Status.PENDING).update(
            status=Status.FAILED, updated_at=now
        )
    if recorded:
        logger.warning("invitation message %s failed; it is on the failed-messages page", message.pk)
    return recorded


UNDELIVERED_BEFORE = "the message before it was not delivered"


@transaction.atomic
def _record_undelivered(*, message: InvitationMessage, now: datetime) -> int:
    """A sent text the provider later reported undelivered (its receipt failed the outbox row).

    The message is failed with the provider's reason. A first message leaves an invitation that is
    still only Sent as Failed, and withdraws its reminder: it would go to the same number. One the
    patient has answered since, or that was reminded by then, keeps its status.
    """
    error = message.outbox.last_error if message.outbox else ""
    recorded = InvitationMessage.objects.filter(pk=message.pk, status=MessageStatus.SENT).update(
        status=MessageStatus.FAILED, last_error=error, updated_at=now
    )
    if not recorded:
        return 0
    if message.kind == InvitationMessage.Kind.FIRST:
        failed = Invitation.objects.filter(pk=message.invitation_id, status=Status.SENT).update(
            status=Status.FAILED, updated_at=now
        )
        if failed:
            reminders = InvitationMessage.objects.filter(
                invitation_id=message.invitation_id, kind=InvitationMessage.Kind.REMINDER
            )
            handed = dict(
                reminders.filter(status=MessageStatus.SENDING, outbox__isnull=False).values_list(
                    "outbox_id", "pk"
                )
            )
            taken_back = [handed[outbox_id] for outbox_id in outbox_withdraw(ids=list(handed))]
            reminders.filter(Q(status=MessageStatus.QUEUED) | Q(pk__in=taken_back)).update(
                status=MessageStatus.CANCELLED, outbox=None, last_error=UNDELIVERED_BEFORE, updated_at=now
            )
    logger.warning("invitation message %s was not delivered; it is on the failed-messages page", message.pk)
    return 1


@transaction.atomic
def _record_sent_again(handed: QuerySet[InvitationMessage], *, now: datetime) -> int:
    """A manager's "Send again" on the outbox's failed page: the message is on its way once more."""
    again = handed.filter(
        status=MessageStatus.FAILED, outbox__status__in=(OutboxStatus.QUEUED, OutboxStatus.SENDING)
    )
    ids = list(again.values_list("pk", flat=True))
    if not ids:
        return 0
    InvitationMessage.objects.filter(pk__in=ids, status=MessageStatus.FAILED).update(
        status=MessageStatus.SENDING, last_error="", updated_at=now
    )
    Invitation.objects.filter(
        status=Status.FAILED, messages__pk__in=ids, messages__kind=InvitationMessage.Kind.FIRST
    ).update(status=Status.PENDING, updated_at=now)
    return len(ids)


def messages_withdraw(*, invitation_ids: list[int], reason: str, now: datetime) -> int:
    """Cancel the unsent messages of these invitations (answered, opted out, link expired).

    What was handed to the outbox and is not sent yet (queued, or failed) is taken back; a
    message the outbox is sending at this moment is left to finish and read back as sent.
    Returns how many messages were cancelled.
    """
    messages = InvitationMessage.objects.filter(invitation_id__in=invitation_ids)
    handed = dict(
        messages.filter(status__in=(MessageStatus.SENDING, MessageStatus.FAILED), outbox__isnull=False)
        .values_list("outbox_id", "pk")
    )  # fmt: skip
    taken_back = [handed[outbox_id] for outbox_id in outbox_withdraw(ids=list(handed))]
    cancelled = messages.filter(Q(status=MessageStatus.QUEUED) | Q(pk__in=taken_back))
    return cancelled.update(status=MessageStatus.CANCELLED, outbox=None, last_error=reason, updated_at=now)


def _closed(now: datetime) -> Q:
    """Invitations whose unsent messages are no longer wanted (relative to InvitationMessage)."""
    return Q(invitation__status__in=(Status.COMPLETED, Status.OPTED_OUT, Status.EXPIRED)) | Q(
        invitation__expires_at__lte=now
    )


# --- The sweep -----------------------------------------------------------------------------------


@dataclass
class SweepReport:
    expired: int = 0
    cancelled: int = 0
    sent: int = 0
    failed: int = 0
    sent_again: int = 0
    withdrawn: int = 0
    undelivered: int = 0
    published: int = 0
    imports: int = 0

    def as_dict(self) -> dict[str, int]:
        return self.__dict__.copy()


def invitations_sweep(*, now: datetime | None = None, limit: int = SWEEP_BATCH) -> SweepReport:
    """The minute job. Each step is set-based and conditional, so two sweeps at once are safe.

    1. Expire open invitations whose link has expired.
    2. Cancel the unsent messages of closed invitations (answered, opted out, expired), taking
       back from the outbox what it has not sent yet.
    3. Read back what the outbox sent, gave up on, heard was undelivered, or was asked to send again.
    4. Publish a hand-over task for each due message (not re-published within five minutes).
    5. Resume visit-list imports waiting for a worker.
    """
    now = now or timezone.now()
    report = SweepReport()
    report.expired = Invitation.objects.filter(
        status__in=Invitation.OPEN_STATUSES, expires_at__lte=now
    ).update(status=Status.EXPIRED, updated_at=now)
    unsent = Q(status=MessageStatus.QUEUED) | Q(
        status__in=(MessageStatus.SENDING, MessageStatus.FAILED),
        outbox__status__in=(OutboxStatus.QUEUED, OutboxStatus.FAILED),
    )
    closed = InvitationMessage.objects.filter(unsent, _closed(now)).values_list("invitation_id", flat=True)
    report.cancelled = messages_withdraw(
        invitation_ids=list(closed.distinct()[:limit]), reason="invitation closed", now=now
    )
    read_back = messages_read_back(now=now)
    report.sent, report.failed = read_back.sent, read_back.failed
    report.sent_again, report.withdrawn = read_back.sent_again, read_back.withdrawn
    report.undelivered = read_back.undelivered
    report.published = _publish_due(now=now, limit=limit)
    from feedback.invitations.imports import imports_resume

    report.imports = imports_resume(now=now)
    return report


def _publish_due(*, now: datetime, limit: int) -> int:
    due = list(
        InvitationMessage.objects.due(now)
        .filter(Q(enqueued_at__isnull=True) | Q(enqueued_at__lt=now - REPUBLISH_AFTER))
        .order_by("due_at")
        .values_list("pk", flat=True)[:limit]
    )
    if not due:
        return 0
    InvitationMessage.objects.filter(pk__in=due).update(enqueued_at=now)
    published = 0
    for pk in due:
        if not publish(task(SEND_TASK), pk, probe=True):
            # Not published: let the next sweep publish them at once, not five minutes later.
            InvitationMessage.objects.filter(pk__in=due[published:], status=MessageStatus.QUEUED).update(
                enqueued_at=None
            )
            break
        published += 1
    return published
