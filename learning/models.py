"""A practice that learns: the same thing going wrong again (a ``Pattern``), what the practice changed
in how it delivers the service because of it (a ``Change``), and the manager's rule for "again".

Learning sits above recovery, delivery, feedback and design: it reads incidents, checklist items,
protocols, goals and feedback roll-ups, and none of them imports it (``make lint``).
"""

from __future__ import annotations

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from recovery.vocabulary import Category
from servicedesk.models import TimeStamped

# A before/after comparison never looks at less than this many days on either side: fewer say
# more about chance than about the change.
MIN_MEASURE_DAYS = 30


class LearningRules(models.Model):
    """When incidents count as recurring: ``threshold`` of them within ``window_days`` local days.
    One row; with none yet, the defaults apply (``learning.services.rules``)."""

    SINGLETON = 1

    threshold = models.PositiveSmallIntegerField(
        _("incidents that make a pattern"),
        default=3,
        validators=[MinValueValidator(2), MaxValueValidator(50)],
        help_text=_("How many similar incidents within the window show that something keeps going wrong."),
    )
    window_days = models.PositiveSmallIntegerField(
        _("within how many days"),
        default=30,
        validators=[MinValueValidator(1), MaxValueValidator(365)],
        help_text=_("Counted in the practice's calendar days, today included."),
    )
    updated_at = models.DateTimeField(auto_now=True)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        verbose_name = _("learning rules")
        verbose_name_plural = _("learning rules")
        constraints = [
            models.CheckConstraint(condition=Q(pk=1), name="learningrules_single_row"),
            models.CheckConstraint(condition=Q(threshold__gte=2), name="learningrules_threshold_at_least_2"),
            models.CheckConstraint(condition=Q(window_days__gte=1), name="learningrules_window_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.threshold} incidents in {self.window_days} days"


class PatternQuerySet(models.QuerySet):
    def live(self) -> PatternQuerySet:
        """Open or answered: the one pattern a key may have at a time."""
        return self.exclude(status=Pattern.Status.CLOSED)

    def open(self) -> PatternQuerySet:
        return self.filter(status=Pattern.Status.OPEN)


class Pattern(TimeStamped):
    """Incidents of one kind at one place (or about one theme of feedback) recurring past the rule."""

    class Status(models.TextChoices):
        OPEN = "open", _("Open")  # seen, nothing changed yet
        ANSWERED = "answered", _("Answered")  # a change was made; watching whether it worked
        CLOSED = "closed", _("Closed")  # done with: a new recurrence makes a new pattern

    class Kind(models.TextChoices):
        PLACE = "place", _("Category at a touchpoint")
        THEME = "theme", _("Feedback theme")

    kind = models.CharField(_("kind"), max_length=10, choices=Kind)
    # "place:<category>:<touchpoint id>" or "theme:<theme id>": what makes two incidents "the same".
    key = models.CharField(max_length=80, editable=False)
    category = models.CharField(_("category"), max_length=20, choices=Category, blank=True)
    touchpoint = models.ForeignKey(
        "servicedesk.Touchpoint", on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    theme = models.ForeignKey(
        "feedback.Theme", on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    status = models.CharField(_("status"), max_length=10, choices=Status, default=Status.OPEN)
    first_seen_at = models.DateTimeField(_("first seen"))
    last_incident_at = models.DateTimeField(_("latest incident"))
    incidents = models.ManyToManyField("recovery.Incident", related_name="+", blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)

    objects = PatternQuerySet.as_manager()

    class Meta:
        ordering = ["-last_incident_at", "-pk"]
        constraints = [
            # Detection run twice (the sweep and the receiver, or two workers) finds this row.
            models.UniqueConstraint(
                fields=["key"], condition=~Q(status="closed"), name="pattern_one_live_per_key"
            ),
            models.CheckConstraint(
                condition=(Q(kind="place") & ~Q(category="") & Q(touchpoint__isnull=False))
                | (Q(kind="theme") & Q(theme__isnull=False)),
                name="pattern_key_complete",
            ),
        ]
        indexes = [
            # The patterns list and the dashboard's open patterns: by status, latest first.
            models.Index(fields=["status", "-last_incident_at"], name="pattern_status_latest_idx"),
        ]

    def __str__(self) -> str:
        return self.label

    @property
    def label(self) -> str:
        if self.kind == self.Kind.THEME:
            return str(_("Feedback about “%(theme)s”")) % {"theme": self.theme}
        return f"{self.get_category_display()} — {self.touchpoint}"


class Change(TimeStamped):
    """What the practice changed in how it delivers the service to answer a pattern, and when."""

    class Kind(models.TextChoices):
        CHECKLIST_ITEM = "checklist_item", _("A new or edited checklist item")
        PROTOCOL = "protocol", _("A protocol revision")
        TRAINING = "training", _("A training requirement")
        GOAL = "goal", _("A service goal")

    pattern = models.ForeignKey(Pattern, on_delete=models.CASCADE, related_name="changes")
    kind = models.CharField(_("kind of change"), max_length=20, choices=Kind)
    description = models.TextField(_("what changed"))
    made_on = models.DateField(_("made on"))
    checklist_item = models.ForeignKey(
        "delivery.ChecklistItem", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    protocol = models.ForeignKey(
        "delivery.Protocol", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    training = models.ForeignKey(
        "delivery.ChecklistTemplate",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("training checklist"),
    )
    goal = models.ForeignKey(
        "design.ServiceGoal", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    made_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        ordering = ["-made_on", "-pk"]
        constraints = [
            # At most the one object its kind names: a checklist change links no goal.
            models.CheckConstraint(
                condition=(Q(kind="checklist_item") | Q(checklist_item__isnull=True))
                & (Q(kind="protocol") | Q(protocol__isnull=True))
                & (Q(kind="training") | Q(training__isnull=True))
                & (Q(kind="goal") | Q(goal__isnull=True)),
                name="change_links_its_kind_only",
            ),
        ]
        indexes = [
            # The monthly report's "changes made": changes by the day they were made.
            models.Index(fields=["made_on"], name="change_made_on_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} on {self.made_on:%d %b %Y}"

    @property
    def linked(self) -> models.Model | None:
        return self.checklist_item or self.protocol or self.training or self.goal
