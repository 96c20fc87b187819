"""Creating invitations: the timing rules, the checks on each visit, and the first message's row.

The database is the source of truth. Creating an invitation also creates its first message
row (``InvitationMessage`` number 0) with the time it is due; a unique constraint on
(invitation, number) makes a second "first invitation" or a second "reminder 1" impossible,
and a visit id is unique too. Handing due messages to the outbox, and reading back what became
of them, is ``delivery``'s. Log lines carry ids, never an address, a name or a token.
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
from django.db.models import OuterRef, Subquery

from feedback.invitations.contacts import Contact, contact_is_suppressed, contact_recently_invited
from feedback.models import (
    IntegrationToken,
    Invitation,
    InvitationMessage,
    InvitationRules,
    Survey,
)
from servicedesk.audit import update_logged
from servicedesk.models import Location, Touchpoint, User
from servicedesk.queue import enqueue, task

SEND_TASK = "feedback.tasks.send_invitation_message"

logger = logging.getLogger(__name__)


OPTED_OUT = "opted out"  # why a message was not sent, recorded in its last_error

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


def reminder_due(*, previous_sent_at: datetime, rules: InvitationRules, now: datetime) -> datetime:
    """When reminder N goes: ``reminder_after_days`` after message N-1 was sent, past the quiet hours."""
    return outside_quiet_hours(
        max(previous_sent_at + timedelta(days=rules.reminder_after_days), now), rules=rules
    )


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


@transaction.atomic
def invitation_rules_update(*, fields: Mapping[str, Any], by: User, now: datetime) -> bool:
    """Change the practice's sending rules (``fields``: InvitationRulesForm's cleaned data). They
    apply to messages not yet sent: each queued message is rescheduled by the new rules. Returns
    whether anything changed; the audit log says what."""
    rules = InvitationRules.current()
    changed = update_logged(rules, fields=fields, by=by, label="the invitation sending rules")
    if changed:
        messages_reschedule(rules=InvitationRules.current(), now=now)
    return changed


def messages_reschedule(*, rules: InvitationRules, now: datetime) -> int:
    """Move every queued message to when the rules now say it is due: the first message after the
    visit delay, reminder N ``reminder_after_days`` after the message before it was sent; either
    past the quiet hours. Returns how many moved."""
    queued = list(
        InvitationMessage.objects.filter(status=MessageStatus.QUEUED)
        .select_related("invitation")
        .annotate(
            previous_sent_at=Subquery(
                InvitationMessage.objects.filter(
                    invitation_id=OuterRef("invitation_id"), number=OuterRef("number") - 1
                ).values("sent_at")[:1]
            )
        )
    )
    moved = []
    for message in queued:
        if message.number == 0:
            due_at = first_message_due(visit_at=message.invitation.visit_at, rules=rules, now=now)
        elif message.previous_sent_at is not None:
            due_at = reminder_due(previous_sent_at=message.previous_sent_at, rules=rules, now=now)
        else:
            continue
        if due_at != message.due_at:
            message.due_at, message.enqueued_at, message.updated_at = due_at, None, now
            moved.append(message)
    InvitationMessage.objects.bulk_update(moved, ["due_at", "enqueued_at", "updated_at"], batch_size=1000)
    if moved:
        logger.info("sending rules changed: %s queued messages rescheduled", len(moved))
    return len(moved)


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
