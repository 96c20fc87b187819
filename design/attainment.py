"""Goal attainment, design's section of the manager dashboard: every active goal in scope against
its target, worst first. Registered by ``design.contributions``; the dashboard, its digest, CSV
and monthly report show it."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from django.conf import settings
from django.db.models import OuterRef, Q, QuerySet, Subquery
from django.utils.functional import cached_property
from django.utils.translation import gettext_lazy as _

from design import services as design_services
from design.models import GoalMeasurement, GoalStatus, ServiceGoal
from servicedesk import metrics
from servicedesk.figures import csv_number
from servicedesk.panels import Scope

logger = logging.getLogger(__name__)


# --- Goal attainment -----------------------------------------------------------------------------

# The latest GoalMeasurement's fields the dashboard reads beside each goal.
MEASUREMENT_FIELDS = (
    "status",
    "value",
    "previous_value",
    "measured_at",
    "goal_version",
    "target",
    "comparator",
)
STATUS_ORDER = {GoalStatus.MISSED: 0, GoalStatus.AT_RISK: 1, GoalStatus.NO_DATA: 2, GoalStatus.MET: 3}


@dataclass(frozen=True)
class GoalRow:
    goal: ServiceGoal
    status: GoalStatus
    value: float | None
    previous_value: float | None
    trend: str
    measured_at: datetime | None  # None: evaluated just now
    # The promise in force when measured (a goal's target may have changed since).
    target: Decimal
    comparator: str

    @property
    def metric(self) -> metrics.Metric | None:
        return metrics.registry.get(self.goal.metric_key)

    @property
    def unit(self) -> str | None:
        return self.metric.unit if self.metric else None

    @property
    def metric_label(self) -> str:
        return self.metric.label if self.metric else str(_("A figure not measured yet"))

    @property
    def status_label(self) -> str:
        return str(GoalStatus(self.status).label)

    @property
    def trend_label(self) -> str:
        return str(design_services.Trend(self.trend).label)


@dataclass(frozen=True)
class GoalAttainment:
    rows: list[GoalRow]

    @cached_property
    def counts(self) -> dict[str, int]:
        counts = dict.fromkeys(STATUS_ORDER, 0)
        for row in self.rows:
            counts[row.status] += 1
        return counts

    def with_status(self, status: str) -> list[GoalRow]:
        return [row for row in self.rows if row.status == status]


def _goals_in_scope(scope: Scope) -> QuerySet[ServiceGoal]:
    """Goals that speak about the filtered place or group, or about the whole practice: the active ones,
    or, for a period that has ended, those that existed at its end and were not retired by then."""
    if scope.has_ended:
        end = scope.end_of(scope.last_day)
        goals = ServiceGoal.objects.filter(created_at__lt=end).filter(
            Q(status=ServiceGoal.Status.ACTIVE) | Q(retired_at__gte=end)
        )
    else:
        goals = ServiceGoal.objects.active()
    if scope.location:
        goals = goals.filter(Q(location=scope.location) | Q(location__isnull=True))
    if scope.touchpoint:
        goals = goals.filter(Q(touchpoint=scope.touchpoint) | Q(touchpoint__isnull=True))
    if scope.need_profile:
        for_profile = ServiceGoal.objects.filter(
            Q(need_profile=scope.need_profile) | Q(need_profiles=scope.need_profile)
        ).values("pk")
        goals = goals.filter(Q(pk__in=for_profile) | Q(need_profile__isnull=True, need_profiles__isnull=True))
    return goals


def goal_attainment(scope: Scope) -> GoalAttainment:
    """Every goal in scope with its value against target, trend and status (met ones last).

    A goal is judged over its own period (rolling 30 days or quarter to date), not the
    dashboard's. The design pillar's hourly sweep records each goal's evaluation
    (``GoalMeasurement``); the dashboard reads the latest one in the same query as the goals.
    A goal changed since, or not measured for ``DASHBOARD_GOAL_MEASUREMENT_MAX_AGE`` minutes,
    is evaluated now with ``design.services.goal_evaluate``.

    For a period that has ended (last month's report), each goal is shown as it stood at the
    period's end: its last measurement on or before the last day, against the target in force
    then; a goal never measured by then is evaluated as of the period's end.
    """
    # One measurement a goal a day (a unique index on goal and day): the latest day is one index
    # step back, where ordering by the moment sorted five years of a goal's measurements.
    latest = GoalMeasurement.objects.filter(goal=OuterRef("pk")).order_by("-measured_on")
    if scope.has_ended:
        latest = latest.filter(measured_on__lte=scope.last_day)
    goals = (
        _goals_in_scope(scope)
        .select_related("location", "touchpoint", "need_profile")
        .annotate(**{f"m_{name}": Subquery(latest.values(name)[:1]) for name in MEASUREMENT_FIELDS})
        .distinct()
        .order_by("title", "pk")
    )
    rows = [_row_as_of(goal, scope) if scope.has_ended else _row_now(goal, scope) for goal in goals]
    rows.sort(key=lambda r: (STATUS_ORDER[r.status], r.goal.title.lower()))
    return GoalAttainment(rows=rows)


def _measured_row(goal: ServiceGoal) -> GoalRow:
    return GoalRow(
        goal=goal,
        status=GoalStatus(goal.m_status),
        value=goal.m_value,
        previous_value=goal.m_previous_value,
        trend=design_services.trend_of(
            value=goal.m_value, previous_value=goal.m_previous_value, comparator=goal.m_comparator
        ),
        measured_at=goal.m_measured_at,
        target=goal.m_target,
        comparator=goal.m_comparator,
    )


def _evaluated_row(goal: ServiceGoal, now: datetime) -> GoalRow:
    evaluation = design_services.goal_evaluate(goal=goal, now=now)
    return GoalRow(
        goal=goal,
        status=evaluation.status,
        value=evaluation.value,
        previous_value=evaluation.previous_value,
        trend=evaluation.trend,
        measured_at=None,
        target=goal.target,
        comparator=goal.comparator,
    )


def _row_now(goal: ServiceGoal, scope: Scope) -> GoalRow:
    # A measurement of "no data" is not trusted: data may have arrived since (a new survey,
    # the first checklist). Evaluating such a goal is cheap, precisely because it has no data.
    fresh = (
        goal.m_status not in (None, GoalStatus.NO_DATA)
        and goal.m_measured_at is not None
        and goal.m_measured_at >= scope.now - timedelta(minutes=settings.DASHBOARD_GOAL_MEASUREMENT_MAX_AGE)
        and goal.m_goal_version == goal.version
        and goal.m_target == goal.target
        and goal.m_comparator == goal.comparator
    )
    return _measured_row(goal) if fresh else _evaluated_row(goal, scope.now)


def _row_as_of(goal: ServiceGoal, scope: Scope) -> GoalRow:
    if goal.m_status is not None:
        return _measured_row(goal)
    return _evaluated_row(goal, min(scope.now, scope.end_of(scope.last_day)))


def goal_export_rows(attainment: GoalAttainment) -> list[list[object]]:
    """The goals' lines of the dashboard's CSV: value now and before, unit, status and target."""
    rows: list[list[object]] = []
    for row in attainment.rows:
        comparator = "≥" if row.comparator == ServiceGoal.Comparator.AT_LEAST else "≤"
        rows.append([
            "goal", row.goal.title,
            csv_number(row.value, row.unit), csv_number(row.previous_value, row.unit), row.unit or "",
            f"{row.status_label}; target {comparator} {row.target}",
        ])  # fmt: skip
    return rows
