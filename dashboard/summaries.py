"""The dashboard's daily feedback summaries: rebuilt from feedback's counts, never edited by hand.

A dashboard period covers tens of thousands of responses and several answers each. Counting
them on every page view would make the page slower as the practice collects more feedback,
so the counts are kept per local day and place (``FeedbackDay``, ``FeedbackThemeDay``):

1. ``feedback_days_refresh(days=…)`` recounts whole days (the feedback pillar counts its own
   tables: ``feedback.contributions``) and stores each day in one transaction (delete the day's
   rows, insert fresh ones). Rerunning it is harmless; two concurrent runs of the same day are
   stopped by the tables' unique constraints.
2. ``feedback_days_stale(now=…)`` finds the days to recount: today and yesterday (answers are
   still arriving), plus any earlier day whose number of responses no longer matches the
   summary (a bulk import, demo data, an erasure).
3. The Celery sweep ``dashboard.tasks.refresh_feedback_summaries`` (task name
   ``servicedesk.tasks.refresh_feedback_summaries``) runs both every few minutes;
   ``manage.py refresh_dashboard`` does it by hand (``--all`` for every day).

The same days' survey results roll-up (``feedback.rollup``: the results page's daily counts,
owned by the feedback pillar, which cannot call the dashboard) is counted alongside and stored in
the same per-day transaction, and its own stale days join the ones recounted here, so one sweep,
one command and one receiver keep both true.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from datetime import date, datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Sum
from django.utils import timezone

from dashboard.models import FeedbackDay, FeedbackThemeDay
from feedback import contributions as feedback_counts
from feedback import retention as feedback_retention
from feedback import rollup as results_rollup
from feedback.contributions import PLACE

logger = logging.getLogger(__name__)

# Days counted together: a few grouped queries for all of them, and a bounded number of rows
# in memory however many days ``refresh_dashboard --all`` recounts.
DAYS_PER_BATCH = 31


def _rows(days: list[date], now: datetime) -> tuple[list[FeedbackDay], list[FeedbackThemeDay]]:
    day_rows = [
        FeedbackDay(day=key[0], **dict(zip(PLACE, key[1:], strict=True)), refreshed_at=now, **counts)
        for key, counts in feedback_counts.daily_counts(days=days).items()
    ]
    theme_rows = [FeedbackThemeDay(**counts) for counts in feedback_counts.daily_theme_counts(days=days)]
    return day_rows, theme_rows


def replace_days(
    days: Iterable[date],
    *,
    count: Callable[[list[date]], Any],
    replace: Callable[[date, Any], None],
    what: str,
) -> int:
    """Rebuild summaries day by day: ``count(batch)`` counts up to ``DAYS_PER_BATCH`` days at a time
    in a few grouped queries, then ``replace(day, counted)`` swaps each day's rows in its own
    transaction, so a reader sees a day either before or after, never half-written. A day another
    refresh wrote first (from the same data) is left as it is. Returns how many days were rebuilt."""
    days = sorted(set(days))
    rebuilt = 0
    for first in range(0, len(days), DAYS_PER_BATCH):
        batch = days[first : first + DAYS_PER_BATCH]
        counted = count(batch)
        for day in batch:
            try:
                with transaction.atomic():
                    replace(day, counted)
            except IntegrityError:
                logger.info("%s summary for %s refreshed concurrently; kept the other run's rows", what, day)
                continue
            rebuilt += 1
    return rebuilt


def feedback_days_refresh(*, days: Iterable[date], now: datetime | None = None) -> int:
    """Recount the summaries of ``days`` from the feedback tables (three grouped queries a batch for
    the summaries, three for the results roll-up). Returns how many days were rebuilt."""
    now = now or timezone.now()

    def count(batch: list[date]) -> tuple[dict, dict, Any]:
        day_rows, theme_rows = _rows(batch, now)
        return by_day(day_rows), by_day(theme_rows), results_rollup.rollup_count(days=batch, now=now)

    def replace(day: date, counted: tuple[dict, dict, Any]) -> None:
        day_rows, theme_rows, rollup = counted
        FeedbackDay.objects.filter(day=day).delete()
        FeedbackThemeDay.objects.filter(day=day).delete()
        FeedbackDay.objects.bulk_create(day_rows.get(day, []))
        FeedbackThemeDay.objects.bulk_create(theme_rows.get(day, []))
        results_rollup.rollup_store(day=day, counted=rollup, now=now)

    return replace_days(days, count=count, replace=replace, what="feedback")


def by_day(rows: list) -> dict[date, list]:
    grouped: dict[date, list] = {}
    for row in rows:
        grouped.setdefault(row.day, []).append(row)
    return grouped


def _summarised(since: date, until: date, field: str) -> dict[date, int]:
    return dict(
        FeedbackDay.objects.filter(day__gte=since, day__lt=until)
        .values("day")
        .annotate(n=Sum(field))
        .order_by()
        .values_list("day", "n")
    )


def _mismatched(actual: dict[date, int], summarised: dict[date, int]) -> set[date]:
    days = actual.keys() | summarised.keys()
    return {day for day in days if actual.get(day, 0) != (summarised.get(day) or 0)}


def feedback_days_stale(*, now: datetime) -> list[date]:
    """The days whose summaries need recounting: today, yesterday, and any day that no longer matches.

    Grouped queries on indexed timestamps compare the feedback tables with the summary:
    responses per day over ``DASHBOARD_SUMMARY_CHECK_DAYS``, and answered invitations per visit
    day over ``DASHBOARD_INVITATION_CHECK_DAYS`` (a patient answers days after the visit); and
    the results roll-up's own check, responses of every survey per day over the first span.
    """
    today = timezone.localdate(now)
    since = _checked_from(today - timedelta(days=settings.DASHBOARD_SUMMARY_CHECK_DAYS), now=now)
    stale = _mismatched(
        feedback_counts.responses_per_day(since=since, until=today),
        _summarised(since, today, "responses"),
    )
    stale |= results_rollup.rollup_days_stale(since=since, until=today)
    visits_since = _checked_from(today - timedelta(days=settings.DASHBOARD_INVITATION_CHECK_DAYS), now=now)
    stale |= _mismatched(
        feedback_counts.answered_invitations_per_day(since=visits_since, until=today),
        _summarised(visits_since, today, "invitations_answered"),
    )
    return sorted(stale | {today, today - timedelta(days=1)})


def _checked_from(day: date, *, now: datetime) -> date:
    """``day``, or the first whole local day the retention policy keeps if that is later: an
    expired month's responses are gone, and its summaries are the figures that remain."""
    kept = feedback_retention.kept_since(now=now)
    return day if kept is None else max(day, timezone.localdate(kept) + timedelta(days=1))


def feedback_days_all(*, now: datetime) -> list[date]:
    """Every day from the first patient response (or the first whole day kept) to today
    (``refresh_dashboard --all``)."""
    span = feedback_counts.response_days()
    if span is None:
        return []
    first, last = _checked_from(span[0], now=now), max(span[1], timezone.localdate(now))
    return [first + timedelta(days=i) for i in range((last - first).days + 1)]
