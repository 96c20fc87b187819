"""Recovery's counts per site and local day, for the group's comparison between sites.

The dashboard keeps them (``dashboard.models.SiteDay``) so the group page reads a few hundred
summary rows, not years of incidents. Each count is dated by the event it counts (an incident by
when it was logged, a first response by when it was acknowledged, a patient's answer by when it
came), so a day's counts only change on that day and the day after: the sweep's cost per day of
new data does not grow with the history.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, timedelta

from django.db.models import Count, F, Q
from django.db.models.functions import TruncDate
from django.utils import timezone

from recovery.models import Incident
from servicedesk.clock import local_midnight

# The fields each (day, location) gets; the dashboard's SiteDay has one column each.
FIELDS = (
    "incidents_opened",
    "incidents_responded",
    "response_seconds",
    "response_seconds_squared",
    "incidents_resolved",
    "resolved_within_sla",
    "recovery_answered",
    "recovery_succeeded",
)

DayAndSite = tuple[date, int]


def _grouped(field: str, days: list[date], **counts: Count) -> Iterable[dict]:
    start, end = local_midnight(days[0]), local_midnight(days[-1] + timedelta(days=1))
    return (
        Incident.objects.filter(**{f"{field}__gte": start, f"{field}__lt": end}, location__isnull=False)
        .annotate(day=TruncDate(field, tzinfo=timezone.get_current_timezone()))
        .values("day", "location_id")
        .order_by()
        .annotate(**counts)
    )


def site_daily_counts(*, days: Iterable[date]) -> dict[DayAndSite, dict[str, float]]:
    """Incidents of ``days`` counted per local day and site: three grouped queries and one pass over
    the days' acknowledged incidents (for the sum of squares of the response times)."""
    days = sorted(set(days))
    if not days:
        return {}
    wanted = set(days)
    counted: dict[DayAndSite, dict[str, float]] = {}

    def add(day: date, location_id: int, **values: float) -> None:
        if day in wanted:
            row = counted.setdefault((day, location_id), dict.fromkeys(FIELDS, 0))
            for name, amount in values.items():
                row[name] += amount

    for row in _grouped("created_at", days, n=Count("pk")):
        add(row["day"], row["location_id"], incidents_opened=row["n"])
    resolved = _grouped(
        "resolved_at", days, n=Count("pk"), within=Count("pk", filter=Q(resolved_at__lte=F("resolve_by")))
    )
    for row in resolved:
        add(row["day"], row["location_id"], incidents_resolved=row["n"], resolved_within_sla=row["within"])
    answered = _grouped(
        "loop_answered_at",
        days,
        n=Count("pk", filter=Q(patient_recovered__isnull=False)),
        yes=Count("pk", filter=Q(patient_recovered=True)),
    )
    for row in answered:
        add(row["day"], row["location_id"], recovery_answered=row["n"], recovery_succeeded=row["yes"])
    start, end = local_midnight(days[0]), local_midnight(days[-1] + timedelta(days=1))
    acknowledged = Incident.objects.filter(
        acknowledged_at__gte=start, acknowledged_at__lt=end, location__isnull=False
    ).values_list("location_id", "created_at", "acknowledged_at")
    for location_id, created_at, acknowledged_at in acknowledged.iterator(chunk_size=2000):
        seconds = max((acknowledged_at - created_at).total_seconds(), 0.0)
        add(
            timezone.localdate(acknowledged_at),
            location_id,
            incidents_responded=1,
            response_seconds=seconds,
            response_seconds_squared=seconds * seconds,
        )
    return counted


def first_day() -> date | None:
    """The local day of the first incident logged at a site (``refresh_dashboard --all``)."""
    first = (
        Incident.objects.filter(location__isnull=False)
        .order_by("created_at")
        .values_list("created_at", flat=True)
        .first()
    )
    return timezone.localdate(first) if first else None
