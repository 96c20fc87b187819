"""Goal attainment, design's section of the manager dashboard: every active goal in scope against
its target, worst first. Registered by ``design.contributions``; the dashboard, its digest, CSV
and monthly report show it."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

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
    """Active goals that speak about the filtered place or group, or about the whole practice."""
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
    """Every active goal in scope with its value against target, trend and status (met first last).

    A goal is judged over its own period (rolling 30 days or quarter to date), not the
    dashboard's. The design pillar's hourly sweep records each goal's evaluation
    (``GoalMeasurement``); the dashboard reads the latest one in the same query as the goals.
    A goal changed since, or not measured for ``DASHBOARD_GOAL_MEASUREMENT_MAX_AGE`` minutes,
    is evaluated now with ``design.services.goal_evaluate``.
    """
    latest = GoalMeasurement.objects.filter(goal=OuterRef("pk")).order_by("-measured_at")
    goals = (
        _goals_in_scope(scope)
        .select_related("location", "touchpoint", "need_profile")
        .annotate(**{f"m_{name}": Subquery(latest.values(name)[:1]) for name in MEASUREMENT_FIELDS})
        .distinct()
        .order_by("title", "pk")
    )
    fresh_from = scope.now - timedelta(minutes=settings.DASHBOARD_GOAL_MEASUREMENT_MAX_AGE)
    rows = []
    for goal in goals:
        # A measurement of "no data" is not trusted: data may have arrived since (a new survey,
        # the first checklist). Evaluating such a goal is cheap, precisely because it has no data.
        fresh = (
            goal.m_status not in (None, GoalStatus.NO_DATA)
            and goal.m_measured_at is not None
            and goal.m_measured_at >= fresh_from
            and goal.m_goal_version == goal.version
            and goal.m_target == goal.target
            and goal.m_comparator == goal.comparator
        )
        if fresh:
            row = GoalRow(
                goal=goal,
                status=GoalStatus(goal.m_status),
                value=goal.m_value,
                previous_value=goal.m_previous_value,
                trend=design_services.trend_of(
                    value=goal.m_value, previous_value=goal.m_previous_value, comparator=goal.comparator
                ),
                measured_at=goal.m_measured_at,
            )
        else:
            evaluation = design_services.goal_evaluate(goal=goal, now=scope.now)
            row = GoalRow(
                goal=goal,
                status=evaluation.status,
                value=evaluation.value,
                previous_value=evaluation.previous_value,
                trend=evaluation.trend,
                measured_at=None,
            )
        rows.append(row)
    rows.sort(key=lambda r: (STATUS_ORDER[r.status], r.goal.title.lower()))
    return GoalAttainment(rows=rows)


def goal_export_rows(attainment: GoalAttainment) -> list[list[object]]:
    """The goals' lines of the dashboard's CSV: value now and before, unit, status and target."""
    rows: list[list[object]] = []
    for row in attainment.rows:
        comparator = "≥" if row.goal.comparator == ServiceGoal.Comparator.AT_LEAST else "≤"
        rows.append([
            "goal", row.goal.title,
            csv_number(row.value, row.unit), csv_number(row.previous_value, row.unit), row.unit or "",
            f"{row.status_label}; target {comparator} {row.goal.target}",
        ])  # fmt: skip
    return rows
