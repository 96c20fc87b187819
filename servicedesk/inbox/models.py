"""What the practice's mailbox held: one row per email, kept once whatever reads it twice."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class MailboxCursor(models.Model):
    """How far a mailbox has been read: IMAP UIDs only grow within one UIDVALIDITY, so the next
    read asks for UIDs above ``last_uid``; a new UIDVALIDITY (the folder was rebuilt) starts again
    from the first message, and each email's digest keeps it from being stored twice."""

    mailbox = models.CharField(max_length=300, unique=True, help_text="user@host/folder, no password")
    uidvalidity = models.BigIntegerField(default=0)
    last_uid = models.BigIntegerField(default=0)
    read_at = models.DateTimeField(null=True, blank=True)
    last_error = models.CharField(max_length=200, blank=True)

    def __str__(self) -> str:
        return self.mailbox


class InboundMailQuerySet(models.QuerySet["InboundMail"]):
    def waiting(self) -> InboundMailQuerySet:
        """Stored and not yet acted on, oldest first."""
        return self.filter(status=InboundMail.Status.NEW).order_by("pk")


class InboundMail(models.Model):
    """One email from the practice's mailbox, as received (``raw``) and as read (sender, subject,
    text). A pillar acts on it and marks it handled in the same transaction, so each email becomes
    one thing. ``digest`` (of its Message-ID, or of the whole message when it has none) is unique."""

    class Status(models.TextChoices):
        NEW = "new", _("Waiting")
        HANDLED = "handled", _("Handled")
        IGNORED = "ignored", _("Ignored")

    mailbox = models.CharField(max_length=300)
    uidvalidity = models.BigIntegerField()
    uid = models.BigIntegerField()
    digest = models.CharField(max_length=64, unique=True)
    message_id = models.CharField(max_length=998, blank=True)
    in_reply_to = models.CharField(max_length=998, blank=True)
    references = models.TextField(blank=True)
    sender = models.EmailField(max_length=254, blank=True)
    sender_name = models.CharField(max_length=200, blank=True)
    subject = models.CharField(max_length=300, blank=True)
    text = models.TextField(blank=True, help_text="The plain-text body (from HTML when there is none).")
    raw = models.BinaryField(help_text="The whole message, for its attachments; emptied once handled.")
    size = models.PositiveIntegerField()
    sent_at = models.DateTimeField(null=True, blank=True, help_text="Its Date header.")
    received_at = models.DateTimeField()
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.NEW)
    handled_as = models.CharField(max_length=100, blank=True, help_text="What it became, e.g. a reference.")
    handled_at = models.DateTimeField(null=True, blank=True)

    objects = InboundMailQuerySet.as_manager()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["mailbox", "uidvalidity", "uid"], name="inbox_one_row_per_uid"),
        ]
        indexes = [models.Index(fields=["id"], name="inbox_waiting", condition=models.Q(status="new"))]

    def __str__(self) -> str:
        return f"email {self.pk}"
