"""Invitations: one patient contact for one visit, with its unguessable link."""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from datetime import datetime

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.crypto import constant_time_compare
from django.utils.translation import gettext_lazy as _

from feedback.models.surveys import LANGUAGES, Survey
from servicedesk.models import Location, TimeStamped, Touchpoint

# --- Invitations --------------------------------------------------------------------------------


def _token_mac(selector: str, key: str) -> str:
    digest = hmac.new(key.encode(), f"feedback.invitation:{selector}".encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest[:16]).rstrip(b"=").decode()


def new_selector() -> str:
    return secrets.token_urlsafe(16)  # 128 random bits


class InvitationQuerySet(models.QuerySet):
    def open(self, now: datetime) -> InvitationQuerySet:
        """Invitations whose link still works: not answered, opted out, failed or expired."""
        return self.filter(status__in=Invitation.OPEN_STATUSES, expires_at__gt=now)

    def by_token(self, token: str, now: datetime) -> Invitation | None:
        """The open invitation this token belongs to, or None for unknown, used or expired tokens."""
        return self.open(now).with_token(token)

    def with_token(self, token: str) -> Invitation | None:
        """The invitation in this queryset that the token belongs to, or None.

        The token is ``<selector>.<mac>``: the database finds the row by its random selector, and
        the MAC (an HMAC of the selector under SECRET_KEY) is compared in constant time. So no
        secret is stored in the database and a lookup's timing reveals nothing about the MAC.
        """
        selector, _sep, mac = token.partition(".")
        if not selector or not mac or len(token) > 100:
            return None
        invitation = self.filter(selector=selector).first()
        if invitation is None:
            return None
        keys = [settings.SECRET_KEY, *getattr(settings, "SECRET_KEY_FALLBACKS", [])]
        if any(constant_time_compare(_token_mac(selector, key), mac) for key in keys):
            return invitation
        return None


class Invitation(TimeStamped):
    """One patient contact invited to one survey about one visit. Sending is the invitations app's job."""

    class Status(models.TextChoices):
        PENDING = "pending", _("Pending")
        SENT = "sent", _("Sent")
        REMINDED = "reminded", _("Reminded")
        COMPLETED = "completed", _("Completed")
        OPTED_OUT = "opted_out", _("Opted out")
        EXPIRED = "expired", _("Expired")
        FAILED = "failed", _("Failed")

    OPEN_STATUSES = (Status.PENDING, Status.SENT, Status.REMINDED)

    class Source(models.TextChoices):  # sending (issue 6)
        MANUAL = "manual", _("Added by hand")
        CSV = "csv", _("Visit list upload")
        API = "api", _("Practice-management system")
        DEMO = "demo", _("Demo data")

    survey = models.ForeignKey(Survey, on_delete=models.PROTECT, related_name="invitations")
    email = models.EmailField(_("email"), blank=True)
    phone = models.CharField(_("mobile phone"), max_length=32, blank=True)
    first_name = models.CharField(_("first name"), max_length=80, blank=True)
    visit_at = models.DateTimeField(_("visit"))
    touchpoint = models.ForeignKey(
        Touchpoint, on_delete=models.PROTECT, null=True, blank=True, related_name="invitations"
    )
    location = models.ForeignKey(
        Location, on_delete=models.PROTECT, null=True, blank=True, related_name="invitations"
    )
    need_profile = models.ForeignKey(
        "design.PatientNeedProfile",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="invitations",
        verbose_name=_("patient need profile"),
    )
    language = models.CharField(_("language"), max_length=5, choices=LANGUAGES, default="en")
    selector = models.CharField(max_length=32, unique=True, default=new_selector, editable=False)
    status = models.CharField(_("status"), max_length=12, choices=Status, default=Status.PENDING)
    expires_at = models.DateTimeField(_("link expires"))
    completed_at = models.DateTimeField(_("completed"), null=True, blank=True)
    # --- Sending (invitations, issue 6): where the visit came from and what was sent -------------
    source = models.CharField(_("source"), max_length=10, choices=Source, default=Source.MANUAL)
    # The practice-management system's visit id: a visit posted or uploaded twice is one invitation.
    external_id = models.CharField(_("visit id"), max_length=100, blank=True)
    integration = models.ForeignKey(
        "feedback.IntegrationToken",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="invitations",
    )
    import_job = models.ForeignKey(
        "feedback.InvitationImport",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="invitations",
    )
    clinician = models.CharField(_("clinician"), max_length=120, blank=True)
    # Keyed hashes of the normalised email / phone: the frequency cap and access requests find a
    # contact by them. Cleared with the contact details when the invitation is purged.
    email_hash = models.CharField(max_length=64, blank=True, editable=False)
    phone_hash = models.CharField(max_length=64, blank=True, editable=False)
    reminder_count = models.PositiveSmallIntegerField(_("reminders sent"), default=0)
    sent_at = models.DateTimeField(_("first sent"), null=True, blank=True)
    last_reminded_at = models.DateTimeField(_("last reminded"), null=True, blank=True)
    opted_out_at = models.DateTimeField(_("opted out"), null=True, blank=True)
    purged_at = models.DateTimeField(_("contact details purged"), null=True, blank=True)
    # --- end of sending fields ---------------------------------------------------------------------

    objects = InvitationQuerySet.as_manager()

    class Meta:
        ordering = ["-visit_at"]
        indexes = [
            # InvitationQuerySet.open() sweeps and the invitations list filter by status and expiry.
            models.Index(fields=["status", "expires_at"], name="invitation_status_expiry"),
            # Sending: the frequency cap and access/erasure requests look a contact up by its hashes.
            models.Index(fields=["email_hash", "created_at"], name="invitation_email_hash"),
            models.Index(fields=["phone_hash", "created_at"], name="invitation_phone_hash"),
            # Sending: the invitations list, newest visits first, filtered by status.
            models.Index(fields=["status", "visit_at"], name="invitation_status_visit"),
            # The same list unfiltered (its default): read backwards a page at a time instead of
            # sorting every invitation of five years for the first 50.
            models.Index(fields=["visit_at", "id"], name="invitation_visit"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(completed_at__isnull=True) | Q(status="completed"),
                name="invitation_completed_at_only_when_completed",
                violation_error_message=_("Only a completed invitation has a completion time."),
            ),
            # Sending: a visit posted twice by the practice-management system is one invitation.
            models.UniqueConstraint(
                fields=["external_id"], condition=~Q(external_id=""), name="invitation_unique_visit_id"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.survey} — {self.first_name or _('patient')} ({self.visit_at:%Y-%m-%d})"

    @property
    def token(self) -> str:
        """The secret in the patient's link. Derived, never stored: see ``InvitationQuerySet.by_token``."""
        return f"{self.selector}.{_token_mac(self.selector, settings.SECRET_KEY)}"

    def get_absolute_url(self) -> str:
        return f"/f/{self.token}/"

    def is_open(self, now: datetime | None = None) -> bool:
        return self.status in self.OPEN_STATUSES and self.expires_at > (now or timezone.now())
