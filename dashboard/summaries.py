"""The dashboard's daily feedback summaries: rebuilt from the feedback tables, never edited by hand.

A dashboard period covers tens of thousands of responses and several answers each. Counting
them on every page view would make the page slower as the practice collects more feedback,
so the counts are kept per local day and place (``FeedbackDay``, ``FeedbackThemeDay``):

1. ``feedback_days_refresh(days=…)`` recounts whole days from the feedback tables, each day in
   one transaction (delete the day's rows, insert fresh ones). Rerunning it is harmless; two
   concurrent runs of the same day are stopped by the tables' unique constraints.
2. ``feedback_days_stale(now=…)`` finds the days to recount: today and yesterday (answers are
   still arriving), plus any earlier day whose number of responses no longer matches the
   summary (a bulk import, demo data, an erasure).
3. The Celery sweep ``dashboard.tasks.refresh_feedback_summaries`` (task name
   ``servicedesk.tasks.refresh_feedback_summaries``) runs both every few minutes;
   ``manage.py refresh_dashboard`` does it by hand (``--all`` for every day).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from datetime import date, datetime, time, timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Count, Q, QuerySet, Sum
from django.db.models.functions import TruncDate
from django.utils import timezone

from dashboard.models import FeedbackDay, FeedbackThemeDay
from feedback.models import Invitation, Question, Response, Survey

logger = logging.getLogger(__name__)

PLACE = ("location_id", "touchpoint_id", "need_profile_id")

# FeedbackDay field → the FFT answer it counts (Answer.FFT_CHOICES), in the standard order.
FFT_FIELDS = {
    "fft_very_good": "very_good",
    "fft_good": "good",
    "fft_neither": "neither",
    "fft_poor": "poor",
    "fft_very_poor": "very_poor",
    "fft_dont_know": "dont_know",
}
NPS_FIELDS = {
    "nps_promoters": Q(answers__value__gte=9),
    "nps_passives": Q(answers__value__gte=7, answers__value__lte=8),
    "nps_detractors": Q(answers__value__lte=6),
}
COUNT_FIELDS = ("responses", "negative", *FFT_FIELDS, *NPS_FIELDS)
# Invitations that reached the patient (the denominator of the response rate).
INVITATION_DELIVERED = [
    status
    for status in Invitation.Status.values
    if status not in (Invitation.Status.PENDING, Invitation.Status.FAILED)
]


def local_midnight(day: date) -> datetime:
    """The start of a local day, correct across clock changes."""
    return timezone.make_aware(datetime.combine(day, time.min))


def patient_responses() -> QuerySet[Response]:
    """Responses from patients: the anonymous staff pulse describes the team, not the patient's experience."""
    return Response.objects.exclude(channel=Response.Channel.STAFF)


def response_counts() -> dict[str, Count]:
    """The aggregates every feedback figure is built from, over a queryset of responses.

    Responses join their answers once; ``distinct`` keeps a response with several answers
    counted once, and each answer count filters on its question's kind.
    """
    fft = Q(answers__question__kind=Question.Kind.FFT)
    nps = Q(answers__question__kind=Question.Kind.NPS)
    counts = {
        "responses": Count("pk", distinct=True),
        "negative": Count("pk", filter=Q(is_negative=True), distinct=True),
    }
    counts |= {field: Count("answers", filter=fft & Q(answers__choice=c)) for field, c in FFT_FIELDS.items()}
    counts |= {field: Count("answers", filter=nps & q) for field, q in NPS_FIELDS.items()}
    return counts


def _day_range(days: list[date]) -> tuple[datetime, datetime]:
    return local_midnight(min(days)), local_midnight(max(days) + timedelta(days=1))


def _by_day_and_place(queryset: QuerySet, field: str, days: list[date], *also: str) -> QuerySet:
    start, end = _day_range(days)
    tz = timezone.get_current_timezone()
    return (
        queryset.filter(**{f"{field}__gte": start, f"{field}__lt": end})
        .annotate(day=TruncDate(field, tzinfo=tz))
        .values("day", *PLACE, *also)
        .order_by()
    )


def _rows(days: list[date], now: datetime) -> tuple[list[FeedbackDay], list[FeedbackThemeDay]]:
    wanted = set(days)
    rows: dict[tuple, FeedbackDay] = {}

    def row(key: tuple) -> FeedbackDay:
        if key not in rows:
            rows[key] = FeedbackDay(day=key[0], **dict(zip(PLACE, key[1:], strict=True)), refreshed_at=now)
        return rows[key]

    for counts in _by_day_and_place(patient_responses(), "submitted_at", days).annotate(**response_counts()):
        if counts["day"] in wanted:
            key = (counts["day"], *(counts[p] for p in PLACE))
            for field in COUNT_FIELDS:
                setattr(row(key), field, counts[field])
    invitations = Invitation.objects.filter(survey__audience=Survey.Audience.PATIENT)
    for counts in _by_day_and_place(invitations, "visit_at", days).annotate(
        delivered=Count("pk", filter=Q(status__in=INVITATION_DELIVERED)),
        answered=Count("pk", filter=Q(status=Invitation.Status.COMPLETED)),
    ):
        if counts["day"] in wanted and counts["delivered"]:
            summary = row((counts["day"], *(counts[p] for p in PLACE)))
            summary.invitations_delivered = counts["delivered"]
            summary.invitations_answered = counts["answered"]

    themed = _by_day_and_place(patient_responses(), "submitted_at", days, "themes")
    theme_rows = [
        FeedbackThemeDay(
            day=counts["day"],
            theme_id=counts["themes"],
            mentions=counts["mentions"],
            negative_mentions=counts["negative_mentions"],
            **{p: counts[p] for p in PLACE},
        )
        for counts in themed.annotate(
            mentions=Count("pk"), negative_mentions=Count("pk", filter=Q(is_negative=True))
        )
        if counts["day"] in wanted and counts["themes"] is not None
    ]
    return list(rows.values()), theme_rows


def feedback_days_refresh(*, days: Iterable[date], now: datetime | None = None) -> int:
    """Recount the summaries of ``days`` from the feedback tables. Returns how many days were rebuilt.

    All the days are counted in three grouped queries; each day is then replaced in its own
    transaction, so a reader sees a day either before or after, never half-written.
    """
    days = sorted(set(days))
    if not days:
        return 0
    now = now or timezone.now()
    day_rows, theme_rows = _rows(days, now)
    rebuilt = 0
    for day in days:
        try:
            with transaction.atomic():
                FeedbackDay.objects.filter(day=day).delete()
                FeedbackThemeDay.objects.filter(day=day).delete()
                FeedbackDay.objects.bulk_create([r for r in day_rows if r.day == day])
                FeedbackThemeDay.objects.bulk_create([r for r in theme_rows if r.day == day])
        except IntegrityError:  # a concurrent refresh wrote this day first, from the same data
            logger.info("feedback summary for %s refreshed concurrently; kept the other run's rows", day)
            continue
        rebuilt += 1
    return rebuilt


def _per_day(queryset: QuerySet, field: str, since: date, until: date, count: Count) -> dict[date, int]:
    tz = timezone.get_current_timezone()
    return dict(
        queryset.filter(**{f"{field}__gte": local_midnight(since), f"{field}__lt": local_midnight(until)})
        .annotate(day=TruncDate(field, tzinfo=tz))
        .values("day")
        .annotate(n=count)
        .order_by()
        .values_list("day", "n")
    )


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

    Two grouped queries on indexed timestamps compare the feedback tables with the summary:
    responses per day over ``DASHBOARD_SUMMARY_CHECK_DAYS``, and answered invitations per visit
    day over ``DASHBOARD_INVITATION_CHECK_DAYS`` (a patient answers days after the visit).
    """
    today = timezone.localdate(now)
    since = today - timedelta(days=settings.DASHBOARD_SUMMARY_CHECK_DAYS)
    stale = _mismatched(
        _per_day(patient_responses(), "submitted_at", since, today, Count("pk")),
        _summarised(since, today, "responses"),
    )
    since = today - timedelta(days=settings.DASHBOARD_INVITATION_CHECK_DAYS)
    invitations = Invitation.objects.filter(survey__audience=Survey.Audience.PATIENT)
    answered = Count("pk", filter=Q(status=Invitation.Status.COMPLETED))
    stale |= _mismatched(
        _per_day(invitations, "visit_at", since, today, answered),
        _summarised(since, today, "invitations_answered"),
    )
    return sorted(stale | {today, today - timedelta(days=1)})
