"""Service recovery: incidents, their timeline, the SLA clocks that drive them, continuity plans.

Every write goes through ``recovery.services``; these models own data and single-row truths
(what a status means, when a clock runs out), never the rules for changing them.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from recovery.querysets import IncidentQuerySet, RecoveryPlanQuerySet
from recovery.vocabulary import (
    CHECK_SEVERITY_HELP,
    SEVERITY_HELP,
    SEVERITY_RANK,
    Category,
    Severity,
)
from servicedesk.models import TimeStamped
from servicedesk.roles import Role


class IncidentCounter(models.Model):
    """The last reference number handed out in a year.

    Locked with SELECT … FOR UPDATE while an incident is created, in the same transaction:
    numbers are unique, and a rolled-back creation gives its number back, so there are no gaps.
    """

    year = models.PositiveSmallIntegerField(primary_key=True)
    last_number = models.PositiveIntegerField(default=0)

    def __str__(self) -> str:
        return f"{self.year}: {self.last_number}"


class SlaPolicy(TimeStamped):
    """What the practice promises for one severity: first response and resolution times.

    One policy per severity is the group's (no ``location``); a site may have its own for a
    severity, which then governs that site's incidents of that severity instead
    (``recovery.services.sla.policy_for``).
    """

    severity = models.CharField(_("severity"), max_length=10, choices=Severity)
    # An override is the site's own setting, meaningless without the site: it goes with it.
    location = models.ForeignKey(
        "servicedesk.Location",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="sla_policies",
        verbose_name=_("site"),
        help_text=_("Empty: the group's policy, for every site without its own."),
    )
    respond_within = models.DurationField(
        _("respond within"), help_text=_("Time from logging to acknowledgement, e.g. 04:00:00 for 4 hours.")
    )
    resolve_within = models.DurationField(
        _("resolve within"), help_text=_("Time from logging to resolution, not counting pauses.")
    )
    opening_hours_only = models.BooleanField(
        _("count opening hours only"),
        default=False,
        help_text=_("The clocks stop while the practice is closed (Practice → Opening hours)."),
    )

    class Meta:
        verbose_name = _("SLA policy")
        verbose_name_plural = _("SLA policies")
        constraints = [
            models.UniqueConstraint(
                fields=["severity"],
                condition=Q(location__isnull=True),
                name="slapolicy_one_group_policy_per_severity",
                violation_error_message=_("The group already has a policy for this severity."),
            ),
            # Also the index ``policy_for`` reads a site's own policy (and the sweep its batch's) by.
            models.UniqueConstraint(
                fields=["severity", "location"],
                name="slapolicy_one_per_site_and_severity",
                violation_error_message=_("This site already has its own policy for this severity."),
            ),
            models.CheckConstraint(
                condition=Q(respond_within__gt=timedelta(0))
                & Q(resolve_within__gte=models.F("respond_within")),
                name="slapolicy_sensible_times",
                violation_error_message=_(
                    "The first response must be due after 0 hours, and resolution no sooner than it."
                ),
            ),
        ]

    def __str__(self) -> str:
        if self.location_id is None:
            return f"{self.get_severity_display()} SLA"
        return f"{self.get_severity_display()} SLA at {self.location}"

    @property
    def severity_rank(self) -> int:
        return SEVERITY_RANK[Severity(self.severity)]


class EscalationStep(TimeStamped):
    """Who hears about an incident that has run out of time, and when.

    Steps are climbed one at a time: level 1 first, then 2, … Each fires ``after`` the
    incident's running deadline (``respond_by`` until someone acknowledges it, then
    ``resolve_by``).
    """

    policy = models.ForeignKey(SlaPolicy, on_delete=models.CASCADE, related_name="steps")
    level = models.PositiveSmallIntegerField(_("level"))
    after = models.DurationField(
        _("after"),
        default=timedelta(0),
        help_text=_("How long past the deadline this step fires; 0 means as soon as it is missed."),
    )
    notify_role = models.CharField(_("notify role"), max_length=40, choices=Role, blank=True)
    notify_user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("notify person"),
    )

    class Meta:
        ordering = ["policy", "level"]
        constraints = [
            models.UniqueConstraint(fields=["policy", "level"], name="escalationstep_unique_level"),
            models.CheckConstraint(
                condition=Q(level__gte=1),
                name="escalationstep_level_from_one",
                violation_error_message=_("Escalation levels start at 1."),
            ),
            models.CheckConstraint(
                condition=(Q(notify_role="") & Q(notify_user__isnull=False))
                | (~Q(notify_role="") & Q(notify_user__isnull=True)),
                name="escalationstep_role_or_person",
                violation_error_message=_("Escalate to a role or to a person."),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.policy}: level {self.level} → {self.recipient_label}"

    @property
    def recipient_label(self) -> str:
        # The group's own name ("Managers"): a role here means everyone in it.
        return str(self.notify_user) if self.notify_user_id else Role(self.notify_role).value


class Incident(TimeStamped):
    """Something that let a patient down, from the moment it is caught until it is put right."""

    class Status(models.TextChoices):
        NEW = "new", _("New")
        ACKNOWLEDGED = "acknowledged", _("Acknowledged")
        IN_PROGRESS = "in_progress", _("In progress")
        PAUSED = "paused", _("Waiting on patient")
        RESOLVED = "resolved", _("Resolved")
        CLOSED = "closed", _("Closed")

    class Source(models.TextChoices):
        STAFF = "staff", _("Logged by staff")
        FEEDBACK = "feedback", _("Patient feedback")
        CHECKLIST = "checklist", _("Failed check")

    OPEN_STATUSES = (Status.NEW, Status.ACKNOWLEDGED, Status.IN_PROGRESS, Status.PAUSED)
    RUNNING_STATUSES = (Status.NEW, Status.ACKNOWLEDGED, Status.IN_PROGRESS)

    reference = models.CharField(_("reference"), max_length=20, unique=True, editable=False)
    title = models.CharField(_("title"), max_length=200)
    description = models.TextField(_("what happened"), blank=True)
    category = models.CharField(_("category"), max_length=20, choices=Category)
    severity = models.CharField(_("severity"), max_length=10, choices=Severity)
    touchpoint = models.ForeignKey(
        "servicedesk.Touchpoint",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="incidents",
        verbose_name=_("touchpoint"),
    )
    location = models.ForeignKey(
        "servicedesk.Location",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="incidents",
        verbose_name=_("location"),
    )
    source = models.CharField(_("source"), max_length=10, choices=Source, default=Source.STAFF)
    # At most one incident per negative response and per failed check, however often the signal
    # arrives: the unique constraint decides, not a read-then-write check.
    # No database constraint: the responses are partitioned by month (see feedback.Response.themes).
    source_response = models.OneToOneField(
        "feedback.Response",
        on_delete=models.SET_NULL,
        db_constraint=False,
        null=True,
        blank=True,
        related_name="recovery_incident",
        verbose_name=_("feedback response"),
    )
    source_check = models.OneToOneField(
        "delivery.ChecklistResult",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="recovery_incident",
        verbose_name=_("failed check"),
    )

    # Patient contact: kept only when the patient said we may contact them.
    patient_consented = models.BooleanField(_("patient agreed to be contacted"), default=False)
    patient_name = models.CharField(_("patient's name"), max_length=120, blank=True)
    patient_phone = models.CharField(_("patient's phone"), max_length=40, blank=True)
    patient_email = models.EmailField(_("patient's email"), blank=True)

    reporter = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="reported_incidents",
    )
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="assigned_incidents",
        verbose_name=_("assignee"),
    )
    status = models.CharField(_("status"), max_length=20, choices=Status, default=Status.NEW)

    # The clocks. Deadlines move later by the length of each pause, so they are always true.
    respond_by = models.DateTimeField(_("respond by"))
    resolve_by = models.DateTimeField(_("resolve by"))
    acknowledged_at = models.DateTimeField(null=True, blank=True)
    resolved_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    paused_at = models.DateTimeField(null=True, blank=True)
    paused_for = models.DurationField(default=timedelta(0))

    escalation_level = models.PositiveSmallIntegerField(_("escalation level"), default=0)
    # When the next escalation step falls due; NULL when none can (paused, done, last step reached).
    next_escalation_at = models.DateTimeField(null=True, blank=True)
    reopen_count = models.PositiveSmallIntegerField(_("times reopened"), default=0)
    # When the latest earlier incident of the same category at the same touchpoint was logged:
    # written when this one is logged (one probe of the recurrence index), so the recurrence rate
    # is a range scan over the period, whatever the window it is asked for.
    similar_before_at = models.DateTimeField(null=True, blank=True, editable=False)

    resolution_summary = models.TextField(_("resolution summary"), blank=True)
    root_cause = models.TextField(_("root cause"), blank=True)

    # Closing the loop with the patient.
    patient_contacted_at = models.DateTimeField(null=True, blank=True)
    loop_token_hash = models.CharField(max_length=64, unique=True, null=True, blank=True, editable=False)
    loop_sent_at = models.DateTimeField(null=True, blank=True)
    loop_answered_at = models.DateTimeField(null=True, blank=True)
    patient_recovered = models.BooleanField(_("patient felt it was put right"), null=True, blank=True)

    objects = IncidentQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]
        indexes = [
            # The escalation sweep: WHERE next_escalation_at <= now (only the few with a step due).
            models.Index(
                fields=["next_escalation_at"],
                name="incident_next_escalation_idx",
                condition=Q(next_escalation_at__isnull=False),
            ),
            # The incident list filtered by one status, newest first.
            models.Index(fields=["status", "-created_at"], name="incident_status_created_idx"),
            # The incident list's default view: every open incident, newest first (LIMIT 25 walks this).
            models.Index(
                fields=["-created_at"],
                name="incident_open_created_idx",
                condition=Q(status__in=["new", "acknowledged", "in_progress", "paused"]),
            ),
            # Recurrence: the same category and touchpoint within N days.
            models.Index(fields=["category", "touchpoint", "created_at"], name="incident_recurrence_idx"),
            # The dashboard's incidents by category and the period metrics: incidents logged in a period;
            # also the incident list with any status, newest first (scanned backwards).
            models.Index(fields=["created_at"], name="incident_created_idx"),
            # The period figures read incidents by when they were acknowledged, resolved or answered by
            # the patient (medians, within SLA, recovery success, the report's actions), and those not
            # resolved (open and overdue at a moment): each an index range, not the whole history.
            models.Index(
                fields=["acknowledged_at"],
                name="incident_acknowledged_idx",
                condition=Q(acknowledged_at__isnull=False),
            ),
            models.Index(
                fields=["resolved_at"], name="incident_resolved_idx", condition=Q(resolved_at__isnull=False)
            ),
            models.Index(
                fields=["loop_answered_at"],
                name="incident_loop_answered_idx",
                condition=Q(loop_answered_at__isnull=False),
            ),
            models.Index(
                fields=["created_at"], name="incident_unresolved_idx", condition=Q(resolved_at__isnull=True)
            ),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(patient_consented=True)
                | (Q(patient_name="") & Q(patient_phone="") & Q(patient_email="")),
                name="incident_contact_only_with_consent",
                violation_error_message=_(
                    "Contact details are kept only when the patient agrees to be contacted."
                ),
            ),
            models.CheckConstraint(
                condition=~Q(status="resolved") & ~Q(status="closed")
                | (~Q(resolution_summary="") & ~Q(root_cause="")),
                name="incident_resolved_has_summary_and_cause",
                violation_error_message=_("A resolved incident needs what was done and a root cause."),
            ),
            models.CheckConstraint(
                condition=Q(resolve_by__gte=models.F("respond_by")),
                name="incident_resolve_after_respond",
                violation_error_message=_("Resolution cannot be due before the first response."),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.reference} {self.title}"

    @property
    def is_open(self) -> bool:
        return self.status in self.OPEN_STATUSES

    @property
    def is_paused(self) -> bool:
        return self.status == self.Status.PAUSED

    @property
    def patient_language(self) -> str:
        """The language the patient wrote to us in (their feedback's), for anything we send them."""
        return getattr(self.source_response, "language", "") or "en"

    @property
    def has_patient_contact(self) -> bool:
        return self.patient_consented and bool(self.patient_phone or self.patient_email)

    @property
    def severity_help(self) -> str:
        words = CHECK_SEVERITY_HELP if self.source == self.Source.CHECKLIST else SEVERITY_HELP
        return str(words[Severity(self.severity)])

    def running_deadline(self) -> tuple[str, datetime] | None:
        """The clock that is running now: ("respond", respond_by) before acknowledgement, then resolve."""
        if not self.is_open:
            return None
        if self.acknowledged_at is None:
            return "respond", self.respond_by
        return "resolve", self.resolve_by

    def time_left(self, now: datetime | None = None) -> timedelta | None:
        """Positive: due in; negative: overdue by. Frozen while paused. None once resolved."""
        running = self.running_deadline()
        if running is None:
            return None
        reference_time = self.paused_at if self.is_paused else (now or timezone.now())
        return running[1] - reference_time

    def is_overdue(self, now: datetime | None = None) -> bool:
        left = self.time_left(now)
        return left is not None and left < timedelta(0) and not self.is_paused


class FollowUpQuerySet(models.QuerySet):
    def open_actions(self) -> FollowUpQuerySet:
        return self.filter(kind=FollowUp.Kind.ACTION, done_at__isnull=True)

    def for_my_work(self, user, *, until: date) -> FollowUpQuerySet:
        """Someone's open actions on open incidents due by ``until``, the oldest first."""
        return (
            self.open_actions()
            .filter(owner=user, due_on__lte=until, incident__status__in=Incident.OPEN_STATUSES)
            .select_related("incident")
            .order_by("due_on", "pk")
        )

    def due_for_reminder(self, today: date) -> FollowUpQuerySet:
        # Uses followup_action_due_idx.
        return self.open_actions().filter(due_on=today, notified_at__isnull=True)

    def awaiting_assignment_notice(self, since: datetime) -> FollowUpQuerySet:
        return self.filter(kind=FollowUp.Kind.ASSIGNMENT, notified_at__isnull=True, created_at__gte=since)


class FollowUp(TimeStamped):
    """One row of an incident's timeline: who did what, when. The timeline is the audit trail."""

    class Kind(models.TextChoices):
        OPENED = "opened", _("Opened")
        STATUS = "status", _("Status change")
        ASSIGNMENT = "assignment", _("Assignment")
        NOTE = "note", _("Note")
        CONTACT = "contact", _("Patient contact")
        ACTION = "action", _("Action")
        ACTION_DONE = "action_done", _("Action done")
        ESCALATION = "escalation", _("Escalation")
        LOOP = "loop", _("Patient follow-up")

    class ContactChannel(models.TextChoices):
        PHONE = "phone", _("Phone call")
        EMAIL = "email", _("Email")
        SMS = "sms", _("Text message")
        IN_PERSON = "in_person", _("In person")
        LETTER = "letter", _("Letter")

    class ContactOutcome(models.TextChoices):
        APOLOGISED = "apologised", _("Spoke with the patient and apologised")
        EXPLAINED = "explained", _("Spoke with the patient and explained what we are doing")
        PUT_RIGHT = "put_right", _("Spoke with the patient; they feel it is put right")
        LEFT_MESSAGE = "left_message", _("Left a message")
        NO_ANSWER = "no_answer", _("No answer")
        DECLINED = "declined", _("Patient did not want to discuss it")

    REACHED_OUTCOMES = (ContactOutcome.APOLOGISED, ContactOutcome.EXPLAINED, ContactOutcome.PUT_RIGHT)

    incident = models.ForeignKey(Incident, on_delete=models.CASCADE, related_name="timeline")
    # When it happened, as the service saw it (created_at is when the row was written).
    at = models.DateTimeField(_("when"), default=timezone.now)
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        help_text=_("Empty when Servicedesk itself or the patient made the change."),
    )
    kind = models.CharField(max_length=20, choices=Kind)
    body = models.TextField(blank=True)
    # A photo or file on this entry (a note's photo); see servicedesk.attachments.services.
    attachment = models.ForeignKey(
        "attachments.Attachment", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    # What changed, field by field: {"status": ["new", "acknowledged"], ...}.
    changes = models.JSONField(default=dict, blank=True)

    contact_channel = models.CharField(_("channel"), max_length=20, choices=ContactChannel, blank=True)
    contact_outcome = models.CharField(_("outcome"), max_length=20, choices=ContactOutcome, blank=True)

    due_on = models.DateField(_("due on"), null=True, blank=True)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="recovery_actions",
        verbose_name=_("owner"),
    )
    done_at = models.DateTimeField(null=True, blank=True)
    # When the owner was told: the assignment notice, or an action's due-today reminder.
    notified_at = models.DateTimeField(null=True, blank=True)
    escalation_level = models.PositiveSmallIntegerField(null=True, blank=True)

    objects = FollowUpQuerySet.as_manager()

    class Meta:
        ordering = ["at", "pk"]
        indexes = [
            # The reminder sweep: open actions due today that nobody was reminded of.
            models.Index(
                fields=["due_on"],
                name="followup_action_due_idx",
                condition=Q(kind="action", done_at__isnull=True, notified_at__isnull=True),
            ),
        ]
        constraints = [
            models.CheckConstraint(
                condition=~Q(kind="action") | Q(due_on__isnull=False),
                name="followup_action_has_due_date",
                violation_error_message=_("An action needs a due date."),
            ),
            models.CheckConstraint(
                condition=~Q(kind="contact") | (~Q(contact_channel="") & ~Q(contact_outcome="")),
                name="followup_contact_has_channel_and_outcome",
                violation_error_message=_(
                    "A contact with the patient needs how they were contacted and what came of it."
                ),
            ),
            models.UniqueConstraint(
                fields=["incident", "escalation_level"],
                condition=Q(kind="escalation"),
                name="followup_one_row_per_escalation_level",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.incident.reference}: {self.get_kind_display()}"


class RecoveryPlan(TimeStamped):
    """A continuity playbook for the day something big fails: ransomware, phones, records, staff, power."""

    class DrillFrequency(models.IntegerChoices):
        MONTHLY = 30, _("Every month")
        QUARTERLY = 91, _("Every three months")
        HALF_YEARLY = 182, _("Every six months")
        YEARLY = 365, _("Every year")

    title = models.CharField(_("title"), max_length=120, unique=True)
    summary = models.TextField(
        _("when to use this plan"), help_text=_("The situation this plan is for, in one or two sentences.")
    )
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="recovery_plans",
        verbose_name=_("plan owner"),
        help_text=_("Keeps the plan up to date and runs the drills."),
    )
    drill_every_days = models.PositiveSmallIntegerField(
        _("drill frequency"), choices=DrillFrequency, default=DrillFrequency.HALF_YEARLY
    )
    next_drill_on = models.DateField(_("next drill due"), null=True, blank=True)
    drill_reminded_for = models.DateField(null=True, blank=True, editable=False)
    is_active = models.BooleanField(_("active"), default=True)

    objects = RecoveryPlanQuerySet.as_manager()

    class Meta:
        ordering = ["title"]

    def __str__(self) -> str:
        return self.title


class RecoveryStep(models.Model):
    plan = models.ForeignKey(RecoveryPlan, on_delete=models.CASCADE, related_name="steps")
    position = models.PositiveSmallIntegerField(_("order"))
    instruction = models.TextField(_("what to do"))
    owner = models.CharField(
        _("who does it"),
        max_length=120,
        help_text=_(
            'A role rather than a name, so it still works on the day: "Duty manager", "Reception lead".'
        ),
    )

    class Meta:
        ordering = ["plan", "position"]
        constraints = [
            models.UniqueConstraint(fields=["plan", "position"], name="recoverystep_unique_position"),
        ]

    def __str__(self) -> str:
        return f"{self.plan}: step {self.position}"


class Drill(TimeStamped):
    """A rehearsal of a plan: when, who led it, what we learned."""

    class Outcome(models.TextChoices):
        WORKED = "worked", _("The plan worked")
        GAPS = "gaps", _("Worked, with gaps to fix")
        FAILED = "failed", _("The plan did not work")

    plan = models.ForeignKey(RecoveryPlan, on_delete=models.CASCADE, related_name="drills")
    held_on = models.DateField(_("held on"))
    led_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("led by"),
    )
    outcome = models.CharField(_("outcome"), max_length=10, choices=Outcome)
    notes = models.TextField(_("what we learned"), blank=True)
    # A photo or file on this entry (a photo of the drill); see servicedesk.attachments.services.
    attachment = models.ForeignKey(
        "attachments.Attachment", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        ordering = ["-held_on", "-pk"]

    def __str__(self) -> str:
        return f"{self.plan} drill on {self.held_on}"
