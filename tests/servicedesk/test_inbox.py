"""The practice's mailbox, read from a real IMAP server (Dovecot): each email stored once, however
often or however concurrently it is read, and nothing about it in the logs."""

from __future__ import annotations

import logging
from email.message import EmailMessage

import pytest
from django.utils import timezone

from servicedesk.inbox.imap import Mailbox, inbox_read
from servicedesk.inbox.models import InboundMail, MailboxCursor
from servicedesk.inbox.tasks import read_inbox
from servicedesk.privacy import MARKER, person_erase, person_export, person_find

pytestmark = pytest.mark.django_db
SENDER = "pat.canary@example.org"


def email(n: int = 1, *, body: str = "The waiting room was cold.", **headers: str) -> bytes:
    message = EmailMessage()
    message["From"] = headers.pop("From", f"Pat Canary <{SENDER}>")
    message["To"] = "practice@example.org"
    message["Subject"] = headers.pop("Subject", f"Complaint number {n}")
    message["Message-ID"] = headers.pop("Message_ID", f"<{n}.canary@example.org>")
    message["Date"] = "Fri, 04 Dec 2026 16:20:00 +0000"
    for name, value in headers.items():
        message[name.replace("_", "-")] = value
    message.set_content(body)
    return bytes(message)


def read() -> int:
    return inbox_read(now=timezone.now())


def test_an_email_is_stored_once_with_who_sent_it_and_what_it_says(dovecot):
    dovecot.deliver(email())
    assert read() == 1
    assert read() == 0
    [mail] = InboundMail.objects.all()
    assert (mail.sender, mail.sender_name, mail.subject) == (SENDER, "Pat Canary", "Complaint number 1")
    assert mail.text.strip() == "The waiting room was cold."
    assert mail.message_id == "<1.canary@example.org>"
    assert mail.sent_at.isoformat() == "2026-12-04T16:20:00+00:00"
    assert mail.status == InboundMail.Status.NEW
    assert bytes(mail.raw).startswith(b"From: Pat Canary")
    assert list(InboundMail.objects.waiting()) == [mail]


def test_only_what_arrived_since_the_last_read_is_fetched(dovecot):
    dovecot.deliver(email(1))
    dovecot.deliver(email(2))
    assert read() == 2
    dovecot.deliver(email(3))
    assert read() == 1
    assert sorted(InboundMail.objects.values_list("subject", flat=True)) == [
        "Complaint number 1", "Complaint number 2", "Complaint number 3",
    ]  # fmt: skip
    cursor = MailboxCursor.objects.get()
    assert cursor.last_uid == 3
    assert cursor.last_error == ""


def test_a_read_that_starts_again_from_the_beginning_stores_nothing_twice(dovecot):
    dovecot.deliver(email(1))
    read()
    MailboxCursor.objects.update(last_uid=0)  # as a read that died before its cursor moved
    assert read() == 0
    assert InboundMail.objects.count() == 1


def test_a_folder_rebuilt_under_a_new_uidvalidity_is_read_again_without_duplicates(dovecot):
    dovecot.deliver(email(1))
    read()
    real = MailboxCursor.objects.get().uidvalidity
    # As if the folder had been rebuilt since (a server move): our UIDs belong to another folder.
    MailboxCursor.objects.update(uidvalidity=real - 1, last_uid=1000)
    dovecot.deliver(email(2))
    assert read() == 1
    assert MailboxCursor.objects.get().uidvalidity == real
    assert MailboxCursor.objects.get().last_uid == 2
    assert InboundMail.objects.count() == 2


def test_the_mailbox_is_left_as_it_was(dovecot):
    dovecot.deliver(email())
    read()
    server = dovecot.connect()
    server.select("INBOX", readonly=True)
    _status, [unseen] = server.search(None, "UNSEEN")
    server.logout()
    assert unseen.split() == [b"1"]  # still unread for the person who reads the mailbox too


def test_an_out_of_office_reply_or_a_bounce_is_kept_and_marked_ignored(dovecot):
    dovecot.deliver(email(1, Auto_Submitted="auto-replied"))
    read()
    assert InboundMail.objects.get().status == InboundMail.Status.IGNORED
    assert not InboundMail.objects.waiting().exists()


def test_an_html_only_email_is_read_as_text(dovecot):
    message = EmailMessage()
    message["From"], message["Subject"], message["Message-ID"] = SENDER, "HTML", "<html@x>"
    message.set_content("<p>The <b>door</b> sticks.</p>", subtype="html")
    dovecot.deliver(bytes(message))
    read()
    assert InboundMail.objects.get().text.strip() == "The door sticks."


def test_an_email_over_the_size_limit_is_kept_as_its_headers_and_a_note(dovecot, settings):
    settings.INBOX_MAX_BYTES = 300
    dovecot.deliver(email(body="x" * 2000))
    read()
    mail = InboundMail.objects.get()
    assert mail.subject == "Complaint number 1"
    assert mail.sender == SENDER
    assert bytes(mail.raw) == b""
    assert "more than Servicedesk keeps" in mail.text
    assert mail.size > 2000


def test_odd_emails_are_stored_not_refused(dovecot):
    raw = (
        b"From: not an address\r\nSubject: =?utf-8?q?caf=C3=A9?=\r\nDate: yesterday\r\n"
        b"Content-Type: text/plain; charset=utf-8\r\n\r\nnul \x00 byte and \xff\xfe bad bytes\r\n"
    )
    dovecot.deliver(raw)
    dovecot.deliver(b"Subject: no sender, no id, no date\r\n\r\n")
    assert read() == 2
    odd = InboundMail.objects.get(subject="café")
    assert odd.sender == ""
    assert odd.sent_at is None
    assert "\x00" not in odd.text
    assert InboundMail.objects.get(subject__startswith="no sender").digest  # digest of the whole email


def test_an_unreachable_or_refusing_mailbox_is_recorded_and_read_later(dovecot, settings, caplog):
    dovecot.deliver(email())
    good = settings.INBOX_URL
    settings.INBOX_URL = good.replace("mailbox-secret", "wrong-secret")
    assert read() == 0
    assert MailboxCursor.objects.get().last_error == "could not read the mailbox: error"
    settings.INBOX_URL = good.replace(f":{dovecot.port}/", ":1/")  # nothing listens on port 1
    assert read() == 0
    assert "could not read the mailbox" in MailboxCursor.objects.get().last_error
    settings.INBOX_URL = good
    assert read() == 1
    assert MailboxCursor.objects.get().last_error == ""
    assert "mailbox-secret" not in caplog.text


def test_nothing_about_an_email_is_logged(dovecot, caplog):
    dovecot.deliver(email())
    with caplog.at_level(logging.DEBUG):
        read_inbox()
    assert "new emails" in caplog.text
    for canary in (SENDER, "Pat Canary", "Complaint number", "waiting room", "canary"):
        assert canary not in caplog.text


def test_nothing_is_read_when_no_mailbox_is_configured(settings):
    settings.INBOX_URL = ""
    assert read() == 0
    assert not MailboxCursor.objects.exists()


@pytest.mark.parametrize(
    "url", ["http://x@host/INBOX", "imaps://host/INBOX", "imap:///INBOX", "mailbox-secret"]
)
def test_a_mailbox_address_that_is_not_imap_is_refused_with_a_reason(url):
    with pytest.raises(ValueError, match="imaps://user:password@host/INBOX"):
        Mailbox.from_url(url)


def test_the_default_port_and_folder_and_escaped_passwords():
    box = Mailbox.from_url("imaps://practice%40example.org:p%2Fss@mail.example.org")
    assert (box.user, box.password, box.port, box.folder, box.secure) == (
        "practice@example.org", "p/ss", 993, "INBOX", True,
    )  # fmt: skip
    assert "p/ss" not in box.key


def test_an_access_request_shows_the_emails_and_an_erasure_empties_them(dovecot):
    dovecot.deliver(email())
    read()
    person = person_find(email=SENDER)
    exported = person_export(person)
    [row] = exported["emails to the practice"]
    assert row["subject"] == "Complaint number 1"
    person_erase(person=person, now=timezone.now())
    mail = InboundMail.objects.get()
    assert (mail.sender, mail.subject, mail.text, bytes(mail.raw)) == ("", MARKER, MARKER, b"")
