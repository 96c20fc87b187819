"""The figures recovery contributes to goals and the dashboard.

Each ``compute`` returns None when the period has nothing to measure, so that "no incidents"
never reads as "0 % resolved within SLA". Timed figures leave out time spent waiting on the
patient: the SLA clock is stopped then, and so is ours.
"""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from datetime import timedelta

from django.conf import settings
from django.db import connections
from django.db.models import (
    Aggregate,
    Count,
    DurationField,
    Expression,
    ExpressionWrapper,
    F,
    FloatField,
    Q,
    QuerySet,
)

from feedback.models import Response, Survey
from recovery.models import Incident
from servicedesk.figures import share_pct
from servicedesk.metrics import Filters, Metric, Number, Period, Unit, register

FILTERABLE = frozenset({"location_id", "touchpoint_id"})


def _incidents(filters: Filters) -> QuerySet[Incident]:
    return Incident.objects.filter(**filters.at_place())


# The dashboard shows each figure for its period and the one before. The figures below are computed
# for several periods in one query (``Metric.compute_each``): the rows of all the periods are read
# once and each period's share, count or median is an aggregate FILTERed to it. A goal asks the
# same function for one period (``Metric.value``), so the two can never disagree.


def _within(moment: str, period: Period) -> Q:
    return Q(**{f"{moment}__gte": period.start, f"{moment}__lt": period.end})


def _spanning(moment: str, periods: Sequence[Period]) -> Q:
    """Rows whose ``moment`` falls in any of ``periods`` (the span from the first start to the last end)."""
    return Q(
        **{f"{moment}__gte": min(p.start for p in periods), f"{moment}__lt": max(p.end for p in periods)}
    )


def _open_at(moment) -> Q:
    """Logged before the moment and not resolved by then."""
    return Q(created_at__lt=moment) & (Q(resolved_at__isnull=True) | Q(resolved_at__gte=moment))


def _open_at_any(filters: Filters, periods: Sequence[Period]) -> QuerySet[Incident]:
    """Incidents open at the end of at least one of ``periods`` (the unresolved and resolved-at
    indexes answer it), for counting each period's own with a FILTER."""
    latest, earliest = max(p.end for p in periods), min(p.end for p in periods)
    return _incidents(filters).filter(
        Q(created_at__lt=latest) & (Q(resolved_at__isnull=True) | Q(resolved_at__gte=earliest))
    )


def _counts(rows: QuerySet, conditions: Sequence[Q]) -> list[int]:
    counts = rows.aggregate(**{f"n{i}": Count("pk", filter=q) for i, q in enumerate(conditions)})
    return [counts[f"n{i}"] for i in range(len(conditions))]


def open_incidents_each(*, periods: Sequence[Period], filters: Filters) -> list[Number | None]:
    """Incidents not yet resolved at the end of each period (closed ones left out)."""
    rows = _open_at_any(filters, periods).exclude(status=Incident.Status.CLOSED)
    return _counts(rows, [_open_at(p.end) for p in periods])


def overdue_incidents_each(*, periods: Sequence[Period], filters: Filters) -> list[Number | None]:
    """Open at the end of each period and past a deadline that was still running then."""
    rows = _open_at_any(filters, periods).exclude(status__in=[Incident.Status.CLOSED, Incident.Status.PAUSED])

    def overdue_at(end) -> Q:
        late_response = Q(respond_by__lt=end) & (
            Q(acknowledged_at__isnull=True) | Q(acknowledged_at__gte=end)
        )
        return _open_at(end) & (late_response | Q(resolve_by__lt=end))

    return _counts(rows, [overdue_at(p.end) for p in periods])


def median_hours(durations: list[timedelta]) -> float | None:
    """The median of incident durations, in hours, defined once (first response and resolution)."""
    if not durations:
        return None
    return statistics.median(d.total_seconds() for d in durations) / 3600


class _MedianSeconds(Aggregate):
    """PostgreSQL's continuous median of an interval, in seconds: the same value as ``median_hours``
    (the mean of the middle two when their number is even), without fetching the rows."""

    template = "PERCENTILE_CONT(0.5) WITHIN GROUP (ORDER BY EXTRACT(EPOCH FROM %(expressions)s))"
    output_field = FloatField()


def median_hours_of(incidents: QuerySet[Incident], duration: Expression) -> float | None:
    """The median of ``duration`` over ``incidents``, in hours."""
    return medians_hours_of(incidents, duration, [Q()])[0]


def medians_hours_of(
    incidents: QuerySet[Incident], duration: Expression, subsets: Sequence[Q]
) -> list[float | None]:
    """The median of ``duration`` over each subset of ``incidents``, in hours: computed by PostgreSQL
    in one query; on SQLite (the embedded demo, which has no percentile function) over the fetched
    durations, one subset at a time."""
    if connections[incidents.db].vendor == "postgresql":
        medians = incidents.aggregate(
            **{f"m{i}": _MedianSeconds(duration, filter=subset) for i, subset in enumerate(subsets)}
        )
        return [None if (s := medians[f"m{i}"]) is None else s / 3600 for i in range(len(subsets))]
    durations = incidents.annotate(duration=ExpressionWrapper(duration, output_field=DurationField()))
    return [median_hours(list(durations.filter(s).values_list("duration", flat=True))) for s in subsets]


def _share(rows: QuerySet, condition: Q) -> Number | None:
    """The share of ``rows`` that meet ``condition``, as a %, from one query."""
    return _shares(rows, condition, [Q()])[0]


def _shares(rows: QuerySet, condition: Q, subsets: Sequence[Q]) -> list[Number | None]:
    """The share of each subset of ``rows`` that meets ``condition``, as a %, from one query."""
    counts = _counts(rows, [c for subset in subsets for c in (subset, subset & condition)])
    return [share_pct(part, total) for total, part in zip(counts[::2], counts[1::2], strict=True)]


def within_sla_pct(*, within: int, resolved: int) -> Number | None:
    """Incidents resolved by their resolve-by time ÷ incidents resolved, as a %."""
    return share_pct(within, resolved)


def median_hours_to_first_response_each(
    *, periods: Sequence[Period], filters: Filters
) -> list[Number | None]:
    """Incidents acknowledged in the period: logging → acknowledgement."""
    acknowledged = _incidents(filters).filter(_spanning("acknowledged_at", periods))
    duration = F("acknowledged_at") - F("created_at")
    return medians_hours_of(acknowledged, duration, [_within("acknowledged_at", p) for p in periods])


def median_hours_to_resolve_each(*, periods: Sequence[Period], filters: Filters) -> list[Number | None]:
    """Incidents resolved in the period: logging → resolution, less time waiting on the patient."""
    resolved = _incidents(filters).filter(_spanning("resolved_at", periods))
    duration = F("resolved_at") - F("created_at") - F("paused_for")
    return medians_hours_of(resolved, duration, [_within("resolved_at", p) for p in periods])


def pct_resolved_within_sla(*, period: Period, filters: Filters) -> float | None:
    resolved = _incidents(filters).filter(resolved_at__gte=period.start, resolved_at__lt=period.end)
    counts = resolved.aggregate(
        resolved=Count("pk"), within=Count("pk", filter=Q(resolved_at__lte=F("resolve_by")))
    )
    return within_sla_pct(**counts)


def reopen_rate_each(*, periods: Sequence[Period], filters: Filters) -> list[Number | None]:
    """Of the incidents logged in the period that were ever resolved, the share reopened at least once."""
    logged = _incidents(filters).filter(_spanning("created_at", periods))
    ever_resolved = logged.filter(Q(resolved_at__isnull=False) | Q(reopen_count__gt=0))
    return _shares(ever_resolved, Q(reopen_count__gt=0), [_within("created_at", p) for p in periods])


def recurrence_rate_each(*, periods: Sequence[Period], filters: Filters) -> list[Number | None]:
    """Of the incidents logged in the period, the share that repeat an earlier one (same category and
    touchpoint) logged within RECOVERY_RECURRENCE_DAYS before it.

    Each incident knows when the one before it of its kind at its touchpoint was logged
    (``similar_before_at``, written when it was logged), so this is one pass over the periods.
    """
    window = timedelta(days=settings.RECOVERY_RECURRENCE_DAYS)
    logged = _incidents(filters).filter(_spanning("created_at", periods), touchpoint__isnull=False)
    repeats = Q(similar_before_at__gte=F("created_at") - window)
    return _shares(logged, repeats, [_within("created_at", p) for p in periods])


def recovery_success_rate(*, period: Period, filters: Filters) -> float | None:
    """Of the patients who answered "Did we put it right?" in the period, the share who said yes."""
    answered = _incidents(filters).filter(
        loop_answered_at__gte=period.start, loop_answered_at__lt=period.end, patient_recovered__isnull=False
    )
    return _share(answered, Q(patient_recovered=True))


def pct_negative_feedback_with_incident(*, period: Period, filters: Filters) -> float | None:
    """Of the negative patient responses submitted in the period, the share that opened an incident."""
    responses = (
        Response.objects.negative()
        .in_period(period.start, period.end)
        .exclude(survey__audience=Survey.Audience.STAFF)
    )
    responses = responses.filter(**filters.at_place())
    return _share(responses, Q(recovery_incident__isnull=False))


METRICS = [
    Metric(
        key="recovery.open_incidents",
        label="Open incidents",
        unit=Unit.COUNT,
        higher_is_better=False,
        compute_each=open_incidents_each,
        description="Incidents not yet resolved at the end of the period.",
        filterable_by=FILTERABLE,
    ),
    Metric(
        key="recovery.overdue_incidents",
        label="Overdue incidents",
        unit=Unit.COUNT,
        higher_is_better=False,
        compute_each=overdue_incidents_each,
        description="Open incidents past their respond-by or resolve-by time (paused ones excluded).",
        filterable_by=FILTERABLE,
    ),
    Metric(
        key="recovery.median_hours_to_first_response",
        label="Median time to first response",
        unit=Unit.HOURS,
        higher_is_better=False,
        compute_each=median_hours_to_first_response_each,
        description="From logging to acknowledgement, for incidents acknowledged in the period.",
        filterable_by=FILTERABLE,
    ),
    Metric(
        key="recovery.median_hours_to_resolve",
        label="Median time to resolve",
        unit=Unit.HOURS,
        higher_is_better=False,
        compute_each=median_hours_to_resolve_each,
        description="From logging to resolution, not counting time waiting on the patient.",
        filterable_by=FILTERABLE,
    ),
    Metric(
        key="recovery.pct_resolved_within_sla",
        label="Resolved within SLA",
        unit=Unit.PERCENT,
        higher_is_better=True,
        compute=pct_resolved_within_sla,
        description="Incidents resolved in the period by their resolve-by time.",
        filterable_by=FILTERABLE,
    ),
    Metric(
        key="recovery.reopen_rate",
        label="Reopen rate",
        unit=Unit.PERCENT,
        higher_is_better=False,
        compute_each=reopen_rate_each,
        description="Incidents logged in the period and resolved that had to be reopened.",
        filterable_by=FILTERABLE,
    ),
    Metric(
        key="recovery.recurrence_rate",
        label="Recurrence rate",
        unit=Unit.PERCENT,
        higher_is_better=False,
        compute_each=recurrence_rate_each,
        description="Incidents repeating one of the same category at the same touchpoint within 30 days.",
        filterable_by=FILTERABLE,
    ),
    Metric(
        key="recovery.pct_negative_feedback_with_incident",
        label="Negative feedback followed up",
        unit=Unit.PERCENT,
        higher_is_better=True,
        compute=pct_negative_feedback_with_incident,
        description="Negative patient responses in the period that opened an incident.",
        filterable_by=FILTERABLE,
    ),
    Metric(
        key="recovery.recovery_success_rate",
        label="Recovery success",
        unit=Unit.PERCENT,
        higher_is_better=True,
        compute=recovery_success_rate,
        description='Patients who answered "Did we put it right?" with yes.',
        filterable_by=FILTERABLE,
    ),
]


def register_all() -> None:
    for metric in METRICS:
        register(metric)
