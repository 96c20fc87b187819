"""The figures recovery contributes to goals and the dashboard.

Each ``compute`` returns None when the period has nothing to measure, so that "no incidents"
never reads as "0 % resolved within SLA". Timed figures leave out time spent waiting on the
patient: the SLA clock is stopped then, and so is ours.
"""

from __future__ import annotations

import statistics
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


def _open_at(qs: QuerySet[Incident], moment) -> QuerySet[Incident]:
    """Logged before the moment and not resolved by then."""
    return qs.filter(created_at__lt=moment).filter(Q(resolved_at__isnull=True) | Q(resolved_at__gte=moment))


def open_incidents(*, period: Period, filters: Filters) -> int:
    return _open_at(_incidents(filters), period.end).exclude(status=Incident.Status.CLOSED).count()


def overdue_incidents(*, period: Period, filters: Filters) -> int:
    """Open at the end of the period and past a deadline that was still running then."""
    end = period.end
    qs = _open_at(_incidents(filters), end).exclude(
        status__in=[Incident.Status.CLOSED, Incident.Status.PAUSED]
    )
    late_response = Q(respond_by__lt=end) & (Q(acknowledged_at__isnull=True) | Q(acknowledged_at__gte=end))
    return qs.filter(late_response | Q(resolve_by__lt=end)).count()


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
    """The median of ``duration`` over ``incidents``, in hours: computed by PostgreSQL; on SQLite
    (the embedded demo, which has no percentile function) over the fetched durations."""
    if connections[incidents.db].vendor == "postgresql":
        seconds = incidents.aggregate(median=_MedianSeconds(duration))["median"]
        return None if seconds is None else seconds / 3600
    durations = incidents.annotate(duration=ExpressionWrapper(duration, output_field=DurationField()))
    return median_hours(list(durations.values_list("duration", flat=True)))


def _share(rows: QuerySet, condition: Q) -> Number | None:
    """The share of ``rows`` that meet ``condition``, as a %, from one query."""
    counts = rows.aggregate(total=Count("pk"), part=Count("pk", filter=condition))
    return share_pct(counts["part"], counts["total"])


def within_sla_pct(*, within: int, resolved: int) -> Number | None:
    """Incidents resolved by their resolve-by time ÷ incidents resolved, as a %."""
    return share_pct(within, resolved)


def median_hours_to_first_response(*, period: Period, filters: Filters) -> float | None:
    """Incidents acknowledged in the period: logging → acknowledgement."""
    acknowledged = _incidents(filters).filter(
        acknowledged_at__gte=period.start, acknowledged_at__lt=period.end
    )
    return median_hours_of(acknowledged, F("acknowledged_at") - F("created_at"))


def median_hours_to_resolve(*, period: Period, filters: Filters) -> float | None:
    """Incidents resolved in the period: logging → resolution, less time waiting on the patient."""
    resolved = _incidents(filters).filter(resolved_at__gte=period.start, resolved_at__lt=period.end)
    return median_hours_of(resolved, F("resolved_at") - F("created_at") - F("paused_for"))


def pct_resolved_within_sla(*, period: Period, filters: Filters) -> float | None:
    resolved = _incidents(filters).filter(resolved_at__gte=period.start, resolved_at__lt=period.end)
    counts = resolved.aggregate(
        resolved=Count("pk"), within=Count("pk", filter=Q(resolved_at__lte=F("resolve_by")))
    )
    return within_sla_pct(**counts)


def reopen_rate(*, period: Period, filters: Filters) -> float | None:
    """Of the incidents logged in the period that were ever resolved, the share reopened at least once."""
    logged = _incidents(filters).filter(created_at__gte=period.start, created_at__lt=period.end)
    ever_resolved = logged.filter(Q(resolved_at__isnull=False) | Q(reopen_count__gt=0))
    return _share(ever_resolved, Q(reopen_count__gt=0))


def recurrence_rate(*, period: Period, filters: Filters) -> float | None:
    """Of the incidents logged in the period, the share that repeat an earlier one (same category and
    touchpoint) logged within RECOVERY_RECURRENCE_DAYS before it.

    Each incident knows when the one before it of its kind at its touchpoint was logged
    (``similar_before_at``, written when it was logged), so this is one pass over the period.
    """
    window = timedelta(days=settings.RECOVERY_RECURRENCE_DAYS)
    logged = _incidents(filters).filter(
        created_at__gte=period.start, created_at__lt=period.end, touchpoint__isnull=False
    )
    return _share(logged, Q(similar_before_at__gte=F("created_at") - window))


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
        compute=open_incidents,
        description="Incidents not yet resolved at the end of the period.",
        filterable_by=FILTERABLE,
    ),
    Metric(
        key="recovery.overdue_incidents",
        label="Overdue incidents",
        unit=Unit.COUNT,
        higher_is_better=False,
        compute=overdue_incidents,
        description="Open incidents past their respond-by or resolve-by time (paused ones excluded).",
        filterable_by=FILTERABLE,
    ),
    Metric(
        key="recovery.median_hours_to_first_response",
        label="Median time to first response",
        unit=Unit.HOURS,
        higher_is_better=False,
        compute=median_hours_to_first_response,
        description="From logging to acknowledgement, for incidents acknowledged in the period.",
        filterable_by=FILTERABLE,
    ),
    Metric(
        key="recovery.median_hours_to_resolve",
        label="Median time to resolve",
        unit=Unit.HOURS,
        higher_is_better=False,
        compute=median_hours_to_resolve,
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
        compute=reopen_rate,
        description="Incidents logged in the period and resolved that had to be reopened.",
        filterable_by=FILTERABLE,
    ),
    Metric(
        key="recovery.recurrence_rate",
        label="Recurrence rate",
        unit=Unit.PERCENT,
        higher_is_better=False,
        compute=recurrence_rate,
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
