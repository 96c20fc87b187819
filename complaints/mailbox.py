"""Complaints by email: each waiting email in the practice's mailbox (``servicedesk.inbox``) becomes
a new complaint, or a note on the complaint it answers, once.

An email answers a complaint when it names the complaint's reference (``INC-2026-0042``) in its
subject or text AND comes from the address the complaint holds for the patient, or continues an
email thread that complaint came from (its In-Reply-To or References name an email already turned
into that complaint). A reference alone is not enough: anyone could type one, and a stranger's
words must not land on another patient's complaint (theirs becomes a complaint of its own, with
the reference it quoted said in the first note).

Each email is locked (``skip_locked``), acted on and marked handled in one transaction, so two
workers, or one run twice, turn it into one thing. Its photos and PDFs are kept as attachments
(``servicedesk.attachments``), one timeline note each; a file that is not one is named in a note,
not kept. Once handled, the raw email is emptied: what mattered of it is now the complaint's.
"""

from __future__ import annotations

import email
import email.policy
import logging
import re
from datetime import datetime
from email.message import EmailMessage

from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction
from django.utils import timezone

from complaints import services
from complaints.models import Complaint
from complaints.vocabulary import ContactPreference, ReceivedBy, SubjectArea
from recovery.models import Incident
from recovery.services.incidents import incident_note
from recovery.vocabulary import Severity
from servicedesk.attachments.services import check_upload
from servicedesk.inbox.models import InboundMail

logger = logging.getLogger(__name__)

REFERENCE = re.compile(r"\bINC-\d{4}-\d{4,}\b", re.IGNORECASE)
MESSAGE_IDS = re.compile(r"<[^<>\s]+>")
BATCH = 50
LONGEST_DESCRIPTION = 4000


def complaints_from_mail(*, now: datetime | None = None, limit: int = BATCH) -> int:
    """Act on up to ``limit`` waiting emails; returns how many were handled."""
    now = now or timezone.now()
    handled = 0
    for pk in list(InboundMail.objects.waiting().values_list("pk", flat=True)[:limit]):
        handled += _handle(pk, now=now)
    return handled


@transaction.atomic
def _handle(pk: int, *, now: datetime) -> int:
    mail = InboundMail.objects.waiting().select_for_update(skip_locked=True).filter(pk=pk).first()
    if mail is None:
        return 0  # another worker has it, or it was handled a moment ago
    complaint = _answered(mail)
    if complaint is not None:
        incident = complaint.incident
        incident_note(incident=incident, by=None, body=_note(mail), now=now)
        became = f"note on {incident.reference}"
    else:
        complaint = _new_complaint(mail, now=now)
        incident = complaint.incident
        became = incident.reference
    _keep_attachments(mail, incident=incident, now=now)
    InboundMail.objects.filter(pk=mail.pk).update(
        status=InboundMail.Status.HANDLED, handled_as=became, handled_at=now, raw=b""
    )
    logger.info("inbox email %s became %s", mail.pk, became)
    return 1


def _answered(mail: InboundMail) -> Complaint | None:
    """The complaint this email continues, by its thread or by its reference and its sender."""
    thread = MESSAGE_IDS.findall(f"{mail.in_reply_to} {mail.references}")
    if thread:
        earlier = (
            InboundMail.objects.filter(message_id__in=thread, status=InboundMail.Status.HANDLED)
            .order_by("pk")
            .values_list("handled_as", flat=True)
        )
        for handled_as in earlier:
            found = REFERENCE.search(handled_as)
            if found:
                complaint = _complaint(found[0])
                if complaint is not None:
                    return complaint
    for reference in REFERENCE.findall(f"{mail.subject}\n{mail.text}"):
        complaint = _complaint(reference)
        if (
            complaint is not None
            and mail.sender
            and complaint.incident.patient_email.lower() == mail.sender.lower()
        ):
            return complaint
    return None


def _complaint(reference: str) -> Complaint | None:
    return Complaint.objects.select_related("incident").filter(incident__reference=reference.upper()).first()


def _note(mail: InboundMail) -> str:
    return f"Email from the patient: {mail.subject}\n\n{mail.text}".strip()[:LONGEST_DESCRIPTION]


def _new_complaint(mail: InboundMail, *, now: datetime) -> Complaint:
    received = (
        timezone.localdate(mail.sent_at) if mail.sent_at and mail.sent_at <= now else timezone.localdate(now)
    )
    description = mail.text.strip() or mail.subject or "(An email with no text.)"  # the subject is its title
    complaint = services.complaint_record(
        description=description[:LONGEST_DESCRIPTION],
        title=mail.subject[:120],
        subject_area=SubjectArea.OTHER,  # staff choose the right one when they read it
        received_by=ReceivedBy.EMAIL,
        received_on=received,
        severity=Severity.HIGH,
        now=now,
        by=None,
        # They wrote to us by email and expect an answer there.
        patient_consented=bool(mail.sender),
        patient_name=mail.sender_name,
        patient_email=mail.sender,
        contact_preference=ContactPreference.EMAIL if mail.sender else "",
    )
    quoted = [r.upper() for r in REFERENCE.findall(f"{mail.subject}\n{mail.text}")]
    if quoted:
        incident_note(
            incident=complaint.incident, by=None, now=now,
            body=f"This email quoted {', '.join(quoted)} but did not come from that complaint's patient, "
            "so it was opened as a complaint of its own.",
        )  # fmt: skip
    return complaint


def _keep_attachments(mail: InboundMail, *, incident: Incident, now: datetime) -> None:
    raw = bytes(mail.raw)
    if not raw:
        return
    message = email.message_from_bytes(raw, policy=email.policy.default)
    assert isinstance(message, EmailMessage)
    for part in message.iter_attachments():
        name = part.get_filename() or "attachment"
        try:
            data = part.get_content()
        except (LookupError, ValueError):
            continue
        if isinstance(data, str):
            data = data.encode()
        if not isinstance(data, bytes):
            continue
        try:
            upload = check_upload(SimpleUploadedFile(name, data))
        except ValidationError as refused:
            body = f"The email's attachment {name[:80]} was not kept: {' '.join(refused.messages)}"
            incident_note(incident=incident, by=None, body=body, now=now)
            continue
        body = f"Attached to the patient's email: {upload.name}"
        incident_note(incident=incident, by=None, body=body, now=now, attachment=upload)
