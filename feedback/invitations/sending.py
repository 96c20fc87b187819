"""Creating invitations and sending them once: timing rules, the first message and reminders, the sweep.

The database is the source of truth. Creating an invitation also creates its first message
row (``InvitationMessage`` number 0) with the time it is due; sending a message creates the
next reminder's row. A unique constraint on (invitation, number) makes a second "first
invitation" or a second "reminder 1" impossible, and a send is claimed with a conditional
UPDATE (queued → sending), so a task delivered twice, a retry, or two sweeps at once send
one message. The broker only wakes workers up: the minute sweep finds every due message in
the database, so a Redis outage delays messages and loses none. Log lines carry ids, never an
address, a name or a token.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F, Q
from django.template.loader import render_to_string
from django.utils import timezone, translation

from feedback.invitations.contacts import Contact, contact_is_suppressed, contact_recently_invited
from feedback.models import (
    IntegrationToken,
    Invitation,
    InvitationMessage,
    InvitationRules,
    Survey,
)
from servicedesk import notify
from servicedesk.audit import update_logged
from servicedesk.models import Location, Touchpoint, User
from servicedesk.queue import enqueue, publish, task

SEND_TASK = "feedback.tasks.send_invitation_message"

logger = logging.getLogger(__name__)


# A send claimed this long ago and never recorded: the worker died mid-send (see message_send).
STALE_SEND = timedelta(minutes=15)
# The sweep publishes a due message again only if its last publication is this old (a backlog).
REPUBLISH_AFTER = timedelta(minutes=5)
SWEEP_BATCH = 5000
RETRY_BASE = timedelta(minutes=1)
OPTED_OUT = "opted out"  # why a message was not sent, recorded in its last_error
RETRY_MAX = timedelta(hours=1)

Status = Invitation.Status
MessageStatus = InvitationMessage.Status


# --- Timing rules --------------------------------------------------------------------------------


def practice_zone() -> ZoneInfo:
    return ZoneInfo(settings.TIME_ZONE)


def outside_quiet_hours(when: datetime, *, rules: InvitationRules) -> datetime:
    """``when``, or the end of the quiet hours it falls in (practice time zone)."""
    if not rules.has_quiet_hours:
        return when
    zone = practice_zone()
    local = when.astimezone(zone)
    start, end, clock = rules.quiet_hours_start, rules.quiet_hours_end, local.time()
    if start > end:  # overnight, e.g. 20:00 → 09:00
        if end <= clock < start:
            return when
        day = local.date() if clock < end else local.date() + timedelta(days=1)
    else:  # within one day, e.g. 12:00 → 14:00
        if not (start <= clock < end):
            return when
        day = local.date()
    return datetime.combine(day, end, tzinfo=zone)


def in_quiet_hours(when: datetime, *, rules: InvitationRules) -> bool:
    return outside_quiet_hours(when, rules=rules) != when


def first_message_due(*, visit_at: datetime, rules: InvitationRules, now: datetime) -> datetime:
    return outside_quiet_hours(max(visit_at + timedelta(minutes=rules.delay_minutes), now), rules=rules)


def choose_channel(*, contact: Contact, rules: InvitationRules) -> str | None:
    """The channel by the practice's preference among the ones this contact has, or None."""
    Pref, Channel = InvitationRules.ChannelPreference, InvitationMessage.Channel
    has = {Channel.SMS: bool(contact.phone), Channel.EMAIL: bool(contact.email)}
    order = {
        Pref.SMS_FIRST: (Channel.SMS, Channel.EMAIL),
        Pref.EMAIL_FIRST: (Channel.EMAIL, Channel.SMS),
        Pref.SMS_ONLY: (Channel.SMS,),
        Pref.EMAIL_ONLY: (Channel.EMAIL,),
    }[rules.channel_preference]
    return next((channel for channel in order if has[channel]), None)


def retry_delay(attempts: int) -> timedelta:
    """Backoff after the Nth failed attempt: 1, 2, 4, 8 … minutes, at most an hour."""
    return min(RETRY_BASE * 2 ** max(attempts - 1, 0), RETRY_MAX)


@transaction.atomic
def invitation_rules_update(*, fields: Mapping[str, Any], by: User) -> bool:
    """Change the practice's sending rules (``fields``: InvitationRulesForm's cleaned data). They
    apply to messages not yet sent. Returns whether anything changed; the audit log says what."""
    rules = InvitationRules.current()
    return update_logged(rules, fields=fields, by=by, label="the invitation sending rules")


# --- Creating invitations ------------------------------------------------------------------------


class Outcome:
    """What became of one visit offered for an invitation."""

    CREATED = "created"
    DUPLICATE = "duplicate"  # this visit id was posted or uploaded before
    ALREADY_IMPORTED = "already_imported"  # a visit-list row whose visit id the database has (imports only)
    OPTED_OUT = "opted_out"
    RECENTLY_INVITED = "recently_invited"
    TOO_OLD = "too_old"  # the link would already have expired
    NO_CHANNEL = "no_channel"  # no address the channel preference allows

    LABELS = {
        CREATED: "Invited",
        DUPLICATE: "Already received (same visit id)",
        ALREADY_IMPORTED: "Already imported (same visit id)",
        OPTED_OUT: "Opted out of survey messages",
        RECENTLY_INVITED: "Invited recently (frequency cap)",
        TOO_OLD: "Visit too long ago to ask",
        NO_CHANNEL: "No email or mobile the sending rules allow",
    }


@dataclass(frozen=True)
class Visit:
    """One visit to invite a patient about, checked and resolved (from the API or a CSV row)."""

    survey: Survey
    visit_at: datetime
    contact: Contact
    first_name: str = ""
    location: Location | None = None
    touchpoint: Touchpoint | None = None
    clinician: str = ""
    language: str = "en"
    need_profile_id: int | None = None
    external_id: str = ""


@dataclass
class Prepared:
    outcome: str
    invitation: Invitation | None = None
    message: InvitationMessage | None = None
    extra: dict = field(default_factory=dict)


def invitation_prepare(
    *,
    visit: Visit,
    rules: InvitationRules,
    now: datetime,
    source: str,
    suppressed: bool,
    recently_invited: bool,
    build: bool = True,
) -> Prepared:
    """Decide what to do with one visit and build (unsaved) its invitation and first message.

    The caller has looked up suppression and the frequency cap (one query per visit for the
    API, one query per thousand rows for an import).
    """
    if suppressed:
        return Prepared(Outcome.OPTED_OUT)
    expires_at = visit.visit_at + timedelta(days=rules.expiry_days)
    if expires_at <= now:
        return Prepared(Outcome.TOO_OLD)
    if recently_invited:
        return Prepared(Outcome.RECENTLY_INVITED)
    channel = choose_channel(contact=visit.contact, rules=rules)
    if channel is None:
        return Prepared(Outcome.NO_CHANNEL)
    if not build:  # a check only needs the outcome
        return Prepared(Outcome.CREATED)
    invitation = Invitation(
        survey=visit.survey,
        email=visit.contact.email,
        phone=visit.contact.phone,
        email_hash=visit.contact.email_hash,
        phone_hash=visit.contact.phone_hash,
        first_name=visit.first_name,
        visit_at=visit.visit_at,
        location=visit.location,
        touchpoint=visit.touchpoint,
        clinician=visit.clinician,
        need_profile_id=visit.need_profile_id,
        language=visit.language,
        external_id=visit.external_id,
        source=source,
        expires_at=expires_at,
    )
    message = InvitationMessage(
        kind=InvitationMessage.Kind.FIRST,
        number=0,
        channel=channel,
        due_at=first_message_due(visit_at=visit.visit_at, rules=rules, now=now),
    )
    return Prepared(Outcome.CREATED, invitation, message)


def invitation_create(
    *,
    visit: Visit,
    source: str,
    now: datetime,
    integration: IntegrationToken | None = None,
    rules: InvitationRules | None = None,
) -> tuple[str, Invitation | None]:
    """Invite the patient about one visit, unless a rule says not to. Returns (outcome, invitation).

    Idempotent on ``visit.external_id``: a visit received twice (even by two requests at once,
    thanks to the unique constraint) is one invitation, and the second call gets DUPLICATE.
    """
    rules = rules or InvitationRules.current()
    if visit.external_id:
        existing = Invitation.objects.filter(external_id=visit.external_id).first()
        if existing is not None:
            return Outcome.DUPLICATE, existing
    cap_since = now - timedelta(days=rules.frequency_cap_days)
    prepared = invitation_prepare(
        visit=visit,
        rules=rules,
        now=now,
        source=source,
        suppressed=contact_is_suppressed(contact=visit.contact),
        recently_invited=rules.frequency_cap_days > 0
        and contact_recently_invited(contact=visit.contact, since=cap_since),
    )
    if prepared.invitation is None:
        return prepared.outcome, None
    invitation, message = prepared.invitation, prepared.message
    invitation.integration = integration
    try:
        with transaction.atomic():
            invitation.save()
            message.invitation = invitation
            message.save()
            if message.due_at <= now:
                _publish_on_commit(message.pk)
    except IntegrityError:
        if visit.external_id and Invitation.objects.filter(external_id=visit.external_id).exists():
            return Outcome.DUPLICATE, Invitation.objects.get(external_id=visit.external_id)
        raise
    logger.info("invitation %s created (%s)", invitation.pk, source)
    return Outcome.CREATED, invitation


def _publish_on_commit(message_id: int) -> None:
    enqueue(task(SEND_TASK), message_id)


# --- Sending -------------------------------------------------------------------------------------


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


def _deliver(message: InvitationMessage) -> str:
    rendered = message_render(message=message)
    kind = f"invitation-{message.kind}"
    if message.channel == InvitationMessage.Channel.SMS:
        return notify.send_sms(to=message.invitation.phone, body=rendered.sms, kind=kind)
    return notify.send_email(
        to=message.invitation.email,
        subject=rendered.subject,
        text=rendered.text,
        html=rendered.html,
        kind=kind,
    )


def _why_not_send(message: InvitationMessage, *, now: datetime) -> str | None:
    invitation = message.invitation
    if invitation.status not in Invitation.OPEN_STATUSES or invitation.expires_at <= now:
        return f"invitation {invitation.get_status_display().lower()}"
    address = invitation.phone if message.channel == InvitationMessage.Channel.SMS else invitation.email
    if not address:
        return "no contact details left"
    contact = Contact(email=invitation.email, phone=invitation.phone)
    if contact_is_suppressed(contact=contact):
        return OPTED_OUT
    return None


def message_send(*, message_id: int, now: datetime | None = None) -> bool:
    """Send one due message at most once. Returns True when it was handed to the provider.

    1. Claim: UPDATE queued → sending WHERE still queued and due. Zero rows means another
       worker has it, or it was sent, cancelled or rescheduled: nothing to do.
    2. Re-check under the claim: the patient may have answered, opted out or the link expired
       (→ cancelled), or the quiet hours may have begun (→ queued again for their end).
    3. Send through servicedesk.notify, outside any transaction.
    4. Record: sent (and the next reminder's row), or a retry with backoff, or failed.

    A worker that dies between 3 and 4 leaves the row "sending"; the sweep marks it failed
    rather than risk a second message (a manager can retry it).
    """
    now = now or timezone.now()
    claimed = InvitationMessage.objects.filter(
        pk=message_id, status=MessageStatus.QUEUED, due_at__lte=now
    ).update(status=MessageStatus.SENDING, attempts=F("attempts") + 1, claimed_at=now, updated_at=now)
    if not claimed:
        return False
    message = InvitationMessage.objects.select_related("invitation").get(pk=message_id)
    reason = _why_not_send(message, now=now)
    if reason is not None:
        _message_cancel(message=message, reason=reason, now=now)
        return False
    rules = InvitationRules.current()
    if in_quiet_hours(now, rules=rules):
        InvitationMessage.objects.filter(pk=message.pk, status=MessageStatus.SENDING).update(
            status=MessageStatus.QUEUED,
            attempts=F("attempts") - 1,
            due_at=outside_quiet_hours(now, rules=rules),
            claimed_at=None,
            enqueued_at=None,
            updated_at=now,
        )
        return False
    try:
        provider_id = _deliver(message)
    except notify.SendError as exc:
        _record_failure(message=message, error=str(exc), now=now)
        return False
    _record_sent(message=message, provider_id=provider_id, rules=rules, now=now)
    return True


@transaction.atomic
def _message_cancel(*, message: InvitationMessage, reason: str, now: datetime) -> None:
    InvitationMessage.objects.filter(pk=message.pk, status=MessageStatus.SENDING).update(
        status=MessageStatus.CANCELLED, last_error=reason, updated_at=now
    )
    if reason == OPTED_OUT:
        Invitation.objects.filter(pk=message.invitation_id, status__in=Invitation.OPEN_STATUSES).update(
            status=Status.OPTED_OUT, opted_out_at=now, updated_at=now
        )
    logger.info("invitation message %s cancelled: %s", message.pk, reason)


@transaction.atomic
def _record_sent(
    *, message: InvitationMessage, provider_id: str, rules: InvitationRules, now: datetime
) -> None:
    InvitationMessage.objects.filter(pk=message.pk).update(
        status=MessageStatus.SENT, sent_at=now, provider_id=provider_id[:200], last_error="", updated_at=now
    )
    invitation = message.invitation
    if message.kind == InvitationMessage.Kind.FIRST:
        Invitation.objects.filter(pk=invitation.pk, status=Status.PENDING).update(
            status=Status.SENT, sent_at=now, updated_at=now
        )
    else:
        Invitation.objects.filter(pk=invitation.pk, status__in=(Status.SENT, Status.REMINDED)).update(
            status=Status.REMINDED, reminder_count=message.number, last_reminded_at=now, updated_at=now
        )
    number = message.number + 1
    if number <= rules.max_reminders:
        due_at = outside_quiet_hours(now + timedelta(days=rules.reminder_after_days), rules=rules)
        if due_at < invitation.expires_at:
            # ignore_conflicts: the unique (invitation, number) makes "reminder N" a one-off.
            InvitationMessage.objects.bulk_create(
                [
                    InvitationMessage(
                        invitation=invitation,
                        kind=InvitationMessage.Kind.REMINDER,
                        number=number,
                        channel=message.channel,
                        due_at=due_at,
                    )
                ],
                ignore_conflicts=True,
            )
    logger.info("invitation message %s sent (%s %s)", message.pk, message.kind, message.channel)


@transaction.atomic
def _record_failure(*, message: InvitationMessage, error: str, now: datetime) -> None:
    attempts = InvitationMessage.objects.values_list("attempts", flat=True).get(pk=message.pk)
    error = error[:500]
    if attempts < settings.INVITATION_SEND_MAX_ATTEMPTS:
        InvitationMessage.objects.filter(pk=message.pk, status=MessageStatus.SENDING).update(
            status=MessageStatus.QUEUED,
            due_at=now + retry_delay(attempts),
            last_error=error,
            claimed_at=None,
            enqueued_at=None,
            updated_at=now,
        )
        logger.warning("invitation message %s attempt %s failed; will retry", message.pk, attempts)
        return
    InvitationMessage.objects.filter(pk=message.pk, status=MessageStatus.SENDING).update(
        status=MessageStatus.FAILED, last_error=error, updated_at=now
    )
    if message.kind == InvitationMessage.Kind.FIRST:
        Invitation.objects.filter(pk=message.invitation_id, status=Status.PENDING).update(
            status=Status.FAILED, updated_at=now
        )
    logger.error("invitation message %s failed after %s attempts", message.pk, attempts)


@transaction.atomic
def message_retry(*, message: InvitationMessage, now: datetime) -> bool:
    """A manager's retry of a failed message: the same row goes back to the queue (never a copy)."""
    invitation = Invitation.objects.select_for_update().get(pk=message.invitation_id)
    if not invitation.is_open(now) and invitation.status != Status.FAILED:
        return False
    if invitation.expires_at <= now or invitation.purged_at is not None:
        return False
    retried = InvitationMessage.objects.filter(pk=message.pk, status=MessageStatus.FAILED).update(
        status=MessageStatus.QUEUED, attempts=0, due_at=now, claimed_at=None, enqueued_at=now, updated_at=now
    )
    if not retried:
        return False
    if message.kind == InvitationMessage.Kind.FIRST:
        Invitation.objects.filter(pk=invitation.pk, status=Status.FAILED).update(
            status=Status.PENDING, updated_at=now
        )
    _publish_on_commit(message.pk)
    return True


# --- The sweep -----------------------------------------------------------------------------------


@dataclass
class SweepReport:
    expired: int = 0
    cancelled: int = 0
    interrupted: int = 0
    published: int = 0
    imports: int = 0

    def as_dict(self) -> dict:
        return self.__dict__.copy()


def invitations_sweep(*, now: datetime | None = None, limit: int = SWEEP_BATCH) -> SweepReport:
    """The minute job. Each step is a set-based conditional UPDATE, so two sweeps at once are safe.

    1. Expire open invitations whose link has expired.
    2. Cancel queued messages whose invitation is closed (answered, opted out, expired).
    3. Mark failed the sends a dying worker left half-done (never re-sent automatically).
    4. Publish a send task for each due message (not re-published within five minutes).
    5. Resume visit-list imports waiting for a worker.
    """
    now = now or timezone.now()
    report = SweepReport()
    report.expired = Invitation.objects.filter(
        status__in=Invitation.OPEN_STATUSES, expires_at__lte=now
    ).update(status=Status.EXPIRED, updated_at=now)
    report.cancelled = (
        InvitationMessage.objects.filter(status=MessageStatus.QUEUED)
        .exclude(invitation__status__in=Invitation.OPEN_STATUSES)
        .update(status=MessageStatus.CANCELLED, last_error="invitation closed", updated_at=now)
    )
    report.interrupted = InvitationMessage.objects.filter(
        status=MessageStatus.SENDING, claimed_at__lt=now - STALE_SEND
    ).update(
        status=MessageStatus.FAILED,
        last_error="Interrupted while sending; not retried automatically so the patient is not "
        "messaged twice. Retry if you know it did not arrive.",
        updated_at=now,
    )
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
