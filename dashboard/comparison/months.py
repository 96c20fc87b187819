"""Monthly per-site sums behind the comparison between sites, so a year costs a dozen rows a site.

The comparison sums a period's summaries per site. Over 12 months at 200 sites that was some half a
million ``FeedbackDay`` rows (one per site, touchpoint and patient group a day); ``SiteMonth`` holds
each whole month's sums per site, and a period reads its whole months there and only the days at
its two ends from the daily tables — in one query (``summed``), whatever the period.

Each half of a month row is rebuilt from its own daily table, by the refresh that rebuilt one of its
days (``refresh_months``): the feedback summaries' refresh the FFT and NPS counts, the per-site
refresh the incidents, checklists and goals. An upsert keeps the other half as it is and a second,
concurrent refresh of the same month writes the same sums.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime, timedelta

from django.db import transaction
from django.db.models import Model, Q, Sum

from dashboard.models import SiteMonth


def month_of(day: date) -> date:
    return day.replace(day=1)


def next_month(month: date) -> date:
    return (month.replace(day=28) + timedelta(days=4)).replace(day=1)


def whole_months(first_day: date, last_day: date) -> tuple[date, date]:
    """The whole calendar months within [first_day, last_day], as [start, end): empty when start ≥ end."""
    start = first_day if first_day.day == 1 else next_month(first_day)
    end = month_of(last_day + timedelta(days=1))
    return start, end


def _sums(fields: Iterable[str]) -> dict[str, Sum]:
    return {field: Sum(field) for field in fields}


def refresh_months(
    day_model: type[Model], *, fields: tuple[str, ...], days: Iterable[date], now: datetime
) -> None:
    """Rebuild ``fields`` of the month rows of every month holding one of ``days``, from ``day_model``."""
    for month in sorted({month_of(day) for day in days}):
        counted = (
            day_model.objects.filter(day__gte=month, day__lt=next_month(month), location__isnull=False)
            .values("location_id")
            .order_by()
            .annotate(**_sums(fields))
        )
        rows = [
            SiteMonth(month=month, refreshed_at=now, **{k: v or 0 for k, v in row.items()}) for row in counted
        ]
        with transaction.atomic():
            SiteMonth.objects.bulk_create(
                rows,
                update_conflicts=True,
                unique_fields=["month", "location"],
                update_fields=[*fields, "refreshed_at"],
            )
            # A site with none of these counts this month any more keeps its row for the other half.
            SiteMonth.objects.filter(month=month).exclude(
                location_id__in=[r.location_id for r in rows]
            ).update(refreshed_at=now, **dict.fromkeys(fields, 0))


def summed(day_model: type[Model], fields: set[str], first_day: date, last_day: date) -> list[dict]:
    """Each active site's sums of ``fields`` over [first_day, last_day]: the whole months from
    ``SiteMonth``, the days before and after them from ``day_model``, in one query (a UNION ALL)."""
    start, end = whole_months(first_day, last_day)
    names = sorted(fields)
    days = day_model.objects.filter(day__gte=first_day, day__lte=last_day, location__is_active=True)
    if start < end:
        days = days.filter(Q(day__lt=start) | Q(day__gte=end))
    parts = days.values("location_id").order_by().annotate(**_sums(names))
    if start < end:
        months = SiteMonth.objects.filter(month__gte=start, month__lt=end, location__is_active=True)
        parts = parts.union(months.values("location_id").order_by().annotate(**_sums(names)), all=True)
    merged: dict[int, dict] = {}
    for row in parts:
        into = merged.setdefault(row["location_id"], dict.fromkeys(names, 0))
        for name in names:
            into[name] += row[name] or 0
    return [{"location_id": location_id, **sums} for location_id, sums in merged.items()]
