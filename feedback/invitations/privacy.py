"""Opting out, the retention purge, and a contact's access and erasure requests (audited)."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Q, QuerySet
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
from servicedesk.outbox import outbox_erase_recipient
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


def _contact_responses(contact: Contact, invitations) -> QuerySet[Response]:
    """Responses from the contact's invitations, and any that left this address with consent."""
    matches = Q(invitation__in=invitations)
    if contact.email:
        matches |= Q(contact_email__iexact=contact.email)
    if contact.phone:
        matches |= Q(contact_phone=contact.phone)
    return Response.objects.filter(matches)


@dataclass(frozen=True)
class ContactRecord:
    invitations: list[Invitation]
    responses: list[Response]
    suppressed: bool

    @property
    def is_empty(self) -> bool:
        return not self.invitations and not self.responses and not self.suppressed


def contact_find(*, contact: Contact, by: User, now: datetime) -> ContactRecord:
    """Everything held about one contact (an access request). The search is logged, the contact not."""
    invitations = list(
        contact_invitations(contact)
        .select_related("survey", "location", "touchpoint")
        .prefetch_related("messages")
    )
    responses = list(_contact_responses(contact, [i.pk for i in invitations]).select_related("survey"))
    record = ContactRecord(invitations, responses, contact_is_suppressed(contact=contact))
    _audit(by=by, action=AuditEvent.Action.VIEWED, invitations=len(invitations), responses=len(responses))
    return record


def _audit(*, by: User, action: str, invitations: int, responses: int) -> None:
    """Record an access or erasure request in the audit log, one event: how many invitations and
    responses it covered, never the contact (the log must not become the copy an erasure was
    meant to remove)."""
    request = "an erasure request" if action == AuditEvent.Action.ERASED else "an access request"
    log_action(
        None,
        action,
        by,
        {"invitations": invitations, "responses": responses},
        target_type="feedback.contact",
        label=f"everything held about one patient contact ({request})",
        count=invitations + responses,
    )


def contact_export(*, contact: Contact, by: User, now: datetime) -> dict:
    """The access request's answer: every invitation, message and response, as JSON-ready data."""
    invitations = list(
        contact_invitations(contact)
        .select_related("survey", "location", "touchpoint", "need_profile")
        .prefetch_related("messages")
    )
    responses = list(
        _contact_responses(contact, [i.pk for i in invitations])
        .select_related("survey")
        .prefetch_related("answers__question")
    )
    _audit(by=by, action=AuditEvent.Action.EXPORTED, invitations=len(invitations), responses=len(responses))

    def when(value: datetime | None) -> str | None:
        return value.isoformat() if value else None

    return {
        "practice": settings.PRACTICE_NAME,
        "exported_at": now.isoformat(),
        "contact": {"email": contact.email or None, "phone": contact.phone or None},
        "opted_out_of_survey_messages": contact_is_suppressed(contact=contact),
        "invitations": [
            {
                "survey": inv.survey.title,
                "first_name": inv.first_name,
                "email": inv.email,
                "phone": inv.phone,
                "visit_at": when(inv.visit_at),
                "location": str(inv.location or ""),
                "touchpoint": str(inv.touchpoint or ""),
                "clinician": inv.clinician,
                "need_profile": str(inv.need_profile or ""),
                "language": inv.language,
                "status": inv.status,
                "source": inv.source,
                "created_at": when(inv.created_at),
                "expires_at": when(inv.expires_at),
                "completed_at": when(inv.completed_at),
                "opted_out_at": when(inv.opted_out_at),
                "messages": [
                    {
                        "kind": m.kind,
                        "number": m.number,
                        "channel": m.channel,
                        "status": m.status,
                        "sent_at": when(m.sent_at),
                    }
                    for m in inv.messages.all()
                ],
            }
            for inv in invitations
        ],
        "responses": [
            {
                "survey": r.survey.title,
                "submitted_at": when(r.submitted_at),
                "language": r.language,
                "contact_name": r.contact_name,
                "contact_email": r.contact_email,
                "contact_phone": r.contact_phone,
                "answers": [{"question": a.question.text, "answer": a.display()} for a in r.answers.all()],
            }
            for r in responses
        ],
    }


@dataclass(frozen=True)
class Erasure:
    invitations: int
    responses: int


@transaction.atomic
def contact_erase(*, contact: Contact, by: User, now: datetime) -> Erasure:
    """An erasure request: delete the contact's invitations (and their messages), and unlink
    their responses from them and strip any contact details, so the answers that remain in the
    practice's statistics no longer point to the person.

    Outbox messages to their address or number go too (a loop question about an incident, say).

    The suppression list entry stays: it holds no address, and it is how the practice keeps
    respecting a "no more messages" after forgetting everything else.
    """
    invitations = contact_invitations(contact)
    invitation_ids = list(invitations.values_list("pk", flat=True))
    responses = _contact_responses(contact, invitation_ids)
    response_ids = list(responses.values_list("pk", flat=True))
    Response.objects.filter(pk__in=response_ids).update(
        invitation=None, consent_to_contact=False, contact_name="", contact_email="", contact_phone=""
    )
    Invitation.objects.filter(pk__in=invitation_ids).delete()
    for address in filter(None, (contact.email, contact.phone)):
        outbox_erase_recipient(to=address)  # messages to them waiting, failed or recently sent
    _audit(
        by=by, action=AuditEvent.Action.ERASED, invitations=len(invitation_ids), responses=len(response_ids)
    )
    logger.info("erasure request: %s invitations, %s responses", len(invitation_ids), len(response_ids))
    return Erasure(invitations=len(invitation_ids), responses=len(response_ids))
