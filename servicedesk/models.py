"""The shared vocabulary every pillar uses: staff accounts, locations and touchpoints."""

from __future__ import annotations

from django.contrib.auth.hashers import UNUSABLE_PASSWORD_PREFIX
from django.contrib.auth.models import AbstractUser, UserManager
from django.db import models
from django.db.models.functions import Coalesce, Lower
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


class UserQuerySet(models.QuerySet):
    def with_role(self, role: Role) -> UserQuerySet:
        return self.filter(is_active=True, groups__name=role.value)

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
        if Role.STAFF.value in names:
            return Role.STAFF
        return None

    @property
    def is_manager(self) -> bool:
        return self.role == Role.MANAGER

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

    objects = ActiveQuerySet.as_manager()

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
                condition=models.Q(closes__gt=models.F("opens")), name="openinghours_closes_after_opens"
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


# --- Dashboard: summaries and the weekly digest ------------------------------------------------
#
# The dashboard sits above every pillar (DESIGN.md), so its own tables live here, in the
# project package. They hold nothing that is not derivable from the pillars' tables.


class FeedbackDay(models.Model):
    """Patient feedback counted per local day and place, so the dashboard never scans every answer.

    Rebuilt per day by ``servicedesk.services.feedback_days_refresh`` (a Celery sweep every few
    minutes keeps today and yesterday fresh and rebuilds any earlier day whose response count no
    longer matches). Counts follow the feedback pillar's definitions: FFT counts are answers in the
    six standard categories, NPS counts are answers 9-10, 7-8 and 0-6. Invitations are counted
    on the day of the visit they were about.
    """

    day = models.DateField()
    location = models.ForeignKey(Location, on_delete=models.CASCADE, null=True, related_name="+")
    touchpoint = models.ForeignKey(Touchpoint, on_delete=models.CASCADE, null=True, related_name="+")
    need_profile = models.ForeignKey(
        "design.PatientNeedProfile", on_delete=models.CASCADE, null=True, related_name="+"
    )
    responses = models.PositiveIntegerField(default=0)
    negative = models.PositiveIntegerField(default=0)
    fft_very_good = models.PositiveIntegerField(default=0)
    fft_good = models.PositiveIntegerField(default=0)
    fft_neither = models.PositiveIntegerField(default=0)
    fft_poor = models.PositiveIntegerField(default=0)
    fft_very_poor = models.PositiveIntegerField(default=0)
    fft_dont_know = models.PositiveIntegerField(default=0)
    nps_promoters = models.PositiveIntegerField(default=0)
    nps_passives = models.PositiveIntegerField(default=0)
    nps_detractors = models.PositiveIntegerField(default=0)
    invitations_delivered = models.PositiveIntegerField(default=0)
    invitations_answered = models.PositiveIntegerField(default=0)
    refreshed_at = models.DateTimeField()

    class Meta:
        constraints = [
            # Two refreshes of the same day at once: the second insert fails instead of doubling counts.
            models.UniqueConstraint(
                "day",
                Coalesce("location", models.Value(0)),
                Coalesce("touchpoint", models.Value(0)),
                Coalesce("need_profile", models.Value(0)),
                name="feedbackday_one_row_per_day_and_place",
            ),
        ]
        indexes = [
            # Every dashboard feedback figure: the days of the period (then filtered by place).
            models.Index(fields=["day"], name="feedbackday_day"),
            # The dashboard's location, touchpoint and need-profile filters within a period.
            models.Index(fields=["location", "day"], name="feedbackday_location_day"),
            models.Index(fields=["touchpoint", "day"], name="feedbackday_touchpoint_day"),
            models.Index(fields=["need_profile", "day"], name="feedbackday_profile_day"),
        ]

    def __str__(self) -> str:
        return f"Feedback on {self.day}: {self.responses} responses"


class FeedbackThemeDay(models.Model):
    """How many patient responses mentioned a theme, per local day and place (negative ones apart)."""

    day = models.DateField()
    theme = models.ForeignKey("feedback.Theme", on_delete=models.CASCADE, related_name="+")
    location = models.ForeignKey(Location, on_delete=models.CASCADE, null=True, related_name="+")
    touchpoint = models.ForeignKey(Touchpoint, on_delete=models.CASCADE, null=True, related_name="+")
    need_profile = models.ForeignKey(
        "design.PatientNeedProfile", on_delete=models.CASCADE, null=True, related_name="+"
    )
    mentions = models.PositiveIntegerField(default=0)
    negative_mentions = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                "day",
                "theme",
                Coalesce("location", models.Value(0)),
                Coalesce("touchpoint", models.Value(0)),
                Coalesce("need_profile", models.Value(0)),
                name="feedbackthemeday_one_row_per_day_theme_and_place",
            ),
        ]
        indexes = [
            # The dashboard's top themes in negative comments: the days of the period.
            models.Index(fields=["day", "theme"], name="feedbackthemeday_day_theme"),
        ]

    def __str__(self) -> str:
        return f"{self.theme} on {self.day}: {self.negative_mentions} negative"


class DigestDelivery(models.Model):
    """Claims the weekly digest for one manager and one week: the row exists once, so the email does."""

    week_of = models.DateField(help_text="The Monday of the week the digest is about.")
    recipient = models.ForeignKey(User, on_delete=models.CASCADE, related_name="+")
    sent_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["week_of", "recipient"], name="digest_once_per_week_and_manager"),
        ]

    def __str__(self) -> str:
        return f"Digest for the week of {self.week_of} to {self.recipient}"
