"""The shared vocabulary every pillar uses: staff accounts, locations and touchpoints."""

from __future__ import annotations

from datetime import datetime

from django.contrib.auth.hashers import UNUSABLE_PASSWORD_PREFIX
from django.contrib.auth.models import AbstractUser, UserManager
from django.db import models
from django.db.models.functions import Lower
from django.utils.functional import cached_property
from django.utils.translation import gettext_lazy as _

from servicedesk.roles import Role


class TimeStamped(models.Model):
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        abstract = True


class ActiveQuerySet(models.QuerySet):
    def active(self) -> ActiveQuerySet:
        return self.filter(is_active=True)


class TouchpointQuerySet(ActiveQuerySet):
    def serving(self, location_id: int | None) -> TouchpointQuerySet:
        """Touchpoints of this location and the practice-wide ones; every touchpoint for None (a
        practice-wide survey)."""
        if location_id is None:
            return self
        return self.filter(models.Q(location_id=location_id) | models.Q(location__isnull=True))


class UserQuerySet(models.QuerySet):
    def with_role(self, role: Role, *, site_id: int | None = None) -> UserQuerySet:
        """Active people with ``role``; with ``site_id``, of that role at that site (usual or covered)
        — the group's managers are at every site."""
        people = self.filter(is_active=True, groups__name=role.value)
        if site_id is None or role == Role.MANAGER:
            return people
        at_site = self.filter(models.Q(location_id=site_id) | models.Q(other_locations=site_id))
        return people.filter(pk__in=at_site.values("pk"))

    def managers(self) -> UserQuerySet:
        return self.with_role(Role.MANAGER)

    def team(self) -> UserQuerySet:
        """Active staff and managers, by name: who is assigned work, asked to acknowledge goals,
        listed in pickers and counted for training."""
        return (
            self.filter(is_active=True, groups__name__in=Role.values)
            .distinct()
            .order_by("first_name", "last_name", "username")
        )

    def at_sites(self, sites: frozenset[int]) -> UserQuerySet:
        """People whose usual location, or one they also cover, is one of ``sites``."""
        at_site = self.model.objects.filter(
            models.Q(location_id__in=sites) | models.Q(other_locations__in=sites)
        )
        return self.filter(pk__in=at_site.values("pk"))

    def managed_by(self, manager: User) -> UserQuerySet:
        """Whose details and role ``manager`` may change: everyone for the group's managers; for a
        site manager, the people at their sites, but not the group's managers."""
        sites = manager.managed_site_ids
        if sites is None:
            return self
        return self.at_sites(sites).exclude(is_superuser=True).exclude(groups__name=Role.MANAGER.value)

    def awaiting_welcome_email(self) -> UserQuerySet:
        """Accounts a manager created that have no password yet and were never sent the link."""
        return self.filter(
            is_active=True,
            welcome_email_sent_at__isnull=True,
            password__startswith=UNUSABLE_PASSWORD_PREFIX,
        ).exclude(email="")


class TeamManager(UserManager.from_queryset(UserQuerySet)):
    pass


class User(AbstractUser):
    """A member of the practice team. Patients never have accounts."""

    location = models.ForeignKey(
        "servicedesk.Location",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="team",
        help_text=_("Where this person usually works; their daily checklists come from here."),
    )
    # A nurse with a clinic at a second site: the sites they cover besides their usual one. Their
    # usual location stays one (daily checklists and My work come from it); which sites' work they
    # may see is the usual one and these (``servicedesk.access.sites_seen_by``).
    other_locations = models.ManyToManyField(
        "servicedesk.Location",
        blank=True,
        related_name="covering_team",
        verbose_name=_("also works at"),
        help_text=_("Other sites this person covers; they see those sites' incidents and checklists too."),
    )
    welcome_email_sent_at = models.DateTimeField(null=True, blank=True)

    objects = TeamManager()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                Lower("email"), condition=~models.Q(email=""), name="user_unique_email_ci"
            ),
        ]

    def __str__(self) -> str:
        return self.get_full_name() or self.username

    @cached_property
    def role(self) -> Role | None:
        """The person's role (one query, cached for the request)."""
        if not self.is_authenticated or not self.is_active:
            return None
        names = set(self.groups.values_list("name", flat=True))
        if self.is_superuser or Role.MANAGER.value in names:
            return Role.MANAGER
        if Role.SITE_MANAGER.value in names:
            return Role.SITE_MANAGER
        if Role.STAFF.value in names:
            return Role.STAFF
        return None

    @cached_property
    def site_ids(self) -> frozenset[int]:
        """The usual location and the ones this person also covers (one query, cached for the request)."""
        sites = set(self.other_locations.values_list("pk", flat=True)) if self.pk else set()
        return frozenset(sites | ({self.location_id} if self.location_id else set()))

    @property
    def is_manager(self) -> bool:
        """A manager of the whole practice or group: every site and the settings they share."""
        return self.role == Role.MANAGER

    @property
    def is_group_manager(self) -> bool:
        """The same as ``is_manager``, said where the contrast with a site manager matters."""
        return self.role == Role.MANAGER

    @property
    def is_site_manager(self) -> bool:
        """Manages their own sites only (``site_ids``); staff everywhere else."""
        return self.role == Role.SITE_MANAGER

    @property
    def managed_site_ids(self) -> frozenset[int] | None:
        """The sites this person manages: None for every site (the group's managers), their own
        sites for a site manager, none for staff."""
        if self.is_manager:
            return None
        return self.site_ids if self.is_site_manager else frozenset()

    def manages_site(self, location_id: int | None) -> bool:
        """May manage this site's work; work tied to no site is the group's."""
        sites = self.managed_site_ids
        return sites is None or (location_id is not None and location_id in sites)

    @property
    def is_team_member(self) -> bool:
        """Staff or manager: anyone allowed into the staff side of Servicedesk."""
        return self.role is not None


class Location(TimeStamped):
    """A site of the practice."""

    name = models.CharField(_("name"), max_length=120, unique=True)
    address = models.TextField(_("address"), blank=True)
    phone = models.CharField(_("phone"), max_length=40, blank=True)
    is_active = models.BooleanField(_("active"), default=True)

    objects = ActiveQuerySet.as_manager()

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Touchpoint(TimeStamped):
    """A place where patients meet the practice: a phone line, a front desk, the portal."""

    class Channel(models.TextChoices):
        PHONE = "phone", _("Phone")
        EMAIL = "email", _("Email")
        PORTAL = "portal", _("Patient portal")
        SMS = "sms", _("SMS")
        VIDEO = "video", _("Video")
        IN_PERSON = "in_person", _("In person")

    name = models.CharField(_("name"), max_length=120, unique=True)
    channel = models.CharField(_("channel"), max_length=20, choices=Channel)
    location = models.ForeignKey(
        Location,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="touchpoints",
        help_text=_("Leave empty for practice-wide touchpoints such as the portal or the main phone line."),
    )
    description = models.TextField(_("description"), blank=True)
    is_active = models.BooleanField(_("active"), default=True)

    objects = TouchpointQuerySet.as_manager()

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class OpeningHours(models.Model):
    """When the practice is open: one row per weekday it opens; a weekday with no row is closed.

    SLA policies that count opening hours only (``recovery.SlaPolicy.opening_hours_only``) use it:
    a four-hour promise made at 17:00 on a Friday falls due on Monday morning, not that night.
    With no rows at all, every hour counts.
    """

    class Weekday(models.IntegerChoices):
        MONDAY = 0, _("Monday")
        TUESDAY = 1, _("Tuesday")
        WEDNESDAY = 2, _("Wednesday")
        THURSDAY = 3, _("Thursday")
        FRIDAY = 4, _("Friday")
        SATURDAY = 5, _("Saturday")
        SUNDAY = 6, _("Sunday")

    weekday = models.PositiveSmallIntegerField(_("day"), choices=Weekday, unique=True)
    opens = models.TimeField(_("opens"))
    closes = models.TimeField(_("closes"))

    class Meta:
        ordering = ["weekday"]
        verbose_name_plural = _("opening hours")
        constraints = [
            models.CheckConstraint(
                condition=models.Q(closes__gt=models.F("opens")),
                name="openinghours_closes_after_opens",
                violation_error_message=_("Closing time must be after opening time."),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_weekday_display()} {self.opens:%H:%M} to {self.closes:%H:%M}"


class ClosedDay(models.Model):
    """A day the practice is closed although its opening hours say open: a bank holiday, a
    training afternoon off. Opening-hours clocks skip it."""

    date = models.DateField(_("date"), unique=True)
    reason = models.CharField(_("reason"), max_length=120, help_text=_("E.g. Christmas Day, staff training."))

    class Meta:
        ordering = ["date"]

    def __str__(self) -> str:
        return f"{self.date:%a %d %b %Y}: {self.reason}"


class PracticeIdentity(models.Model):
    """The practice's logo and accent colour, on what patients see and what is pinned up
    (``servicedesk.identity``). One row; the logo is the PNG we made from the upload."""

    SINGLETON = 1

    accent = models.CharField(
        _("accent colour"), max_length=7, blank=True, help_text=_("#rrggbb; empty for the standard blue.")
    )
    logo = models.BinaryField(_("logo"), blank=True, default=b"", editable=False)
    logo_digest = models.CharField(max_length=16, blank=True, editable=False)
    logo_width = models.PositiveSmallIntegerField(null=True, blank=True, editable=False)
    logo_height = models.PositiveSmallIntegerField(null=True, blank=True, editable=False)
    updated_at = models.DateTimeField(auto_now=True)
    updated_by = models.ForeignKey("User", on_delete=models.SET_NULL, null=True, blank=True, related_name="+")

    class Meta:
        verbose_name = _("practice identity")
        constraints = [
            models.CheckConstraint(
                condition=models.Q(pk=1),
                name="practiceidentity_single_row",
                violation_error_message=_("The practice has one logo and colour: change them, not add more."),
            ),
            models.CheckConstraint(
                condition=models.Q(accent="") | models.Q(accent__regex=r"^#[0-9a-f]{6}$"),
                name="practiceidentity_accent_hex",
                violation_error_message=_("Give the colour as # and six hexadecimal digits, like #0b3d91."),
            ),
        ]

    def __str__(self) -> str:
        return "practice identity"


class PracticeSettings(models.Model):
    """Practice-wide rules a manager decides in the app (not deploy-time settings). One row; with
    none yet, every field has its default (``servicedesk.access.practice_settings``)."""

    SINGLETON = 1

    staff_need_to_know = models.BooleanField(
        _("staff see only what their work needs"),
        default=True,
        help_text=_(
            "On: staff see the incidents and checklists of their own sites (and those not tied to a "
            "site, or given to them), and a patient's contact details only on incidents they work. "
            "Managers always see everything."
        ),
    )
    # Where the practice is, for its bank holidays (``servicedesk.working_days``): holidays' country
    # and subdivision codes. England by default; the form offers only the pairs it knows.
    country = models.CharField(_("country"), max_length=2, default="GB")
    region = models.CharField(
        _("region"),
        max_length=6,
        default="ENG",
        help_text=_("Bank holidays differ: Scotland's, Wales's and Northern Ireland's are not England's."),
    )
    updated_at = models.DateTimeField(auto_now=True)
    updated_by = models.ForeignKey("User", on_delete=models.SET_NULL, null=True, blank=True, related_name="+")

    class Meta:
        verbose_name = _("practice settings")
        verbose_name_plural = _("practice settings")
        constraints = [
            models.CheckConstraint(
                condition=models.Q(pk=1),
                name="practicesettings_single_row",
                violation_error_message=_("The practice has one set of settings: change them, not add more."),
            ),
        ]

    def __str__(self) -> str:
        return "practice settings"


# --- The outbox: every email and SMS, sent once -------------------------------------------------


class OutboxMessageQuerySet(models.QuerySet):
    def due(self, now: datetime) -> OutboxMessageQuerySet:
        """Queued messages whose (next) attempt is due: what the sweep delivers."""
        return self.filter(status=OutboxMessage.Status.QUEUED, next_attempt_at__lte=now)

    def interrupted(self, claimed_before: datetime) -> OutboxMessageQuerySet:
        """Claimed for sending long ago and never finished: the worker died mid-send."""
        return self.filter(status=OutboxMessage.Status.SENDING, claimed_at__lt=claimed_before)

    def failed(self) -> OutboxMessageQuerySet:
        return self.filter(status=OutboxMessage.Status.FAILED)


class OutboxMessage(TimeStamped):
    """One email or SMS to one recipient, written in the transaction that decided to send it.

    ``key`` names the reason for the message ("escalation:…", "digest:2026-11-30:7"): writing the
    same key twice writes one row, so a sweep run twice, a retried task or two workers send once.
    The body is kept only until it is sent (it may hold a link that works like a password).
    """

    class Channel(models.TextChoices):
        EMAIL = "email", _("email")
        SMS = "sms", _("text message")

    class Status(models.TextChoices):
        QUEUED = "queued", _("waiting to be sent")
        SENDING = "sending", _("being sent")
        SENT = "sent", _("sent")
        FAILED = "failed", _("failed")

    key = models.CharField(max_length=200, unique=True)
    kind = models.CharField(max_length=40, help_text="What the message is, for people: see outbox.KINDS.")
    channel = models.CharField(max_length=10, choices=Channel.choices, default=Channel.EMAIL)
    to = models.CharField(max_length=254)
    subject = models.CharField(max_length=250, blank=True)
    text = models.TextField(blank=True)
    html = models.TextField(blank=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.QUEUED)
    attempts = models.PositiveSmallIntegerField(default=0)
    next_attempt_at = models.DateTimeField()
    claimed_at = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    provider_id = models.CharField(max_length=200, blank=True)
    # The provider's receipt that the text reached the phone (SMS by Twilio). A receipt that it did
    # not makes the message failed instead, with the provider's reason in last_error.
    delivered_at = models.DateTimeField(null=True, blank=True)
    last_error = models.CharField(max_length=200, blank=True)

    objects = OutboxMessageQuerySet.as_manager()

    class Meta:
        indexes = [
            # The sweep: queued messages whose attempt is due, and sends interrupted long ago.
            models.Index(
                fields=["next_attempt_at"],
                name="outbox_queued_due",
                condition=models.Q(status="queued"),
            ),
            models.Index(fields=["claimed_at"], name="outbox_sending", condition=models.Q(status="sending")),
            # The same sweep, every minute: sent messages past their retention, deleted.
            models.Index(fields=["sent_at"], name="outbox_sent", condition=models.Q(status="sent")),
            # The managers' failed-messages page, newest first.
            models.Index(fields=["-updated_at"], name="outbox_failed", condition=models.Q(status="failed")),
            # A delivery receipt finds its message by the provider's id (outbox_record_receipt).
            models.Index(
                fields=["provider_id"], name="outbox_provider_id", condition=~models.Q(provider_id="")
            ),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(channel__in=["email", "sms"]),
                name="outbox_channel_known",
                violation_error_message=_("A message goes by email or text message."),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.kind} by {self.channel} ({self.get_status_display()})"
