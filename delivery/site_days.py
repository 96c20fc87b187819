"""Delivery's counts per site and local day, for the group's comparison between sites: periodic
checklist runs by the local day of their deadline, completed and missed (``completion_pct``'s
counts; runs still open count neither). A run is marked missed just after its deadline, so a
day's counts settle by the next day."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, timedelta

from django.db.models import Count, Q
from django.db.models.functions import TruncDate
from django.utils import timezone

from delivery.models import ChecklistRun
from servicedesk.clock import local_midnight

FIELDS = ("checks_completed", "checks_missed")


def site_daily_counts(*, days: Iterable[date]) -> dict[tuple[date, int], dict[str, int]]:
    """Runs due on ``days`` counted per local day and site, in one grouped query."""
    days = sorted(set(days))
    if not days:
        return {}
    start, end = local_midnight(days[0]), local_midnight(days[-1] + timedelta(days=1))
    rows = (
        ChecklistRun.objects.filter(
            due_at__gte=start, due_at__lt=end, subject__isnull=True, location__isnull=False
        )
        .annotate(day=TruncDate("due_at", tzinfo=timezone.get_current_timezone()))
        .values("day", "location_id")
        .order_by()
        .annotate(
            checks_completed=Count("pk", filter=Q(status=ChecklistRun.Status.COMPLETED)),
            checks_missed=Count("pk", filter=Q(status=ChecklistRun.Status.MISSED)),
        )
    )
    wanted = set(days)
    return {
        (row["day"], row["location_id"]): {field: row[field] for field in FIELDS}
        for row in rows
        if row["day"] in wanted
    }


def first_day() -> date | None:
    """The local day of the first periodic run due at a site (``refresh_dashboard --all``)."""
    first = (
        ChecklistRun.objects.filter(subject__isnull=True, location__isnull=False)
        .order_by("due_at")
        .values_list("due_at", flat=True)
        .first()
    )
    return timezone.localdate(first) if first else None
