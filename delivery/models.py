"""Service delivery: the checklists that show process, people and place are doing their job.

A manager designs a ``ChecklistTemplate`` (ordered ``ChecklistItem``s, some critical). The
scheduler turns each active template into one ``ChecklistRun`` per period (and, for
checklists about each team member, one per person); staff record a ``ChecklistResult``
per item. ``Protocol``s are the versioned documents the checklists refer to.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Count, F, OuterRef, Q, Subquery, Value
from django.db.models.functions import Coalesce
from django.utils.translation import gettext_lazy as _

from servicedesk.access import sites_seen_by
from servicedesk.models import TimeStamped
from servicedesk.roles import Role


class Dimension(models.TextChoices):
    PROCESS = "process", _("Process")
    PEOPLE = "people", _("People")
    PLACE = "place", _("Place")


# --- Protocols --------------------------------------------------------------------------------


class ProtocolQuerySet(models.QuerySet):
    def overdue_review(self, today: date) -> ProtocolQuerySet:
        """Protocols whose review date has passed (``today`` is the practice's local date)."""
        return self.filter(is_active=True, review_by__lt=today)


class Protocol(TimeStamped):
    """A procedure the practice follows, e.g. "Answering the phone" — the body lives in versions."""

    title = models.CharField(_("title"), max_length=200)
    touchpoint = models.ForeignKey(
        "servicedesk.Touchpoint",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="protocols",
        verbose_name=_("touchpoint"),
    )
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="owned_protocols",
        verbose_name=_("owner"),
        help_text=_("Who keeps this protocol up to date."),
    )
    review_by = models.DateField(_("review by"), help_text=_("When this protocol must next be reviewed."))
    is_active = models.BooleanField(_("active"), default=True)
    # Denormalised pointer to the newest version, so lists need no subquery.
    current_version = models.ForeignKey(
        "ProtocolVersion", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    objects = ProtocolQuerySet.as_manager()

    class Meta:
        ordering = ["title"]
        indexes = [
            # Protocol.objects.overdue_review(today): the dashboard count and the managers' list.
            models.Index(fields=["review_by"], condition=Q(is_active=True), name="protocol_review_due_idx"),
        ]

    def __str__(self) -> str:
        return self.title


class ProtocolVersion(models.Model):
    """One immutable revision of a protocol's text (Markdown, rendered sanitised)."""

    protocol = models.ForeignKey(Protocol, on_delete=models.CASCADE, related_name="versions")
    number = models.PositiveIntegerField(_("version"))
    body = models.TextField(_("text"), help_text=_("Markdown: headings, lists, links and emphasis."))
    change_note = models.CharField(_("what changed"), max_length=300, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["protocol", "-number"]
        constraints = [
            models.UniqueConstraint(fields=["protocol", "number"], name="protocolversion_unique_number"),
        ]

    def __str__(self) -> str:
        return f"{self.protocol} v{self.number}"


# --- Templates and items ----------------------------------------------------------------------


class ChecklistTemplateQuerySet(models.QuerySet):
    def making_runs(self) -> ChecklistTemplateQuerySet:
        """Checklists that make new runs: active, and practice-wide or at an open site (a closed
        site's checklists, its copies of the group's included, keep their history but run no more)."""
        return self.filter(Q(location__isnull=True) | Q(location__is_active=True), is_active=True)


class ChecklistTemplate(TimeStamped):
    """A recurring checklist a manager designs: what to check, where, how often, by whom."""

    Dimension = Dimension

    class Frequency(models.TextChoices):
        EACH_SHIFT = "shift", _("Each shift")
        DAILY = "daily", _("Daily")
        WEEKLY = "weekly", _("Weekly")
        MONTHLY = "monthly", _("Monthly")
        AD_HOC = "ad_hoc", _("Ad hoc")

    title = models.CharField(_("title"), max_length=200)
    slug = models.SlugField(
        _("short name"),
        max_length=80,
        blank=True,
        help_text=_(
            "How service goals refer to this checklist (metric parameter checklist=…). "
            "Left empty, it is made from the title."
        ),
    )
    description = models.TextField(_("purpose"), blank=True, help_text=_("Why this check matters."))
    dimension = models.CharField(_("dimension"), max_length=10, choices=Dimension)
    touchpoint = models.ForeignKey(
        "servicedesk.Touchpoint",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="checklist_templates",
        verbose_name=_("touchpoint"),
    )
    location = models.ForeignKey(
        "servicedesk.Location",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="checklist_templates",
        verbose_name=_("location"),
        help_text=_("Leave empty for practice-wide checks such as the phone line or the inbox."),
    )
    frequency = models.CharField(_("frequency"), max_length=10, choices=Frequency, default=Frequency.DAILY)
    due_time = models.TimeField(
        _("due by"),
        default=time(10, 0),
        help_text=_(
            "Local time the check must be done by (on the last day of a weekly or monthly period). "
            "Each-shift checks are due at the end of the shift."
        ),
    )
    responsible_role = models.CharField(
        _("responsible role"), max_length=20, choices=Role, blank=True, help_text=_("Anyone with this role.")
    )
    responsible_person = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="responsible_for_checklists",
        verbose_name=_("responsible person"),
        help_text=_("Takes precedence over the role."),
    )
    protocol = models.ForeignKey(
        Protocol,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="checklist_templates",
        verbose_name=_("protocol"),
        help_text=_("The procedure this checklist follows."),
    )
    service_goal = models.ForeignKey(
        "design.ServiceGoal",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="checklist_templates",
        verbose_name=_("service goal"),
        help_text=_("The goal this checklist helps the practice keep, if any."),
    )
    # People checklists can be about each team member: onboarding, annual refreshers.
    per_person = models.BooleanField(
        _("one run per team member"),
        default=False,
        help_text=_("For onboarding and training: each active team member gets their own run."),
    )
    due_within_days = models.PositiveSmallIntegerField(
        _("days to complete"),
        default=14,
        help_text=_("For a checklist per team member: how long each person has to complete it."),
        validators=[MaxValueValidator(365)],
    )
    renew_every_days = models.PositiveSmallIntegerField(
        _("renew every (days)"),
        null=True,
        blank=True,
        help_text=_("For refresher training, e.g. 365. Leave empty when completing it once is enough."),
        validators=[MinValueValidator(1), MaxValueValidator(3650)],
    )
    is_active = models.BooleanField(_("active"), default=True)
    # A site's adoption of one of the group's (practice-wide) checklists: a copy at the site that
    # keeps the group's items in step (delivery.adoption) and may set its own due time, who does it
    # and extra items. Once a group checklist has adoptions, its runs come from them, one per
    # adopting site, and it makes no practice-wide run of its own (services.runs_schedule).
    group_template = models.ForeignKey(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="site_templates",
        verbose_name=_("from the group's checklist"),
    )

    objects = ChecklistTemplateQuerySet.as_manager()

    class Meta:
        ordering = ["dimension", "title"]
        constraints = [
            # Goals name a checklist by its short name (metric parameter checklist=…).
            models.UniqueConstraint(
                fields=["slug"], condition=~Q(slug=""), name="checklisttemplate_unique_slug"
            ),
            models.CheckConstraint(
                condition=Q(per_person=False) | Q(dimension=Dimension.PEOPLE),
                name="checklisttemplate_per_person_is_people",
                violation_error_message=_("Only a People checklist can be completed once per person."),
            ),
            models.CheckConstraint(
                condition=Q(renew_every_days__isnull=True) | Q(renew_every_days__gt=0),
                name="checklisttemplate_renewal_positive",
                violation_error_message=_("Renew every: at least 1 day, or leave it empty."),
            ),
            # Adopting twice, or two adoptions at once, can never give a site a second copy. (Its index,
            # and the foreign key's own, serve the scheduler's "is it adopted?" and the list of sites.)
            models.UniqueConstraint(
                fields=["group_template", "location"], name="checklisttemplate_one_adoption_per_site"
            ),
            models.CheckConstraint(
                condition=Q(group_template__isnull=True) | Q(location__isnull=False),
                name="checklisttemplate_adoption_at_a_site",
                violation_error_message=_("A site's copy of a group checklist is at that site."),
            ),
        ]

    def __str__(self) -> str:
        return self.title

    @property
    def makes_runs(self) -> bool:
        """``ChecklistTemplate.objects.making_runs()`` for this one (reads ``location``)."""
        return self.is_active and (self.location is None or self.location.is_active)


class ChecklistItemQuerySet(models.QuerySet):
    def active(self) -> ChecklistItemQuerySet:
        return self.filter(is_active=True)


class ChecklistItem(TimeStamped):
    """One thing to check. Items with results are archived, never deleted: history keeps its wording."""

    template = models.ForeignKey(ChecklistTemplate, on_delete=models.CASCADE, related_name="items")
    order = models.PositiveSmallIntegerField(_("order"), default=0)
    text = models.CharField(_("check"), max_length=300)
    guidance = models.TextField(_("guidance"), blank=True, help_text=_("How to check, what good looks like."))
    is_critical = models.BooleanField(
        _("critical"), default=False, help_text=_("A failure opens a service incident straight away.")
    )
    note_required_on_fail = models.BooleanField(_("note required when it fails"), default=True)
    is_active = models.BooleanField(_("active"), default=True)
    # On a site's copy of a group checklist: the group's item this one mirrors (kept in step by
    # delivery.adoption, read-only at the site). Empty for the site's own items.
    group_item = models.ForeignKey(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="site_items"
    )

    objects = ChecklistItemQuerySet.as_manager()

    class Meta:
        ordering = ["template", "order", "pk"]
        constraints = [
            # One mirror of each group item per site copy: adopting and syncing stay idempotent.
            models.UniqueConstraint(
                fields=["template", "group_item"],
                condition=Q(group_item__isnull=False),
                name="checklistitem_one_mirror_per_copy",
            ),
        ]

    @property
    def from_group(self) -> bool:
        return self.group_item_id is not None

    def __str__(self) -> str:
        return self.text


# --- Runs and results -------------------------------------------------------------------------


class ChecklistRunQuerySet(models.QuerySet):
    def open(self) -> ChecklistRunQuerySet:
        return self.filter(status__in=ChecklistRun.OPEN_STATUSES)

    def assigned_to(self, user) -> ChecklistRunQuerySet:
        """Runs that are this person's job: assigned to them, or to their role where they work."""
        mine = Q(assignee=user)
        if user.role is not None:
            where = Q(location__isnull=True) | Q(location_id=user.location_id)
            mine |= Q(assignee__isnull=True, responsible_role=user.role.value) & where
        if user.is_manager:  # nobody named and no role: the managers see to it
            mine |= Q(assignee__isnull=True, responsible_role="")
        return self.filter(mine)

    def workable_by(self, user) -> ChecklistRunQuerySet:
        """Runs ``user`` may record on: their own job, or any run for a practice manager."""
        if user.is_manager:
            return self.all()
        if not user.is_team_member:
            return self.none()
        return self.assigned_to(user)

    def visible_to(self, user) -> ChecklistRunQuerySet:
        """The runs ``user`` may look at: every one for a manager (or when the practice lets staff see
        everything); else those at their sites, those tied to no site, and those that are their job,
        about them or completed by them."""
        sites = sites_seen_by(user)
        if sites is None:
            return self.all()
        # Runs for a role are at a site or at none (``assigned_to``): the sites cover them.
        return self.filter(
            Q(location__isnull=True)
            | Q(location__in=sites)
            | Q(assignee=user)
            | Q(subject=user)
            | Q(completed_by=user)
        )

    def for_my_work(self, user, *, today: date, day_starts: datetime) -> ChecklistRunQuerySet:
        """Today's list for one person: their open runs, and what was completed since the day began."""
        items = ChecklistItem.objects.filter(template=OuterRef("template"), is_active=True).order_by()
        return (
            self.assigned_to(user)
            .filter(
                Q(status__in=self.model.OPEN_STATUSES, period_start__lte=today)
                | Q(completed_at__gte=day_starts)
            )
            .select_related("template", "location", "subject")
            .annotate(
                done=Count("results", distinct=True),
                total=Subquery(items.values("template").annotate(n=Count("pk")).values("n")[:1]),
            )
            .order_by("due_at", "pk")
        )

    def past_deadline(self, now: datetime) -> ChecklistRunQuerySet:
        """Open runs whose deadline has passed. Training runs stay owed (they become overdue, not missed)."""
        return self.open().filter(due_at__lte=now, subject__isnull=True)

    def due_for_reminder(self, now: datetime, *, before: timedelta) -> ChecklistRunQuerySet:
        return self.open().filter(reminded_at__isnull=True, due_at__gt=now, due_at__lte=now + before)


class ChecklistRun(TimeStamped):
    """One occurrence of a checklist: this template, this period, this place (and person)."""

    class Status(models.TextChoices):
        DUE = "due", _("Due")
        IN_PROGRESS = "in_progress", _("In progress")
        COMPLETED = "completed", _("Completed")
        MISSED = "missed", _("Missed")

    OPEN_STATUSES = (Status.DUE, Status.IN_PROGRESS)

    template = models.ForeignKey(ChecklistTemplate, on_delete=models.PROTECT, related_name="runs")
    period_start = models.DateField(_("period"), help_text=_("First local day of the period."))
    shift = models.CharField(_("shift"), max_length=40, blank=True)
    location = models.ForeignKey(
        "servicedesk.Location", on_delete=models.PROTECT, null=True, blank=True, related_name="checklist_runs"
    )
    subject = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="checklist_runs_about_me",
        verbose_name=_("about"),
        help_text=_("The team member a people checklist is about (onboarding, training)."),
    )
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="assigned_checklist_runs",
        verbose_name=_("assigned to"),
    )
    responsible_role = models.CharField(max_length=20, choices=Role, blank=True)
    due_at = models.DateTimeField(_("due by"))
    status = models.CharField(_("status"), max_length=12, choices=Status, default=Status.DUE)
    started_at = models.DateTimeField(null=True, blank=True)
    completed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="completed_checklist_runs",
    )
    completed_at = models.DateTimeField(null=True, blank=True)
    reminded_at = models.DateTimeField(null=True, blank=True)

    objects = ChecklistRunQuerySet.as_manager()

    class Meta:
        ordering = ["-period_start", "due_at", "pk"]
        constraints = [
            # The scheduler's idempotency: a rerun, or two sweeps at once, can never add a second
            # run for the same template, period, shift, place and person. NULLs are coalesced to 0
            # because a unique index treats every NULL as distinct.
            models.UniqueConstraint(
                F("template"),
                F("period_start"),
                F("shift"),
                Coalesce(F("location"), Value(0)),
                Coalesce(F("subject"), Value(0)),
                name="checklistrun_one_per_template_period_place",
            ),
            models.CheckConstraint(
                condition=~Q(status="completed") | Q(completed_at__isnull=False),
                name="checklistrun_completed_has_time",
                violation_error_message=_("A completed check records when it was completed."),
            ),
        ]
        indexes = [
            # past_deadline() and due_for_reminder(): the sweeps scan open runs by deadline.
            models.Index(
                fields=["due_at"], condition=Q(status__in=["due", "in_progress"]), name="run_open_due_idx"
            ),
            # "My work": today's runs by period; completion history and metrics by period.
            models.Index(fields=["period_start", "status"], name="run_period_status_idx"),
            # The dashboard's completion by dimension and delivery.checklist_completion_pct: runs due
            # in a period, whatever their status (the index above covers open runs only).
            models.Index(fields=["due_at", "status"], name="run_due_status_idx"),
            # "My work": what was completed since the day began, beside the open runs (the first
            # index); without it the page read every run of the practice's history.
            models.Index(
                fields=["completed_at"], condition=Q(completed_at__isnull=False), name="run_completed_idx"
            ),
        ]

    def __str__(self) -> str:
        label = f"{self.template} · {self.period_start:%d %b %Y}"
        if self.shift:
            label += f" ({self.shift})"
        return label

    @property
    def is_open(self) -> bool:
        return self.status in self.OPEN_STATUSES

    @property
    def takes_results(self) -> bool:
        """Open, or missed: a missed check can still be done late (and is recorded as late)."""
        return self.is_open or self.status == self.Status.MISSED

    @property
    def completed_late(self) -> bool:
        return (
            self.status == self.Status.COMPLETED
            and self.completed_at is not None
            and self.completed_at > self.due_at
        )


class ChecklistResult(models.Model):
    """The answer to one item in one run. Changing one's mind updates the row (one per item)."""

    class Outcome(models.TextChoices):
        PASS = "pass", _("Pass")
        FAIL = "fail", _("Fail")
        NOT_APPLICABLE = "na", _("N/A")

    run = models.ForeignKey(ChecklistRun, on_delete=models.CASCADE, related_name="results")
    item = models.ForeignKey(ChecklistItem, on_delete=models.PROTECT, related_name="results")
    outcome = models.CharField(_("result"), max_length=4, choices=Outcome)
    note = models.TextField(_("note"), blank=True)
    # A photo of what failed; the incident opened from it shows it (servicedesk.attachments.services).
    attachment = models.ForeignKey(
        "attachments.Attachment", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    recorded_at = models.DateTimeField(_("recorded at"))
    # Set once when check_failed is sent for this result: the claim that makes it exactly once.
    failure_reported_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["run", "item__order", "item_id"]
        constraints = [
            models.UniqueConstraint(fields=["run", "item"], name="checklistresult_one_per_item"),
        ]
        indexes = [
            # delivery.failed_critical_items: failures counted by time recorded.
            models.Index(fields=["recorded_at"], condition=Q(outcome="fail"), name="result_failed_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.item}: {self.get_outcome_display()}"
