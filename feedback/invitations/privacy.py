"""Opting out, the retention purge, and a contact's access and erasure requests (audited)."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from feedback.invitations.contacts import Contact, contact_invitations, contact_is_suppressed
from feedback.invitations.delivery import messages_withdraw
from feedback.invitations.sending import OPTED_OUT
from feedback.models import (
    Invitation,
    InvitationImport,
    InvitationMessage,
    InvitationRules,
    Response,
    Suppression,
)
from servicedesk.audit import log_action
from servicedesk.models import User
from servicedesk.privacy import Person, person_counts, person_erase, person_export, person_find
from servicedesk.security.models import AuditEvent

logger = logging.getLogger(__name__)


# An import the manager never confirmed keeps patients' details no longer than this.
UNCONFIRMED_IMPORT_KEPT = timedelta(days=1)

Status = Invitation.Status
MessageStatus = InvitationMessage.Status


# --- Opting out ----------------------------------------------------------------------------------


def invitation_for_link(token: str) -> Invitation | None:
    """The invitation a patient's link belongs to, whatever its status, unless purged.

    Unlike ``Invitation.objects.by_token`` (the form), the opt-out works after the survey is
    answered or the link has expired: a patient may always say "no more messages".
    """
    return Invitation.objects.filter(purged_at__isnull=True).with_token(token)


@transaction.atomic
def contact_suppress(*, contact: Contact, reason: str, now: datetime) -> int:
    """Add the contact to the suppression list and close every open invitation to it."""
    for kind, digest in (("email", contact.email_hash), ("phone", contact.phone_hash)):
        if digest:
            Suppression.objects.get_or_create(
                contact_hash=digest, defaults={"kind": kind, "reason": reason, "created_at": now}
            )
    invitations = contact_invitations(contact)
    closed = invitations.filter(status__in=Invitation.OPEN_STATUSES).update(
        status=Status.OPTED_OUT, opted_out_at=now, updated_at=now
    )
    # Their unsent messages are cancelled, and what the outbox has not sent yet is taken back.
    messages_withdraw(
        invitation_ids=list(invitations.values_list("pk", flat=True)), reason=OPTED_OUT, now=now
    )
    return closed


@transaction.atomic
def invitation_opt_out(*, invitation: Invitation, now: datetime) -> None:
    """The patient's one click: no more survey messages to this email or phone, from any invitation."""
    contact = Contact(email=invitation.email, phone=invitation.phone)
    contact_suppress(contact=contact, reason=Suppression.Reason.OPT_OUT, now=now)
    Invitation.objects.filter(pk=invitation.pk, opted_out_at__isnull=True).update(
        opted_out_at=now, updated_at=now
    )
    logger.info("invitation %s: patient opted out", invitation.pk)


# --- Privacy: purge, access and erasure requests -------------------------------------------------


def invitations_purge(*, now: datetime | None = None, limit: int = 5000) -> int:
    """Forget contact details ``purge_after_days`` after an invitation was answered or expired.

    The invitation row stays (counts, response rates), without a name, address or hash.
    """
    now = now or timezone.now()
    rules = InvitationRules.current()
    cutoff = now - timedelta(days=rules.purge_after_days)
    closed = (Status.EXPIRED, Status.OPTED_OUT, Status.FAILED)
    due = list(
        Invitation.objects.filter(purged_at__isnull=True)
        .filter(
            Q(status=Status.COMPLETED, completed_at__lt=cutoff) | Q(status__in=closed, expires_at__lt=cutoff)
        )
        .values_list("pk", flat=True)[:limit]
    )
    with transaction.atomic():
        Invitation.objects.filter(pk__in=due).update(
            email="", phone="", first_name="", email_hash="", phone_hash="", purged_at=now, updated_at=now
        )
        # Provider errors can quote the address ("550 no such user bob@...").
        InvitationMessage.objects.filter(invitation_id__in=due).update(last_error="", provider_id="")
        InvitationImport.objects.filter(updated_at__lt=cutoff).exclude(issues=[]).update(issues=[])
        InvitationImport.objects.filter(
            status__in=(InvitationImport.Status.VALIDATED, InvitationImport.Status.FAILED),
            updated_at__lt=now - UNCONFIRMED_IMPORT_KEPT,
        ).update(status=InvitationImport.Status.DISCARDED, content=b"", finished_at=now, updated_at=now)
        if due:
            label = f"the contact details of invitations closed over {rules.purge_after_days} days ago"
            log_action(None, AuditEvent.Action.ERASED, None, target_type="feedback.invitation",
                       label=label, count=len(due))  # fmt: skip
    if due:
        logger.info("purged contact details of %s invitations", len(due))
    return len(due)


@dataclass(frozen=True)
class ContactRecord:
    invitations: list[Invitation]
    responses: list[Response]
    suppressed: bool
    # How many rows of each declared kind hold the contact ("incidents": 1, "messages": 2), non-zero.
    held: dict[str, int] = field(default_factory=dict)

    @property
    def is_empty(self) -> bool:
        return not self.held and not self.suppressed

    @property
    def held_elsewhere(self) -> dict[str, int]:
        """What the page lists beside the invitations and responses it shows one by one."""
        return {name: n for name, n in self.held.items() if name not in ("invitations", "responses")}


def _person(contact: Contact) -> Person:
    """Every row on the declared list of personal data (``servicedesk.privacy``) that holds the contact."""
    return person_find(email=contact.email, phone=contact.phone)


def contact_find(*, contact: Contact, by: User, now: datetime) -> ContactRecord:
    """Everything held about one contact (an access request). The search is logged, the contact not."""
    person = _person(contact)
    invitations = list(
        Invitation.objects.filter(pk__in=person.rows.get("feedback.invitation", []))
        .select_related("survey", "location", "touchpoint")
        .order_by("-visit_at")
    )
    responses = list(
        Response.objects.filter(pk__in=person.rows.get("feedback.response", [])).select_related("survey")
    )
    held = person_counts(person)
    record = ContactRecord(invitations, responses, contact_is_suppressed(contact=contact), held)
    _audit(by=by, action=AuditEvent.Action.VIEWED, held=held)
    return record


def _audit(*, by: User, action: str, held: dict[str, int]) -> None:
    """Record an access or erasure request in the audit log, one event: how many rows of each kind it
    covered, never the contact (the log must not become the copy an erasure was meant to remove)."""
    request = "an erasure request" if action == AuditEvent.Action.ERASED else "an access request"
    log_action(
        None,
        action,
        by,
        held,
        target_type="feedback.contact",
        label=f"everything held about one patient contact ({request})",
        count=sum(held.values()),
    )


def contact_export(*, contact: Contact, by: User, now: datetime) -> dict:
    """The access request's answer: every row on the declared list of personal data that holds the
    contact — invitations and their messages, responses and answers, incidents and their timeline,
    outbox messages, visit lists, audit events that mention them — as JSON-ready data."""
    person = _person(contact)
    _audit(by=by, action=AuditEvent.Action.EXPORTED, held=person_counts(person))
    return {
        "practice": settings.PRACTICE_NAME,
        "exported_at": now.isoformat(),
        "contact": {"email": contact.email or None, "phone": contact.phone or None},
        "opted_out_of_survey_messages": contact_is_suppressed(contact=contact),
        **person_export(person),
    }


@transaction.atomic
def contact_erase(*, contact: Contact, by: User, now: datetime) -> dict[str, int]:
    """An erasure request: erase the contact from every row on the declared list of personal data
    (``servicedesk.privacy``). Returns how many rows of each kind were erased.

    1. Their open invitations close (opted out) and their unsent messages are withdrawn: nothing
       more is sent to someone the practice no longer knows.
    2. Every row that holds them keeps its place in the figures without them: invitations as the
       retention purge leaves them, responses unlinked with their words replaced by the marker,
       incidents and their timeline with the contact details emptied and each mention replaced.
       Outbox messages to any of their addresses are deleted, sent or not.
    3. One audit event counts what was erased, never the contact.

    The suppression list entry stays: it holds no address, and it is how the practice keeps
    respecting a "no more messages" after forgetting everything else.
    """
    person = _person(contact)
    invitation_ids = person.rows.get("feedback.invitation", [])
    Invitation.objects.filter(pk__in=invitation_ids, status__in=Invitation.OPEN_STATUSES).update(
        status=Status.OPTED_OUT, opted_out_at=now, updated_at=now
    )
    messages_withdraw(invitation_ids=invitation_ids, reason=OPTED_OUT, now=now)
    erased = person_erase(person=person, now=now)
    _audit(by=by, action=AuditEvent.Action.ERASED, held=erased)
    logger.info(
        "erasure request: %s", ", ".join(f"{n} {name}" for name, n in erased.items()) or "nothing held"
    )
    return erased
