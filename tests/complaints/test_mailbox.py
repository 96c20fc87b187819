"""Complaints by email, end to end against a real IMAP server (Dovecot): an email becomes a
complaint with its photo, a reply lands on the same complaint, and reading twice changes nothing."""

from __future__ import annotations

from datetime import timedelta
from email.message import EmailMessage
from email.utils import format_datetime

import pytest
from django.utils import timezone

from complaints.mailbox import complaints_from_mail
from complaints.models import Complaint
from complaints.vocabulary import ContactPreference, ReceivedBy
from recovery.models import FollowUp
from servicedesk.attachments.samples import picture
from servicedesk.inbox.models import InboundMail
from servicedesk.inbox.tasks import read_inbox as read_inbox_task

pytestmark = pytest.mark.django_db
PATIENT = "pat.jones@example.org"


def WRITTEN():
    return timezone.now() - timedelta(hours=2)


@pytest.fixture
def read_inbox(django_capture_on_commit_callbacks):
    """The beat task as a worker runs it: its signal goes out once its work commits."""

    def read() -> None:
        with django_capture_on_commit_callbacks(execute=True):
            read_inbox_task()

    return read


def email(*, sender: str = PATIENT, subject: str = "Complaint about the front desk", body: str = "",
          message_id: str = "<first@example.org>", photo: bool = False, **headers: str) -> bytes:  # fmt: skip
    message = EmailMessage()
    message["From"] = f"Pat Jones <{sender}>"
    message["To"] = "practice@example.org"
    message["Subject"] = subject
    message["Message-ID"] = message_id
    message["Date"] = headers.pop("Date", format_datetime(WRITTEN()))
    for name, value in headers.items():
        message[name.replace("_", "-")] = value
    message.set_content(body or "I waited an hour and nobody told me why.")
    if photo:
        message.add_attachment(picture(), maintype="image", subtype="jpeg", filename="queue.jpg")
    return bytes(message)


def test_an_email_becomes_a_complaint_with_its_photo_and_twice_changes_nothing(dovecot, read_inbox):
    dovecot.deliver(email(photo=True))
    read_inbox()
    read_inbox()
    [complaint] = Complaint.objects.select_related("incident")
    incident = complaint.incident
    assert complaint.received_by == ReceivedBy.EMAIL
    assert complaint.contact_preference == ContactPreference.EMAIL
    assert (incident.patient_email, incident.patient_name) == (PATIENT, "Pat Jones")
    assert "I waited an hour" in incident.description
    assert complaint.received_on == timezone.localdate(WRITTEN())  # the day it was written
    [photo_note] = incident.timeline.filter(attachment__isnull=False)
    assert photo_note.attachment.original_name == "queue.jpg"
    assert photo_note.attachment.thumbnail
    mail = InboundMail.objects.get()
    assert (mail.status, mail.handled_as, bytes(mail.raw)) == (
        InboundMail.Status.HANDLED,
        incident.reference,
        b"",
    )
    assert complaints_from_mail() == 0


def test_a_reply_quoting_the_reference_lands_on_the_same_complaint(dovecot, read_inbox):
    dovecot.deliver(email())
    read_inbox()
    reference = Complaint.objects.get().incident.reference
    dovecot.deliver(email(subject=f"Re: your complaint {reference}", body="Thank you, that helps.",
                          message_id="<second@example.org>"))  # fmt: skip
    read_inbox()
    assert Complaint.objects.count() == 1
    note = Complaint.objects.get().incident.timeline.filter(kind=FollowUp.Kind.NOTE).latest("pk")
    assert "Thank you, that helps." in note.body
    assert InboundMail.objects.get(message_id="<second@example.org>").handled_as == f"note on {reference}"


def test_a_reply_in_the_same_thread_lands_on_the_complaint_without_the_reference(dovecot, read_inbox):
    dovecot.deliver(email())
    read_inbox()
    dovecot.deliver(email(subject="Re: Complaint about the front desk", body="One more thing.",
                          message_id="<third@example.org>", In_Reply_To="<first@example.org>"))  # fmt: skip
    read_inbox()
    assert Complaint.objects.count() == 1


def test_a_stranger_quoting_a_reference_gets_a_complaint_of_their_own(dovecot, read_inbox):
    dovecot.deliver(email())
    read_inbox()
    reference = Complaint.objects.get().incident.reference
    dovecot.deliver(email(sender="someone.else@example.org", subject=f"About {reference}",
                          message_id="<other@example.org>"))  # fmt: skip
    read_inbox()
    assert Complaint.objects.count() == 2
    theirs = Complaint.objects.get(incident__patient_email="someone.else@example.org")
    assert theirs.incident.timeline.filter(body__contains=f"quoted {reference}").exists()
    first = Complaint.objects.get(incident__reference=reference)
    assert not first.incident.timeline.filter(body__contains="someone.else").exists()


def test_an_attachment_that_is_not_a_photo_or_pdf_is_named_not_kept(dovecot, read_inbox):
    message = EmailMessage()
    message["From"], message["Subject"], message["Message-ID"] = PATIENT, "See attached", "<exe@x>"
    message.set_content("Please look at this.")
    message.add_attachment(b"MZ\x90\x00binary", maintype="application", subtype="octet-stream",
                           filename="invoice.exe")  # fmt: skip
    dovecot.deliver(bytes(message))
    read_inbox()
    incident = Complaint.objects.get().incident
    assert not incident.timeline.filter(attachment__isnull=False).exists()
    assert incident.timeline.filter(body__contains="invoice.exe was not kept").exists()


def test_an_out_of_office_reply_opens_nothing(dovecot, read_inbox):
    dovecot.deliver(email(Auto_Submitted="auto-replied"))
    read_inbox()
    assert not Complaint.objects.exists()
    assert InboundMail.objects.get().status == InboundMail.Status.IGNORED


def test_an_email_dated_in_the_future_was_received_today(dovecot, read_inbox):
    dovecot.deliver(email(Date=format_datetime(timezone.now() + timedelta(days=3))))
    read_inbox()
    assert Complaint.objects.get().received_on == timezone.localdate()
