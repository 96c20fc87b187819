"""The shared vocabulary every pillar uses: staff accounts, locations and touchpoints."""

from __future__ import annotations

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
