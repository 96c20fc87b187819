"""The per-site daily summaries behind the comparison between sites, rebuilt like the feedback ones.

``site_days_refresh(days=…)`` sums the feedback summaries of those days per site (FFT and NPS) and
asks each pillar for its counts per site (``recovery.site_days``, ``delivery.site_days``,
``design.site_days``: a few grouped queries per batch of days), and replaces each day's ``SiteDay``
rows in one transaction. The feedback sweep (``dashboard.tasks.refresh_feedback_summaries``) calls
it after the feedback summaries, with the same stale days: today,
yesterday, and any day whose feedback changed; every count is dated by its event, so only today's
and yesterday's rows move in ordinary use, and a sweep costs the same with one year of history or
ten. The months of the rebuilt days are then summed again into ``SiteMonth``, which the comparison
reads for a period's whole months.
``refresh_dashboard --all`` rebuilds every day after a bulk import.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime

from django.db.models import Sum

from dashboard.comparison import months
from dashboard.models import FeedbackDay, SiteDay, SiteMonth
from dashboard.summaries import by_day, replace_days
from delivery import site_days as delivery_days
from design import site_days as design_days
from recovery import site_days as recovery_days


def feedback_daily_counts(*, days: list[date]) -> dict[tuple[date, int], dict[str, int]]:
    """The FFT and NPS answers of ``days`` per site, from the feedback summaries (refreshed first)."""
    rows = (
        FeedbackDay.objects.filter(day__in=days, location__isnull=False)
        .values("day", "location_id")
        .order_by()
        .annotate(**{field: Sum(field) for field in SiteMonth.FEEDBACK_FIELDS})
    )
    return {(row.pop("day"), row.pop("location_id")): row for row in rows}


COUNTERS = (
    feedback_daily_counts,
    recovery_days.site_daily_counts,
    delivery_days.site_daily_counts,
    design_days.site_daily_counts,
)


def _rows(days: list[date], now: datetime) -> list[SiteDay]:
    merged: dict[tuple[date, int], dict[str, float]] = {}
    for count in COUNTERS:
        for key, counts in count(days=days).items():
            merged.setdefault(key, {}).update(counts)
    return [
        SiteDay(day=day, location_id=location_id, refreshed_at=now, **counts)
        for (day, location_id), counts in merged.items()
    ]


def site_days_refresh(*, days: Iterable[date], now: datetime) -> int:
    """Recount the per-site summaries of ``days``. Returns how many days were rebuilt."""

    def replace(day: date, counted: dict[date, list[SiteDay]]) -> None:
        SiteDay.objects.filter(day=day).delete()
        SiteDay.objects.bulk_create(counted.get(day, []))

    count = lambda batch: by_day(_rows(batch, now))  # noqa: E731
    days = sorted(set(days))
    rebuilt = replace_days(days, count=count, replace=replace, what="site")
    months.refresh_months(SiteDay, fields=SiteMonth.FIELDS, days=days, now=now)
    return rebuilt


def site_days_all(*, today: date) -> list[date]:
    """Every day from the first incident, run or goal measurement at a site to ``today``."""
    firsts = [day for day in (m.first_day() for m in (recovery_days, delivery_days, design_days)) if day]
    if not firsts:
        return []
    first = min(firsts)
    return [date.fromordinal(n) for n in range(first.toordinal(), today.toordinal() + 1)]
