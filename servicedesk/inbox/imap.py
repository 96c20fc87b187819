"""Reading the practice's mailbox over IMAP (``INBOX_URL``): every new email stored once.

The database, not the mailbox, says what has been read. Each read asks the folder (opened
read-only: nothing on the server is marked, moved or deleted) for the UIDs above the cursor's
``last_uid`` and stores each email with its UID and a digest of its Message-ID; the cursor moves
in the same transaction as the rows it covers. So a read that dies half-way is repeated from
where it committed, two reads at once store each email once (both unique keys refuse the
second), and a folder rebuilt under a new UIDVALIDITY is read again from its start with every
email already kept recognised by its digest. What becomes of an email is the pillars' business
(``InboundMail.objects.waiting()``); this module only keeps them.

Nothing about an email is logged but its row id: senders, subjects and bodies are patient data.
"""

from __future__ import annotations

import email
import email.policy
import email.utils
import hashlib
import imaplib
import logging
import re
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from datetime import datetime
from email.message import EmailMessage
from urllib.parse import unquote, urlsplit

from django.conf import settings
from django.db import transaction
from django.utils.html import strip_tags

from servicedesk.inbox.models import InboundMail, MailboxCursor

logger = logging.getLogger(__name__)

BATCH = 25
TIMEOUT_SECONDS = 30
TOO_LARGE = "(This email is {megabytes} MB, more than Servicedesk keeps: read it in the practice's mailbox.)"
FETCHED = re.compile(rb"UID (\d+) RFC822\.SIZE (\d+)")


@dataclass(frozen=True)
class Mailbox:
    """Where the practice's mail is read: ``imaps://user:password@host:993/INBOX`` (``imap://``
    only for a server on this machine, as the tests start)."""

    host: str
    port: int
    user: str
    password: str
    folder: str
    secure: bool

    @classmethod
    def from_url(cls, url: str) -> Mailbox:
        parts = urlsplit(url)
        if parts.scheme not in ("imap", "imaps") or not parts.hostname or not parts.username:
            raise ValueError("INBOX_URL must look like imaps://user:password@host/INBOX")
        secure = parts.scheme == "imaps"
        return cls(
            host=parts.hostname,
            port=parts.port or (993 if secure else 143),
            user=unquote(parts.username),
            password=unquote(parts.password or ""),
            folder=unquote(parts.path.lstrip("/")) or "INBOX",
            secure=secure,
        )

    @classmethod
    def configured(cls) -> Mailbox | None:
        return cls.from_url(settings.INBOX_URL) if settings.INBOX_URL else None

    @property
    def key(self) -> str:
        return f"{self.user}@{self.host}/{self.folder}"

    @contextmanager
    def opened(self) -> Iterator[tuple[imaplib.IMAP4, int]]:
        """The folder opened read-only, and its UIDVALIDITY."""
        kind = imaplib.IMAP4_SSL if self.secure else imaplib.IMAP4
        server = kind(self.host, self.port, timeout=TIMEOUT_SECONDS)
        try:
            server.login(self.user, self.password)
            server.select(_quoted(self.folder), readonly=True)
            [validity] = server.response("UIDVALIDITY")[1]
            yield server, int(validity)
        finally:
            with suppress(OSError, imaplib.IMAP4.error):
                server.logout()


def _quoted(folder: str) -> str:
    return '"' + folder.replace("\\", "\\\\").replace('"', '\\"') + '"'


def inbox_read(*, now: datetime, mailbox: Mailbox | None = None) -> int:
    """Store the emails that arrived since the last read; returns how many were new.

    A server that cannot be reached, or refuses us, is recorded on the cursor and logged, and the
    next read tries again: nothing is lost, only late.
    """
    mailbox = mailbox or Mailbox.configured()
    if mailbox is None:
        return 0
    cursor, _created = MailboxCursor.objects.get_or_create(mailbox=mailbox.key)
    stored = 0
    try:
        with mailbox.opened() as (server, validity):
            after = cursor.last_uid if cursor.uidvalidity == validity else 0
            uids = _uids_after(server, after)
            for start in range(0, len(uids), BATCH):
                stored += _store(server, mailbox, validity, uids[start : start + BATCH], now=now)
    except (OSError, imaplib.IMAP4.error) as error:
        problem = f"could not read the mailbox: {type(error).__name__}"
        MailboxCursor.objects.filter(pk=cursor.pk).update(last_error=problem, read_at=now)
        logger.warning("inbox %s: %s", cursor.pk, problem)
        return stored
    MailboxCursor.objects.filter(pk=cursor.pk).update(last_error="", read_at=now)
    if stored:
        logger.info("inbox %s: %s new emails", cursor.pk, stored)
    return stored


def _uids_after(server: imaplib.IMAP4, after: int) -> list[int]:
    # "n:*" always includes the newest message, even when its UID is below n: filter again.
    _status, [found] = server.uid("SEARCH", None, f"UID {after + 1}:*")
    return sorted(uid for uid in map(int, (found or b"").split()) if uid > after)


def _store(server: imaplib.IMAP4, mailbox: Mailbox, validity: int, uids: list[int], *, now: datetime) -> int:
    rows = [
        _row(raw, size=size, mailbox=mailbox, validity=validity, uid=uid, now=now)
        for uid, size, raw in _fetch(server, uids)
    ]
    with transaction.atomic():
        cursor = MailboxCursor.objects.select_for_update().get(mailbox=mailbox.key)
        known = set(
            InboundMail.objects.filter(digest__in=[row.digest for row in rows]).values_list(
                "digest", flat=True
            )
        )
        new = [row for row in rows if row.digest not in known]
        InboundMail.objects.bulk_create(new, ignore_conflicts=True)
        read_to = max(uids) if cursor.uidvalidity != validity else max(cursor.last_uid, max(uids))
        MailboxCursor.objects.filter(pk=cursor.pk).update(uidvalidity=validity, last_uid=read_to)
    return len(new)


def _fetch(server: imaplib.IMAP4, uids: list[int]) -> Iterator[tuple[int, int, bytes]]:
    """(uid, size, raw) per email; one over ``INBOX_MAX_BYTES`` comes with its headers only."""
    wanted = ",".join(map(str, uids))
    _status, sizes = server.uid("FETCH", wanted, "(RFC822.SIZE)")
    for item in sizes:
        line = item[0] if isinstance(item, tuple) else item
        match = FETCHED.search(line or b"")
        if not match:
            continue
        uid, size = int(match[1]), int(match[2])
        part = "BODY.PEEK[]" if size <= settings.INBOX_MAX_BYTES else "BODY.PEEK[HEADER]"
        _status, data = server.uid("FETCH", str(uid), f"({part})")
        raw = next((item[1] for item in data if isinstance(item, tuple)), b"")
        yield uid, size, raw


def _clean(value: object, limit: int | None = None) -> str:
    """Text PostgreSQL will store: no NUL, no lone surrogate, within ``limit``."""
    text = str(value or "").replace("\x00", "").encode("utf-8", "replace").decode("utf-8")
    return text[:limit] if limit else text


def _body(message: EmailMessage) -> str:
    part = message.get_body(preferencelist=("plain", "html"))
    if part is None:
        return ""
    try:
        content = part.get_content()
    except (LookupError, ValueError, AssertionError):
        return ""
    return strip_tags(content) if part.get_content_type() == "text/html" else content


def _row(raw: bytes, *, size: int, mailbox: Mailbox, validity: int, uid: int, now: datetime) -> InboundMail:
    message = email.message_from_bytes(raw, policy=email.policy.default)
    assert isinstance(message, EmailMessage)
    message_id = _clean(message.get("Message-ID", ""), 998).strip()
    digest = hashlib.sha256(message_id.encode() if message_id else raw).hexdigest()
    name, address = email.utils.parseaddr(_clean(message.get("From", "")))
    try:
        sent_at = email.utils.parsedate_to_datetime(str(message.get("Date", "")))
    except (TypeError, ValueError):
        sent_at = None
    if sent_at is not None and sent_at.tzinfo is None:
        sent_at = None  # a date with no zone says nothing certain
    complete = size <= settings.INBOX_MAX_BYTES
    text = _clean(_body(message)) if complete else TOO_LARGE.format(megabytes=size // 1_000_000)
    automatic = _clean(message.get("Auto-Submitted", "no")).lower() != "no" or message.get_content_type() == (
        "multipart/report"
    )
    return InboundMail(
        mailbox=mailbox.key,
        uidvalidity=validity,
        uid=uid,
        digest=digest,
        message_id=message_id,
        in_reply_to=_clean(message.get("In-Reply-To", ""), 998).strip(),
        references=_clean(message.get("References", "")),
        sender=address[:254] if "@" in address else "",
        sender_name=_clean(name, 200),
        subject=_clean(message.get("Subject", ""), 300),
        text=text,
        raw=raw if complete else b"",
        size=size,
        sent_at=sent_at,
        received_at=now,
        # An out-of-office reply or a bounce is kept, and nothing is opened from it.
        status=InboundMail.Status.IGNORED if automatic else InboundMail.Status.NEW,
    )
