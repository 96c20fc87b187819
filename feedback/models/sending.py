"""Invitation sending: the rules, the message log, the suppression list, integration tokens for
the practice-management system and visit-list imports (services in ``feedback.invitations``)."""

from __future__ import annotations

from datetime import datetime, time

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from feedback.models.invitations import Invitation
from feedback.models.surveys import Survey
from servicedesk.models import OutboxMessage, TimeStamped


class InvitationRules(TimeStamped):
    """The practice's sending rules: one row, edited by managers (``InvitationRules.current()``)."""

    class ChannelPreference(models.TextChoices):
        SMS_FIRST = "sms_first", _("Text message, or email when there is no mobile number")
        EMAIL_FIRST = "email_first", _("Email, or text message when there is no email address")
        SMS_ONLY = "sms_only", _("Text message only")
        EMAIL_ONLY = "email_only", _("Email only")

    default_survey = models.ForeignKey(
        Survey,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("survey for posted visits"),
        help_text=_("The survey patients are invited to when the practice-management system names none."),
    )
    delay_minutes = models.PositiveIntegerField(
        _("send after the visit (minutes)"),
        default=120,
        help_text=_("Asking soon after the visit gets the most answers; 120 is two hours."),
        validators=[MaxValueValidator(7 * 24 * 60)],
    )
    quiet_hours_start = models.TimeField(
        _("quiet hours start"),
        default=time(20, 0),
        help_text=_("No message is sent between these times (practice time). The same times mean none."),
    )
    quiet_hours_end = models.TimeField(_("quiet hours end"), default=time(9, 0))
    reminder_after_days = models.PositiveSmallIntegerField(
        _("remind after (days)"),
        default=3,
        help_text=_("Only patients who have not answered are reminded."),
        validators=[MinValueValidator(1), MaxValueValidator(30)],
    )
    max_reminders = models.PositiveSmallIntegerField(
        _("reminders at most"),
        default=1,
        help_text=_("0 to never remind. One reminder is usually enough."),
        validators=[MaxValueValidator(5)],
    )
    expiry_days = models.PositiveSmallIntegerField(
        _("link expires after (days)"),
        default=14,
        help_text=_("Counted from the visit."),
        validators=[MinValueValidator(1), MaxValueValidator(90)],
    )
    frequency_cap_days = models.PositiveSmallIntegerField(
        _("invite one patient at most once every (days)"),
        default=30,
        help_text=_("A patient seen twice in this time is invited after the first visit only."),
        validators=[MaxValueValidator(365)],
    )
    channel_preference = models.CharField(
        _("channel"), max_length=12, choices=ChannelPreference, default=ChannelPreference.SMS_FIRST
    )
    purge_after_days = models.PositiveSmallIntegerField(
        _("delete contact details after (days)"),
        default=90,
        help_text=_("Counted from the answer, or from the link's expiry. Answers stay, anonymous."),
        validators=[MinValueValidator(1), MaxValueValidator(3650)],
    )

    class Meta:
        verbose_name = _("sending rules")
        verbose_name_plural = _("sending rules")
        constraints = [
            models.CheckConstraint(
                condition=Q(pk=1),
                name="invitation_rules_single_row",
                violation_error_message=_("The practice has one set of sending rules."),
            ),
            models.CheckConstraint(
                condition=Q(max_reminders__lte=5),
                name="invitation_rules_max_reminders",
                violation_error_message=_("At most 5 reminders."),
            ),
            models.CheckConstraint(
                condition=Q(expiry_days__gte=1),
                name="invitation_rules_expiry_positive",
                violation_error_message=_("A link works for at least 1 day."),
            ),
            models.CheckConstraint(
                condition=Q(reminder_after_days__gte=1),
                name="invitation_rules_reminder_after_positive",
                violation_error_message=_("A reminder comes at least 1 day after the invitation."),
            ),
            models.CheckConstraint(
                condition=Q(purge_after_days__gte=1),
                name="invitation_rules_purge_positive",
                violation_error_message=_("Contact details are kept for at least 1 day."),
            ),
        ]

    def __str__(self) -> str:
        return str(_("Sending rules"))

    @classmethod
    def current(cls) -> InvitationRules:
        rules, _created = cls.objects.get_or_create(pk=1)
        return rules

    @property
    def has_quiet_hours(self) -> bool:
        return self.quiet_hours_start != self.quiet_hours_end


class InvitationMessageQuerySet(models.QuerySet):
    def due(self, now: datetime) -> InvitationMessageQuerySet:
        """Queued messages whose time has come (first sends, reminders and retries alike)."""
        return self.filter(status=InvitationMessage.Status.QUEUED, due_at__lte=now)

    def failed(self) -> InvitationMessageQuerySet:
        return self.filter(status=InvitationMessage.Status.FAILED)


class InvitationMessage(TimeStamped):
    """One message to one patient: the first invitation (number 0) or reminder N (number N).

    The row exists before the message is due. When it is, it is handed to the outbox, which
    sends it like every other message: queued → sending (handed over; ``outbox`` is its row) →
    sent | failed, or cancelled when it is no longer needed. See ``feedback.invitations.delivery``.
    """

    class Kind(models.TextChoices):
        FIRST = "first", _("Invitation")
        REMINDER = "reminder", _("Reminder")

    class Channel(models.TextChoices):
        SMS = "sms", _("Text message")
        EMAIL = "email", _("Email")

    class Status(models.TextChoices):
        QUEUED = "queued", _("Queued")
        SENDING = "sending", _("Sending")  # handed to the outbox
        SENT = "sent", _("Sent")
        FAILED = "failed", _("Failed")
        CANCELLED = "cancelled", _("Not needed")

    invitation = models.ForeignKey(Invitation, on_delete=models.CASCADE, related_name="messages")
    kind = models.CharField(_("kind"), max_length=10, choices=Kind)
    number = models.PositiveSmallIntegerField(
        _("number"), help_text=_("0 for the invitation, N for reminder N.")
    )
    channel = models.CharField(_("channel"), max_length=5, choices=Channel)
    status = models.CharField(_("status"), max_length=10, choices=Status, default=Status.QUEUED)
    due_at = models.DateTimeField(_("due"))
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    # The outbox's row once handed over; its status is the send's. Null again if it is withdrawn.
    outbox = models.OneToOneField(
        OutboxMessage, on_delete=models.SET_NULL, null=True, blank=True, editable=False, related_name="+"
    )
    # When the sweep last published a send task for it: a backlog is not published again each minute.
    enqueued_at = models.DateTimeField(null=True, blank=True, editable=False)
    claimed_at = models.DateTimeField(null=True, blank=True, editable=False)
    sent_at = models.DateTimeField(_("sent"), null=True, blank=True)
    provider_id = models.CharField(_("provider id"), max_length=200, blank=True)
    last_error = models.CharField(_("last error"), max_length=500, blank=True)

    objects = InvitationMessageQuerySet.as_manager()

    class Meta:
        ordering = ["invitation", "number"]
        indexes = [
            # The minute sweep: queued messages that are due (InvitationMessageQuerySet.due).
            models.Index(fields=["due_at"], condition=Q(status="queued"), name="invitation_message_due"),
            # The sweep's recovery of sends a dying worker left half-done.
            models.Index(
                fields=["claimed_at"], condition=Q(status="sending"), name="invitation_message_sending"
            ),
            # The failed-messages page, newest first.
            models.Index(
                fields=["updated_at"], condition=Q(status="failed"), name="invitation_message_failed"
            ),
        ]
        constraints = [
            # The heart of "never twice": one invitation, one reminder N per invitation, ever.
            models.UniqueConstraint(fields=["invitation", "number"], name="invitation_message_once"),
            models.CheckConstraint(
                condition=Q(kind="first", number=0) | Q(kind="reminder", number__gte=1),
                name="invitation_message_kind_matches_number",
                violation_error_message=_("The invitation is message 0; reminders are numbered from 1."),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.label} · {self.get_channel_display()} · {self.get_status_display()}"

    @property
    def label(self) -> str:
        if self.kind == self.Kind.FIRST:
            return str(_("Invitation"))
        return str(_("Reminder %(number)s") % {"number": self.number})


class Suppression(models.Model):
    """A contact who asked for no more survey messages.

    Keyed by a hash of the normalised email or phone, so it outlives the purge of the invitation
    that carried the address, and holds nothing that reads as the address itself.
    """

    class Kind(models.TextChoices):
        EMAIL = "email", _("Email")
        PHONE = "phone", _("Mobile phone")

    class Reason(models.TextChoices):
        OPT_OUT = "opt_out", _("Opted out from a message")
        MANAGER = "manager", _("Recorded by a manager")

    contact_hash = models.CharField(max_length=64, unique=True)
    kind = models.CharField(max_length=5, choices=Kind)
    reason = models.CharField(max_length=10, choices=Reason, default=Reason.OPT_OUT)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} suppressed {self.created_at:%Y-%m-%d}"


class IntegrationTokenQuerySet(models.QuerySet):
    def active(self) -> IntegrationTokenQuerySet:
        return self.filter(revoked_at__isnull=True)


class IntegrationToken(TimeStamped):
    """A bearer token for one practice-management system posting visits. Only its hash is stored."""

    name = models.CharField(
        _("name"), max_length=100, help_text=_("Which system uses it, e.g. 'EMIS at Riverside'.")
    )
    token_hash = models.CharField(max_length=64, unique=True, editable=False)
    # The last characters, so a manager can tell tokens apart without the secret.
    hint = models.CharField(max_length=8, editable=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    revoked_at = models.DateTimeField(_("revoked"), null=True, blank=True)
    revoked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    last_used_at = models.DateTimeField(_("last used"), null=True, blank=True)

    objects = IntegrationTokenQuerySet.as_manager()

    class Meta:
        ordering = ["revoked_at", "name"]

    def __str__(self) -> str:
        return f"{self.name} (…{self.hint})"

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None


class InvitationImport(TimeStamped):
    """One uploaded visit list: validated first, imported only when a manager confirms.

    The file's bytes are kept in the database (any worker can read them, nothing on local disk)
    until the import finishes or is discarded, then cleared.
    """

    class Status(models.TextChoices):
        VALIDATING = "validating", _("Checking")
        REJECTED = "rejected", _("Has errors")
        VALIDATED = "validated", _("Ready to import")
        QUEUED = "queued", _("Waiting to import")
        IMPORTING = "importing", _("Importing")
        IMPORTED = "imported", _("Imported")
        FAILED = "failed", _("Import failed")
        DISCARDED = "discarded", _("Discarded")

    IN_PROGRESS = (Status.VALIDATING, Status.QUEUED, Status.IMPORTING)

    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    survey = models.ForeignKey(Survey, on_delete=models.PROTECT, related_name="+", verbose_name=_("survey"))
    filename = models.CharField(_("file"), max_length=200)
    content = models.BinaryField(default=b"", editable=False)
    status = models.CharField(_("status"), max_length=10, choices=Status, default=Status.VALIDATING)
    total_rows = models.PositiveIntegerField(default=0)
    processed_rows = models.PositiveIntegerField(default=0)
    # {"ready": n, "errors": n, "duplicate": n, "already_imported": n, "opted_out": n, "recently_invited": n,
    #  "too_old": n, "created": n}
    counts = models.JSONField(default=dict, blank=True)
    # [{"row": 12, "column": "email", "message": "..."}] — never the cell's value (it may be personal).
    issues = models.JSONField(default=list, blank=True)
    failure = models.CharField(max_length=500, blank=True)
    claimed_at = models.DateTimeField(null=True, blank=True, editable=False)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [
            # The sweep: imports waiting for a worker (the broker may have been down).
            models.Index(fields=["status", "updated_at"], name="invitation_import_status"),
        ]

    def __str__(self) -> str:
        return f"{self.filename} ({self.get_status_display()})"

    @property
    def progress_pct(self) -> int:
        if not self.total_rows:
            return 0
        return min(100, round(100 * self.processed_rows / self.total_rows))

    @property
    def is_in_progress(self) -> bool:
        return self.status in self.IN_PROGRESS
