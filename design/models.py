"""Service design: what the practice promises (goals) and for whom (patient-need profiles).

A goal names a metric key from the registry; it never imports the app that computes it.
Its *promise* (what is measured, where, against which target, over which period) carries a
version: changing the promise bumps the version, and staff acknowledge each version.
"""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING

from django.conf import settings
from django.core.exceptions import FieldDoesNotExist
from django.core.validators import MaxValueValidator, MinValueValidator, RegexValidator
from django.db import models
from django.db.models import Count, Exists, F, OuterRef, Q, Subquery
from django.utils.translation import gettext_lazy as _

from servicedesk import metrics
from servicedesk.metrics import Metric
from servicedesk.models import TimeStamped

if TYPE_CHECKING:
    from servicedesk.models import User

metric_key_validator = RegexValidator(
    r"^[a-z][a-z0-9_]*\.[a-z][a-z0-9_]*$",
    _("A metric key looks like app.name, e.g. feedback.fft_positive_pct."),
)


class Pillar(models.TextChoices):
    DESIGN = "design", _("Service design")
    DELIVERY = "delivery", _("Service delivery")
    RECOVERY = "recovery", _("Service recovery")


class GoalStatus(models.TextChoices):
    """The outcome of evaluating a goal for one period (see design.services.goal_evaluate)."""

    MET = "met", _("Met")
    AT_RISK = "at_risk", _("At risk")
    MISSED = "missed", _("Missed")
    NO_DATA = "no_data", _("No data")


class ServiceGoalQuerySet(models.QuerySet):
    def active(self) -> ServiceGoalQuerySet:
        return self.filter(status=ServiceGoal.Status.ACTIVE)

    def with_latest_measurement(self) -> ServiceGoalQuerySet:
        """Annotate the most recent recorded status and value (two subqueries, no extra query per row)."""
        latest = GoalMeasurement.objects.filter(goal=OuterRef("pk")).order_by("-measured_on")
        return self.annotate(
            latest_status=Subquery(latest.values("status")[:1]),
            latest_value=Subquery(latest.values("value")[:1]),
            latest_measured_on=Subquery(latest.values("measured_on")[:1]),
        )

    def with_acknowledgement_count(self) -> ServiceGoalQuerySet:
        """How many people have acknowledged the goal's current version."""
        return self.annotate(
            current_acknowledgements=Count(
                "acknowledgements", filter=Q(acknowledgements__version=F("version")), distinct=True
            )
        )

    def acknowledged_by(self, user: User) -> ServiceGoalQuerySet:
        """Annotate ``is_acknowledged``: whether ``user`` has acknowledged the current version."""
        return self.annotate(
            is_acknowledged=Exists(
                GoalAcknowledgement.objects.filter(
                    goal=OuterRef("pk"), user=user, version=OuterRef("version")
                )
            )
        )

    def for_sites_of(self, user: User) -> ServiceGoalQuerySet:
        """Leave out the copies other sites adopted: a group of 200 sites would list each group goal
        200 times. The group's managers see every site's; the group's own goals are everyone's."""
        if user.managed_site_ids is None:
            return self
        return self.filter(Q(group_goal__isnull=True) | Q(location__in=user.site_ids))

    def to_acknowledge_by(self, user: User) -> ServiceGoalQuerySet:
        """Active goals whose current version ``user`` has not acknowledged yet (of their sites)."""
        return self.active().for_sites_of(user).acknowledged_by(user).filter(is_acknowledged=False)

    def _without_reminder(self, kind: str) -> ServiceGoalQuerySet:
        sent = GoalReviewReminder.objects.filter(
            goal=OuterRef("pk"), review_on=OuterRef("review_on"), kind=kind
        )
        return self.exclude(Exists(sent))

    def review_due_soon(self, *, today: date, until: date) -> ServiceGoalQuerySet:
        """Active goals due for review between today and ``until`` whose owner was not reminded yet."""
        return (
            self.active()
            .filter(review_on__gte=today, review_on__lte=until)
            ._without_reminder(GoalReviewReminder.Kind.OWNER_BEFORE)
        )

    def past_review(self, *, today: date) -> ServiceGoalQuerySet:
        """Active goals whose review date has passed and that managers were not told about yet."""
        return (
            self.active().filter(review_on__lt=today)._without_reminder(GoalReviewReminder.Kind.PAST_REVIEW)
        )


class ServiceGoal(TimeStamped):
    """Something the practice promises its patients, measured against a target, at a cost."""

    class Status(models.TextChoices):
        ACTIVE = "active", _("Active")
        RETIRED = "retired", _("Retired")

    class Comparator(models.TextChoices):
        AT_LEAST = "gte", _("at least (≥)")
        AT_MOST = "lte", _("at most (≤)")

    class Period(models.TextChoices):
        ROLLING_30_DAYS = "rolling_30_days", _("Rolling 30 days")
        QUARTER_TO_DATE = "quarter_to_date", _("Quarter to date")

    # Changing any of these changes what the practice promises: the version goes up and
    # everyone acknowledges the new version.
    PROMISE_FIELDS = (
        "metric_key",
        "metric_params",
        "location",
        "touchpoint",
        "need_profile",
        "comparator",
        "target",
        "period",
    )
    # What an adopted goal takes from its group goal and keeps in step with it (design.adoption);
    # the site sets only SITE_FIELDS. Its target and margin follow the group's until the site
    # sets its own (``target_overridden``).
    DEFINITION_FIELDS = (
        "title",
        "purpose",
        "pillar",
        "metric_key",
        "metric_params",
        "touchpoint",
        "need_profile",
        "comparator",
        "period",
        "review_on",
    )
    SITE_FIELDS = ("owner", "target", "tolerance")

    title = models.CharField(_("title"), max_length=160)
    purpose = models.TextField(
        _("why it matters"), blank=True, help_text=_("What this gives patients, in a sentence or two.")
    )
    pillar = models.CharField(_("pillar"), max_length=20, choices=Pillar, default=Pillar.DESIGN)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="owned_goals",
        verbose_name=_("owner"),
    )

    metric_key = models.CharField(_("metric"), max_length=100, validators=[metric_key_validator])
    metric_params = models.JSONField(_("metric parameters"), default=dict, blank=True)
    location = models.ForeignKey(
        "servicedesk.Location",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("location"),
    )
    touchpoint = models.ForeignKey(
        "servicedesk.Touchpoint",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("touchpoint"),
    )
    need_profile = models.ForeignKey(
        "design.PatientNeedProfile",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="measured_goals",
        verbose_name=_("need profile"),
    )
    comparator = models.CharField(
        _("comparator"), max_length=3, choices=Comparator, default=Comparator.AT_LEAST
    )
    target = models.DecimalField(_("target"), max_digits=12, decimal_places=2)
    tolerance = models.DecimalField(
        _("at-risk margin"),
        max_digits=12,
        decimal_places=2,
        default=0,
        help_text=_("Met, but closer to the target than this, shows as at risk. 0 turns the warning off."),
    )
    period = models.CharField(_("period"), max_length=20, choices=Period, default=Period.ROLLING_30_DAYS)

    budget_money = models.DecimalField(
        _("budget per month"), max_digits=10, decimal_places=2, null=True, blank=True
    )
    budget_staff_hours = models.DecimalField(
        _("staff hours per month"), max_digits=7, decimal_places=1, null=True, blank=True
    )
    review_on = models.DateField(_("review date"))
    status = models.CharField(_("status"), max_length=10, choices=Status, default=Status.ACTIVE)
    retired_at = models.DateTimeField(_("retired at"), null=True, blank=True)
    version = models.PositiveIntegerField(_("version"), default=1)
    group_goal = models.ForeignKey(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="site_goals",
        verbose_name=_("adopted from"),
        help_text=_("The group's goal this site adopted: its definition is the group's."),
    )
    target_overridden = models.BooleanField(
        _("site's own target"),
        default=False,
        help_text=_(
            "The site set its own target and at-risk margin; they stay when the group's goal changes."
        ),
    )

    objects = ServiceGoalQuerySet.as_manager()

    class Meta:
        ordering = ["title"]
        constraints = [
            models.CheckConstraint(
                condition=Q(version__gte=1),
                name="design_goal_version_positive",
                violation_error_message=_("A goal's version starts at 1."),
            ),
            models.CheckConstraint(
                condition=Q(tolerance__gte=0),
                name="design_goal_tolerance_not_negative",
                violation_error_message=_("The at-risk margin cannot be negative."),
            ),
            models.CheckConstraint(
                condition=Q(budget_money__isnull=True) | Q(budget_money__gte=0),
                name="design_goal_budget_money_not_negative",
                violation_error_message=_("The budget cannot be negative."),
            ),
            models.CheckConstraint(
                condition=Q(budget_staff_hours__isnull=True) | Q(budget_staff_hours__gte=0),
                name="design_goal_budget_hours_not_negative",
                violation_error_message=_("Staff hours cannot be negative."),
            ),
            models.CheckConstraint(
                condition=(Q(status="retired") & Q(retired_at__isnull=False))
                | (Q(status="active") & Q(retired_at__isnull=True)),
                name="design_goal_retired_at_matches_status",
                violation_error_message=_("A retired goal records when it was retired, and only then."),
            ),
            # Also serves the group goal's list of the sites that adopted it (site_goals).
            models.UniqueConstraint(
                fields=["group_goal", "location"],
                name="design_goal_adopted_once_per_site",
                violation_error_message=_("This site has already adopted the group's goal."),
            ),
            models.CheckConstraint(
                condition=Q(group_goal__isnull=True) | Q(location__isnull=False),
                name="design_goal_adopted_at_a_site",
                violation_error_message=_("An adopted goal is measured at one site."),
            ),
        ]
        indexes = [
            # The review sweeps: active goals by review date.
            models.Index(fields=["status", "review_on"], name="design_goal_status_review"),
        ]

    def __str__(self) -> str:
        return self.title

    @property
    def is_active(self) -> bool:
        return self.status == self.Status.ACTIVE

    @property
    def is_group_goal(self) -> bool:
        """The group's own goal, measured across every site; sites may adopt it."""
        return self.location_id is None and self.group_goal_id is None

    @property
    def is_adopted(self) -> bool:
        return self.group_goal_id is not None

    @property
    def metric(self) -> Metric | None:
        """The registered metric, or None while the app that computes it has not registered it."""
        return metrics.registry.get(self.metric_key)

    @property
    def metric_label(self) -> str:
        return self.metric.label if self.metric else str(_("A figure not measured yet"))

    @property
    def metric_source(self) -> str:
        """Where the figure comes from, for people: the part of Servicedesk that measures it."""
        sources = {
            "feedback": _("from patient feedback"),
            "recovery": _("from service incidents"),
            "delivery": _("from checklists"),
            "design": _("from service goals"),
        }
        return str(sources.get(self.metric_key.partition(".")[0], _("not measured yet")))

    @property
    def metric_unit(self) -> str | None:
        return self.metric.unit if self.metric else None


class PatientNeedProfileQuerySet(models.QuerySet):
    def active(self) -> PatientNeedProfileQuerySet:
        return self.filter(is_active=True)


class PatientNeedProfile(TimeStamped):
    """A group of patients whose needs differ from the rest: design service for them on purpose."""

    name = models.CharField(_("name"), max_length=120, unique=True)
    description = models.TextField(_("description"), blank=True)
    estimated_share = models.DecimalField(
        _("estimated share of the patient list (%)"),
        max_digits=4,
        decimal_places=1,
        null=True,
        blank=True,
        validators=[MinValueValidator(0), MaxValueValidator(100)],
        help_text=_("A rough estimate is fine, e.g. 12 for about one patient in eight."),
    )
    preferred_touchpoints = models.ManyToManyField(
        "servicedesk.Touchpoint",
        blank=True,
        related_name="need_profiles",
        verbose_name=_("preferred touchpoints"),
    )
    goals = models.ManyToManyField(
        ServiceGoal, blank=True, related_name="need_profiles", verbose_name=_("linked goals")
    )
    is_active = models.BooleanField(_("active"), default=True)

    objects = PatientNeedProfileQuerySet.as_manager()

    class Meta:
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(
                condition=Q(estimated_share__isnull=True)
                | (Q(estimated_share__gte=0) & Q(estimated_share__lte=100)),
                name="design_profile_share_is_a_percentage",
                violation_error_message=_("The share of the patient list is a percentage between 0 and 100."),
            ),
        ]

    def __str__(self) -> str:
        return self.name


class PatientNeed(TimeStamped):
    """One thing patients in a profile need from the practice, with how much it matters."""

    class Priority(models.IntegerChoices):
        ESSENTIAL = 1, _("Essential")
        IMPORTANT = 2, _("Important")
        NICE_TO_HAVE = 3, _("Nice to have")

    profile = models.ForeignKey(PatientNeedProfile, on_delete=models.CASCADE, related_name="needs")
    description = models.CharField(_("need"), max_length=200)
    priority = models.PositiveSmallIntegerField(_("priority"), choices=Priority, default=Priority.IMPORTANT)

    class Meta:
        ordering = ["priority", "pk"]

    def __str__(self) -> str:
        return self.description


class Accommodation(TimeStamped):
    """A reasonable adjustment the practice makes for a profile (interpreter, step-free access…)."""

    class Kind(models.TextChoices):
        INTERPRETER = "interpreter", _("Interpreter")
        STEP_FREE = "step_free", _("Step-free access")
        LARGE_PRINT = "large_print", _("Large print or easy read")
        LONGER_APPOINTMENT = "longer_appointment", _("Longer appointments")
        CARER_PRESENT = "carer_present", _("Carer present")
        OTHER = "other", _("Other")

    profile = models.ForeignKey(PatientNeedProfile, on_delete=models.CASCADE, related_name="accommodations")
    kind = models.CharField(_("accommodation"), max_length=30, choices=Kind)
    detail = models.CharField(
        _("detail"), max_length=200, blank=True, help_text=_("e.g. Polish and Romanian; 20-minute slots.")
    )

    class Meta:
        ordering = ["kind"]
        constraints = [
            models.UniqueConstraint(
                fields=["profile", "kind"],
                condition=~Q(kind="other"),
                name="design_accommodation_once_per_profile",
            ),
        ]

    def __str__(self) -> str:
        label = self.get_kind_display()
        return f"{label}: {self.detail}" if self.detail else str(label)


class GoalAcknowledgement(models.Model):
    """A team member has read and understood one version of a goal."""

    goal = models.ForeignKey(ServiceGoal, on_delete=models.CASCADE, related_name="acknowledgements")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    version = models.PositiveIntegerField()
    acknowledged_at = models.DateTimeField()

    class Meta:
        ordering = ["-acknowledged_at"]
        constraints = [
            models.UniqueConstraint(fields=["goal", "user", "version"], name="design_ack_once_per_version"),
        ]

    def __str__(self) -> str:
        return f"{self.user} acknowledged {self.goal} v{self.version}"


class GoalChange(models.Model):
    """The audit trail of a goal: who created, changed or retired it, and what changed."""

    class Kind(models.TextChoices):
        CREATED = "created", _("Created")
        EDITED = "edited", _("Edited")
        RETIRED = "retired", _("Retired")
        REACTIVATED = "reactivated", _("Reactivated")

    goal = models.ForeignKey(ServiceGoal, on_delete=models.CASCADE, related_name="changes")
    kind = models.CharField(max_length=12, choices=Kind)
    by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+")
    at = models.DateTimeField()
    version = models.PositiveIntegerField(help_text=_("The goal's version after this change."))
    # {"field": ["old", "new"], ...} as display strings.
    changes = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["-at", "-pk"]

    def __str__(self) -> str:
        return f"{self.goal} {self.kind} v{self.version}"

    @staticmethod
    def field_label(name: str) -> str:
        """A goal field's name as managers read it ("target"), for the change log."""
        try:
            return str(ServiceGoal._meta.get_field(name).verbose_name)
        except FieldDoesNotExist:
            return name

    def described(self) -> str:
        """What changed, in one line: "target: 80 → 85; due: …"."""
        return "; ".join(
            f"{self.field_label(field)}: {old} → {new}" for field, (old, new) in self.changes.items()
        )


class GoalMeasurement(models.Model):
    """A goal's value and status as recorded on one day, against the target in force that day."""

    goal = models.ForeignKey(ServiceGoal, on_delete=models.CASCADE, related_name="measurements")
    measured_on = models.DateField()
    measured_at = models.DateTimeField()
    goal_version = models.PositiveIntegerField()
    period_start = models.DateTimeField()
    period_end = models.DateTimeField()
    value = models.FloatField(null=True, blank=True)
    previous_value = models.FloatField(null=True, blank=True)
    comparator = models.CharField(max_length=3, choices=ServiceGoal.Comparator)
    target = models.DecimalField(max_digits=12, decimal_places=2)
    status = models.CharField(max_length=10, choices=GoalStatus)

    class Meta:
        ordering = ["-measured_on"]
        constraints = [
            # One row per goal and day: the sweep updates today's row, reruns never duplicate.
            models.UniqueConstraint(fields=["goal", "measured_on"], name="design_measurement_once_a_day"),
        ]
        indexes = [
            # design.goals_met_pct: measurements of a day range, latest per goal.
            models.Index(fields=["measured_on", "goal"], name="design_measurement_day_goal"),
        ]

    def __str__(self) -> str:
        return f"{self.goal} on {self.measured_on}: {self.get_status_display()}"


class GoalReviewReminder(models.Model):
    """Claims one review reminder per goal, review date and kind: the row exists once, so the send does."""

    class Kind(models.TextChoices):
        OWNER_BEFORE = "owner_before", _("Owner reminded before the review date")
        PAST_REVIEW = "past_review", _("Managers told the review date has passed")

    goal = models.ForeignKey(ServiceGoal, on_delete=models.CASCADE, related_name="review_reminders")
    review_on = models.DateField()
    kind = models.CharField(max_length=20, choices=Kind)
    sent_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["goal", "review_on", "kind"], name="design_review_reminder_once"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()}: {self.goal} ({self.review_on})"
