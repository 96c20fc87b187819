"""What feedback gives pages it does not own: its patient feedback counted per local day and place
(the dashboard keeps these counts as its daily summaries), the days' totals that tell the
dashboard a summary went stale, and example comments for the themes of negative feedback.

The feedback tables are read here, by the pillar that owns them; the dashboard stores and sums
what these functions return, and turns the sums into figures with ``feedback.figures``.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from datetime import date, timedelta

from django.db.models import Count, FilteredRelation, Max, Min, Q, QuerySet
from django.db.models.functions import TruncDate
from django.utils import timezone

from feedback.models import Answer, Invitation, Question, Response, Survey, ThemeMention
from feedback.models.responses import submitted_between
from servicedesk.clock import local_midnight
from servicedesk.metrics import Filters, Period
from servicedesk.panels import Scope, page_url

# Where a count was given: the key of a day's counts is (day, *PLACE).
PLACE = ("location_id", "touchpoint_id", "need_profile_id")

# Name of a count → the FFT answer it counts (Answer.FFT_CHOICES), in the standard order.
FFT_FIELDS = {
    "fft_very_good": "very_good",
    "fft_good": "good",
    "fft_neither": "neither",
    "fft_poor": "poor",
    "fft_very_poor": "very_poor",
    "fft_dont_know": "dont_know",
}
# Name of a count → the 0-10 scores it counts (lowest, highest).
NPS_FIELDS = {
    "nps_promoters": (9, 10),
    "nps_passives": (7, 8),
    "nps_detractors": (0, 6),
}
COUNT_FIELDS = ("responses", "negative", *FFT_FIELDS, *NPS_FIELDS)
INVITATION_FIELDS = ("invitations_delivered", "invitations_answered")
# Invitations that reached the patient (the denominator of the response rate).
INVITATION_DELIVERED = [
    status
    for status in Invitation.Status.values
    if status not in (Invitation.Status.PENDING, Invitation.Status.FAILED)
]

# Example comments come from this many of the period's latest negative responses.
EXAMPLES_FROM_LATEST = 200

DayAndPlace = tuple[date, int | None, int | None, int | None]


def fft_categories() -> list[tuple[str, str]]:
    """The six standard FFT categories, best first, as (name of the count, label)."""
    labels = {choice: str(label) for choice, label, _value in Answer.FFT_CHOICES}
    return [(name, labels[choice]) for name, choice in FFT_FIELDS.items()]


def patient_responses() -> QuerySet[Response]:
    """Responses from patients: the anonymous staff pulse describes the team, not the patient's experience."""
    return Response.objects.exclude(channel=Response.Channel.STAFF)


def patient_invitations() -> QuerySet[Invitation]:
    return Invitation.objects.filter(survey__audience=Survey.Audience.PATIENT)


def response_counts(answers: str = "answers") -> dict[str, Count]:
    """The aggregates every feedback figure is built from, over a queryset of responses.

    Responses join their answers once (``answers``: the relation, or a ``FilteredRelation`` of it);
    ``distinct`` keeps a response with several answers counted once, and each answer count filters
    on its question's kind.
    """
    fft = Q(**{f"{answers}__question__kind": Question.Kind.FFT})
    nps = Q(**{f"{answers}__question__kind": Question.Kind.NPS})
    counts = {
        "responses": Count("pk", distinct=True),
        "negative": Count("pk", filter=Q(is_negative=True), distinct=True),
    }
    counts |= {
        field: Count(answers, filter=fft & Q(**{f"{answers}__choice": c})) for field, c in FFT_FIELDS.items()
    }
    counts |= {
        field: Count(answers, filter=nps & Q(**{f"{answers}__value__range": scores}))
        for field, scores in NPS_FIELDS.items()
    }
    return counts


def _by_day_and_place(queryset: QuerySet, field: str, days: list[date], *also: str) -> QuerySet:
    start, end = local_midnight(min(days)), local_midnight(max(days) + timedelta(days=1))
    tz = timezone.get_current_timezone()
    return (
        queryset.filter(**{f"{field}__gte": start, f"{field}__lt": end})
        .annotate(day=TruncDate(field, tzinfo=tz))
        .values("day", *PLACE, *also)
        .order_by()
    )


def daily_counts(*, days: Iterable[date]) -> dict[DayAndPlace, dict[str, int]]:
    """Patient feedback of ``days`` counted per local day and place, in two grouped queries.

    Each value holds the ``COUNT_FIELDS`` of the responses given there that day and, where
    invitations for visits of that day reached patients, the ``INVITATION_FIELDS``.
    """
    days = sorted(set(days))
    if not days:
        return {}
    wanted = set(days)
    counted: dict[DayAndPlace, dict[str, int]] = {}
    # The answers joined on their own copy of the moment too, so PostgreSQL reads only the days' months.
    start, end = local_midnight(days[0]), local_midnight(days[-1] + timedelta(days=1))
    answered = FilteredRelation(
        "answers", condition=Q(answers__submitted_at__gte=start, answers__submitted_at__lt=end)
    )
    responses = patient_responses().alias(answered=answered)
    for counts in _by_day_and_place(responses, "submitted_at", days).annotate(**response_counts("answered")):
        if counts["day"] in wanted:
            key = (counts["day"], *(counts[p] for p in PLACE))
            counted.setdefault(key, {}).update({field: counts[field] for field in COUNT_FIELDS})
    for counts in _by_day_and_place(patient_invitations(), "visit_at", days).annotate(
        invitations_delivered=Count("pk", filter=Q(status__in=INVITATION_DELIVERED)),
        invitations_answered=Count("pk", filter=Q(status=Invitation.Status.COMPLETED)),
    ):
        if counts["day"] in wanted and counts["invitations_delivered"]:
            key = (counts["day"], *(counts[p] for p in PLACE))
            counted.setdefault(key, {}).update({field: counts[field] for field in INVITATION_FIELDS})
    return counted


def daily_theme_counts(*, days: Iterable[date]) -> list[dict[str, object]]:
    """Patient responses mentioning each theme per local day and place, and of those, the ones whose
    clause about the theme is negative ("friendly staff but we waited an hour" counts against
    waiting, not against staff): one grouped query over the comments' theme mentions."""
    days = sorted(set(days))
    if not days:
        return []
    wanted = set(days)
    mentioned = patient_responses().filter(theme_mentions__removed=False)
    themed = _by_day_and_place(mentioned, "submitted_at", days, "theme_mentions__theme").annotate(
        mentions=Count("pk", distinct=True),
        negative_mentions=Count("pk", distinct=True, filter=Q(theme_mentions__is_negative=True)),
    )
    return [
        {
            "day": counts["day"],
            "theme_id": counts["theme_mentions__theme"],
            "mentions": counts["mentions"],
            "negative_mentions": counts["negative_mentions"],
            **{p: counts[p] for p in PLACE},
        }
        for counts in themed
        if counts["day"] in wanted and counts["theme_mentions__theme"] is not None
    ]


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


def responses_per_day(*, since: date, until: date, staff_too: bool = False) -> dict[date, int]:
    """Patient responses (``staff_too``: every response, the staff pulse's included) per local day,
    ``since`` up to (not including) ``until``: one grouped query."""
    responses = Response.objects.all() if staff_too else patient_responses()
    return _per_day(responses, "submitted_at", since, until, Count("pk"))


def answered_invitations_per_day(*, since: date, until: date) -> dict[date, int]:
    """Answered patient invitations per local day of the visit, ``since`` up to ``until``: one query."""
    answered = Count("pk", filter=Q(status=Invitation.Status.COMPLETED))
    return _per_day(patient_invitations(), "visit_at", since, until, answered)


def response_days() -> tuple[date, date] | None:
    """The local days of the first and the last patient response, or None before the first."""
    span = patient_responses().aggregate(first=Min("submitted_at"), last=Max("submitted_at"))
    if span["first"] is None:
        return None
    return timezone.localdate(span["first"]), timezone.localdate(span["last"])


def negative_comment_examples(
    *, theme_ids: Collection[int], period: Period, filters: Filters, examples: int
) -> dict[int, list[str]]:
    """Up to ``examples`` different negative clauses about each theme, from the period's latest responses.

    An example is the clause that mentions the theme, and only where that clause is negative:
    never another sentence of the same comment, never a kind word. Two queries: the latest
    ``EXAMPLES_FROM_LATEST`` patient responses of the period at the filtered place with a negative
    mention of one of the themes (newest first, so the cost does not grow with the period's size);
    then those mentions with their comments.
    """
    found: dict[int, list[str]] = {pk: [] for pk in theme_ids}
    if not found or examples < 1:
        return found
    negative = ThemeMention.objects.filter(theme_id__in=found, is_negative=True, removed=False)
    latest = list(
        Response.objects.in_period(period.start, period.end)
        .exclude(channel=Response.Channel.STAFF)
        .filter(**filters.at_place(need_profile="need_profile"))
        .filter(pk__in=negative.values("response_id"))
        .order_by("-submitted_at", "-pk")
        .values_list("pk", flat=True)[:EXAMPLES_FROM_LATEST]
    )
    mentions = (
        # The answers' and responses' own moments bound the joins to the period's months (partitions
        # on PostgreSQL).
        negative.filter(response_id__in=latest)
        .filter(submitted_between(period.start, period.end, prefix="answer__"))
        .filter(submitted_between(period.start, period.end, prefix="response__"))
        .order_by("-response__submitted_at", "-response_id")
        .values_list("theme_id", "answer__text", "start", "end")
    )
    for theme_id, text, start, end in mentions:  # at most EXAMPLES_FROM_LATEST x themes rows
        clause = text[start:end]
        chosen = found[theme_id]
        if clause and clause not in chosen and len(chosen) < examples:
            chosen.append(clause)
    return found


def responses_url(scope: Scope, **extra: object) -> str:
    """The response list for a scope's days and place (the list filters by place, not patient group),
    with ``extra`` filters: how the dashboard and recovery's attention list link to feedback."""
    query = {"date_from": scope.first_day.isoformat(), "date_to": scope.last_day.isoformat()}
    return page_url("feedback:response_list", query={**query, **scope.place_query(), **extra})
