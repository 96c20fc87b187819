"""Design's counts per site and day, for the group's comparison between sites: goal attainment as
goal-days met. Each site's goals are measured once a day (``GoalMeasurement``); a day counts as
measured when the goal had data, and as met when it was met (at risk is still met)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date

from django.db.models import Count, Q

from design.models import GoalMeasurement, GoalStatus

FIELDS = ("goal_days_measured", "goal_days_met")


def site_daily_counts(*, days: Iterable[date]) -> dict[tuple[date, int], dict[str, int]]:
    """Measurements of ``days`` of the goals set for one site, counted per day and site (one query)."""
    days = sorted(set(days))
    if not days:
        return {}
    rows = (
        GoalMeasurement.objects.filter(
            measured_on__gte=days[0], measured_on__lte=days[-1], goal__location__isnull=False
        )
        .values("measured_on", "goal__location_id")
        .order_by()
        .annotate(
            goal_days_measured=Count("pk", filter=~Q(status=GoalStatus.NO_DATA)),
            goal_days_met=Count("pk", filter=Q(status__in=[GoalStatus.MET, GoalStatus.AT_RISK])),
        )
    )
    wanted = set(days)
    return {
        (row["measured_on"], row["goal__location_id"]): {field: row[field] for field in FIELDS}
        for row in rows
        if row["measured_on"] in wanted
    }


def first_day() -> date | None:
    """The first day a site's goal was measured (``refresh_dashboard --all``)."""
    return (
        GoalMeasurement.objects.filter(goal__location__isnull=False)
        .order_by("measured_on")
        .values_list("measured_on", flat=True)
        .first()
    )
