"""Demo complaints: a handful at every stage — one whose acknowledgement is overdue, one just
received, one acknowledged with a date agreed, one extended, one answered (partly upheld), one
withdrawn, one made on the public form, and one emailed with a photo (as the mailbox read turns an
email into a complaint). Made by the real services at past moments, so their clocks and the
incidents' timelines read as they would have happened.

Idempotent: skipped when the demo's complaints are already there (matched by their titles).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from datetime import timedelta
from email.message import EmailMessage

from django.db import transaction
from django.utils import timezone

from complaints import services
from complaints.mailbox import complaints_from_mail
from complaints.models import Complaint
from complaints.vocabulary import ContactPreference, Outcome, ReceivedBy, SubjectArea
from recovery.vocabulary import Severity
from servicedesk import outbox
from servicedesk.attachments.samples import picture
from servicedesk.clock import local_today
from servicedesk.inbox.models import InboundMail
from servicedesk.models import User
from servicedesk.roles import Role

# (days ago, received by, subject, what the patient said, stage)
COMPLAINTS = [
    (9, ReceivedBy.LETTER, SubjectArea.APPOINTMENTS,
     "Complaint by letter: three cancelled appointments in a row for my mother's review.", "overdue"),
    (0, ReceivedBy.PHONE, SubjectArea.ATTITUDE,
     "Complaint by phone: the receptionist was dismissive when I asked for an urgent appointment.", "new"),
    (12, ReceivedBy.EMAIL, SubjectArea.PRESCRIBING,
     "Complaint by email: my repeat prescription was sent to the wrong pharmacy twice.", "agreed"),
    (30, ReceivedBy.IN_PERSON, SubjectArea.CLINICAL,
     "Complaint in person: the results of my blood test were never explained to me.", "extended"),
    (45, ReceivedBy.LETTER, SubjectArea.COMMUNICATIONS,
     "Complaint by letter: nobody told me my referral letter had not been sent.", "answered"),
    (20, ReceivedBy.PHONE, SubjectArea.FACILITIES,
     "Complaint by phone: the ramp to the side door was blocked by bins again.", "withdrawn"),
    (2, ReceivedBy.ONLINE, SubjectArea.COMMUNICATIONS,
     "Complaint online: I was promised a call back about my test results and nobody rang.", "online"),
]  # fmt: skip


def seed(*, options: dict, out: Callable[[str], None]) -> None:
    now = timezone.now()
    texts = [text for *_rest, text, _stage in COMPLAINTS]
    if Complaint.objects.filter(incident__description__in=texts).exists():
        out("Complaints: already there.")
        return
    staff = User.objects.with_role(Role.STAFF).order_by("pk").first() or User.objects.managers().first()
    if staff is None:
        return
    with outbox.discarding():
        for n, (days, received_by, subject, text, stage) in enumerate(COMPLAINTS):
            with transaction.atomic():
                _one(n=n, days=days, received_by=received_by, subject=subject, text=text, stage=stage,
                     by=staff, now=now)  # fmt: skip
        _by_email(now=now)
    out(f"Complaints: {len(COMPLAINTS)} demo complaints at every stage, one acknowledgement overdue, "
        "and one that came by email with a photo.")  # fmt: skip


EMAILED = "The hand rail on the stairs to the first floor is loose. My father nearly fell. Photo attached."


def _by_email(*, now) -> None:
    """An email in the practice's mailbox with a photo, turned into a complaint as the mailbox read does."""
    message = EmailMessage()
    message["From"] = "Sam Okafor <sam.okafor@example.org>"
    message["To"] = "practice@example.org"
    message["Subject"] = "Complaint: loose hand rail"
    message["Message-ID"] = "<demo-hand-rail@example.org>"
    message.set_content(EMAILED)
    message.add_attachment(picture(colour="#9e9e9e"), maintype="image", subtype="jpeg", filename="rail.jpg")
    raw = bytes(message)
    InboundMail.objects.get_or_create(
        digest=hashlib.sha256(message["Message-ID"].encode()).hexdigest(),
        defaults={
            "mailbox": "demo", "uidvalidity": 1, "uid": 1, "message_id": message["Message-ID"],
            "sender": "sam.okafor@example.org", "sender_name": "Sam Okafor", "subject": message["Subject"],
            "text": EMAILED, "raw": raw, "size": len(raw), "sent_at": now - timedelta(hours=3),
            "received_at": now - timedelta(hours=3),
        },
    )  # fmt: skip
    complaints_from_mail(now=now)


def _one(*, n: int, days: int, received_by, subject, text, stage, by: User, now) -> None:
    at = now - timedelta(days=days, hours=2)
    online = stage == "online"
    complaint = services.complaint_record(
        description=text,
        subject_area=subject,
        received_by=received_by,
        received_on=local_today(at),
        severity=Severity.HIGH if n % 2 else Severity.MEDIUM,
        now=at,
        by=None if online else by,
        patient_consented=True,
        patient_name=f"Demo Patient {n + 1}",
        patient_email=f"demo.patient{n + 1}@example.org",
        patient_address="" if n % 3 else f"{n + 1} High Street\nExampletown\nEX1 {n}AB",
        contact_preference=ContactPreference.LETTER if n % 3 == 0 else ContactPreference.EMAIL,
    )
    if stage in ("new", "overdue", "online"):
        return
    services.complaint_acknowledge(complaint=complaint, by=by, now=at + timedelta(days=1))
    due = local_today(at) + timedelta(days=28)
    services.complaint_agree_response_date(complaint=complaint, on=due, by=by, now=at + timedelta(days=1))
    if stage == "extended":
        services.complaint_extend(
            complaint=complaint,
            new_date=due + timedelta(days=21),
            reason="The patient agreed: we are waiting for the hospital's records.",
            by=by,
            now=at + timedelta(days=20),
        )
    elif stage == "answered":
        services.complaint_respond(
            complaint=complaint,
            outcome=Outcome.PARTLY_UPHELD,
            summary="We apologised for the delay, sent the referral and changed how referrals are checked.",
            by=by,
            now=at + timedelta(days=25),
        )
    elif stage == "withdrawn":
        services.complaint_respond(
            complaint=complaint, outcome=Outcome.WITHDRAWN, summary="", by=by, now=at + timedelta(days=3)
        )
