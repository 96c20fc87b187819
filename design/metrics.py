"""The figures service design contributes to goals and the dashboard."""

from __future__ import annotations

from datetime import timedelta

from django.db.models import Count, OuterRef, Q, Subquery
from django.utils import timezone

from design.models import GoalMeasurement, GoalStatus
from servicedesk.metrics import Filters, Metric, Period, Unit, register

GOALS_MET_PCT = "design.goals_met_pct"


def goals_met_pct(*, period: Period, filters: Filters) -> float | None:
    """The share of goals, measured during the period, whose latest measurement meets the target.

    "At risk" still meets the target, so it counts as met; goals with no data are left out,
    and so are goals that measure this very figure. ``pillar`` (design, delivery, recovery)
    is an optional parameter.
    """
    first_day = timezone.localdate(period.start)
    last_day = timezone.localdate(period.end - timedelta(microseconds=1))
    in_period = GoalMeasurement.objects.filter(measured_on__gte=first_day, measured_on__lte=last_day)
    latest_per_goal = in_period.filter(goal=OuterRef("goal")).order_by("-measured_on").values("pk")[:1]
    measurements = (
        in_period.filter(pk=Subquery(latest_per_goal))
        .exclude(goal__metric_key=GOALS_MET_PCT)
        .exclude(status=GoalStatus.NO_DATA)
    )
    measurements = measurements.filter(
        **filters.at_place(location="goal__location", touchpoint="goal__touchpoint")
    )
    if filters.need_profile_id is not None:
        measurements = measurements.filter(
            Q(goal__need_profile_id=filters.need_profile_id) | Q(goal__need_profiles=filters.need_profile_id)
        )
    if pillar := filters.param("pillar"):
        measurements = measurements.filter(goal__pillar=pillar)
    counts = measurements.aggregate(
        # distinct: a goal linked to several profiles joins once per profile.
        total=Count("pk", distinct=True),
        met=Count("pk", filter=Q(status__in=[GoalStatus.MET, GoalStatus.AT_RISK]), distinct=True),
    )
    if not counts["total"]:
        return None
    return 100.0 * counts["met"] / counts["total"]


METRICS = [
    Metric(
        key=GOALS_MET_PCT,
        label="Service goals met",
        unit=Unit.PERCENT,
        higher_is_better=True,
        compute=goals_met_pct,
        description=(
            "Share of the practice's measured goals meeting their target, from each goal's latest "
            "daily measurement in the period. Optional parameter: pillar=design|delivery|recovery."
        ),
    ),
]


def register_all() -> None:
    for metric in METRICS:
        register(metric)
