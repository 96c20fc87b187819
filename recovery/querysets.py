"""The incident queries every page and sweep shares: open, overdue, due for escalation, ranked by
severity, and the recurrence look-back (``similar_before_at``); and the recovery plans due a drill."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from django.db import models
from django.db.models import Case, F, Q, Value, When

from recovery.vocabulary import SEVERITY_RANK
from servicedesk.access import sites_seen_by


class IncidentQuerySet(models.QuerySet):
    def latest_similar_before(self, category: Any, touchpoint: Any, moment: Any) -> IncidentQuerySet:
        """When the latest incident of ``category`` at ``touchpoint`` logged strictly before ``moment``
        was logged, as a one-row ``created_at`` query (values or ``OuterRef``s: one probe of the
        recurrence index, usable as a subquery)."""
        return (
            self.filter(category=category, touchpoint=touchpoint, created_at__lt=moment)
            .order_by("-created_at")
            .values("created_at")[:1]
        )

    def fill_similar_before(self) -> int:
        """Write ``similar_before_at`` of these incidents from the table (bulk inserts, repairs)."""
        latest = self.model.objects.latest_similar_before(
            models.OuterRef("category"), models.OuterRef("touchpoint"), models.OuterRef("created_at")
        )
        return self.filter(touchpoint__isnull=False).update(similar_before_at=models.Subquery(latest))

    def with_severity_rank(self) -> IncidentQuerySet:
        """``severity_rank``: 4 for critical down to 1 for low, to sort the most serious first."""
        rank = Case(
            *(When(severity=value, then=Value(rank)) for value, rank in SEVERITY_RANK.items()),
            output_field=models.IntegerField(),
        )
        return self.annotate(severity_rank=rank)

    def open(self) -> IncidentQuerySet:
        return self.filter(status__in=self.model.OPEN_STATUSES)

    def running(self) -> IncidentQuerySet:
        """Open and the clock running (not paused while waiting on the patient)."""
        return self.filter(status__in=self.model.RUNNING_STATUSES)

    def overdue(self, now: datetime) -> IncidentQuerySet:
        """Past the running deadline: respond-by before acknowledgement, resolve-by always."""
        return self.running().filter(
            Q(acknowledged_at__isnull=True, respond_by__lt=now) | Q(resolve_by__lt=now)
        )

    def with_running_deadline(self) -> IncidentQuerySet:
        """Annotated with ``deadline``, the clock that runs now: respond-by until someone
        acknowledges, then resolve-by (what ``overdue`` compares with)."""
        return self.annotate(
            deadline=Case(When(acknowledged_at__isnull=True, then=F("respond_by")), default=F("resolve_by"))
        )

    def due_for_escalation(self, now: datetime) -> IncidentQuerySet:
        # Uses incident_next_escalation_idx.
        return self.filter(next_escalation_at__lte=now, status__in=self.model.RUNNING_STATUSES)

    def visible_to(self, user: Any) -> IncidentQuerySet:
        """The incidents ``user`` may see and work: every one for a manager (or when the practice lets
        staff see everything); else those at their sites, those tied to no site, and those assigned to
        them, logged by them or with an action of theirs. Every list, page, action and count for staff
        starts here."""
        sites = sites_seen_by(user)
        if sites is None:
            return self.all()
        follow_up = self.model._meta.get_field("timeline").related_model
        owns_an_action = models.Exists(
            follow_up.objects.filter(incident=models.OuterRef("pk"), kind="action", owner=user)
        )
        return self.filter(
            Q(location__isnull=True)
            | Q(location__in=sites)
            | Q(assignee=user)
            | Q(reporter=user)
            | owns_an_action
        )

    def for_list(self) -> IncidentQuerySet:
        return self.select_related("touchpoint", "location", "assignee")

    def for_my_work(self, user) -> IncidentQuerySet:
        """Someone's open incidents, the one due soonest first."""
        return self.open().filter(assignee=user).select_related("touchpoint").order_by("resolve_by", "pk")


class RecoveryPlanQuerySet(models.QuerySet):
    def active(self) -> RecoveryPlanQuerySet:
        return self.filter(is_active=True)

    def drill_overdue(self, today: date) -> RecoveryPlanQuerySet:
        return self.active().filter(next_drill_on__lt=today)

    def due_for_drill_reminder(self, today: date) -> RecoveryPlanQuerySet:
        """Overdue, and nobody was reminded about this particular due date yet."""
        return self.drill_overdue(today).exclude(drill_reminded_for=models.F("next_drill_on"))
