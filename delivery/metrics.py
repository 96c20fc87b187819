"""The figures delivery contributes to goals and the dashboard (registered in DeliveryConfig.ready)."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal

from django.db.models import Count, Q, QuerySet

from delivery import schedule, training
from delivery.models import ChecklistResult, ChecklistRun, Dimension, Protocol
from servicedesk.figures import share_pct
from servicedesk.metrics import Filters, Metric, Number, Period, Unit, register

PLACE_FILTERS = frozenset({"location_id", "touchpoint_id"})


def _cut(queryset: QuerySet, filters: Filters, *, run: str = "") -> QuerySet:
    """Cut runs by place, touchpoint and (params) dimension; ``run="run__"`` cuts their results."""
    queryset = queryset.filter(
        **filters.at_place(location=f"{run}location", touchpoint=f"{run}template__touchpoint")
    )
    dimension = filters.param("dimension")
    if dimension in Dimension.values:
        queryset = queryset.filter(**{f"{run}template__dimension": dimension})
    return queryset


def runs_due(period: Period, filters: Filters) -> QuerySet:
    """Periodic runs whose deadline falls in the period, cut as above and by (params) checklist."""
    runs = ChecklistRun.objects.filter(due_at__gte=period.start, due_at__lt=period.end, subject__isnull=True)
    runs = _cut(runs, filters)
    if checklist := filters.param("checklist"):
        # A group checklist's figure counts the runs of the sites' copies of it as well.
        runs = runs.filter(Q(template__slug=checklist) | Q(template__group_template__slug=checklist))
    return runs


def completion_pct(*, completed: int, missed: int) -> Decimal | None:
    """Checklist completion, defined once: completed ÷ (completed + missed) runs, as a %.

    Runs still open do not count yet. The goal, the dashboard's tiles and the delivery overview
    all gather their counts their own way and call this.
    """
    return share_pct(completed, completed + missed)


def checklist_completion_pct(*, period: Period, filters: Filters) -> Number | None:
    """Completion among runs due in the period."""
    counts = runs_due(period, filters).aggregate(
        completed=Count("pk", filter=Q(status=ChecklistRun.Status.COMPLETED)),
        missed=Count("pk", filter=Q(status=ChecklistRun.Status.MISSED)),
    )
    return completion_pct(**counts)


def missed_runs(*, period: Period, filters: Filters) -> Number | None:
    return runs_due(period, filters).filter(status=ChecklistRun.Status.MISSED).count()


def failed_critical_items_each(*, periods: Sequence[Period], filters: Filters) -> list[Number | None]:
    """Critical items recorded as failed in each period (one query for all of them)."""
    results = ChecklistResult.objects.filter(
        outcome=ChecklistResult.Outcome.FAIL,
        item__is_critical=True,
        recorded_at__gte=min(p.start for p in periods),
        recorded_at__lt=max(p.end for p in periods),
    )
    within = {
        f"n{i}": Count("pk", filter=Q(recorded_at__gte=p.start, recorded_at__lt=p.end))
        for i, p in enumerate(periods)
    }
    counts = _cut(results, filters, run="run__").aggregate(**within)
    return [counts[f"n{i}"] for i in range(len(periods))]


def training_compliance_pct_each(*, periods: Sequence[Period], filters: Filters) -> list[Number | None]:
    """Training requirements not overdue at the end of each period, as a percentage."""
    return training.compliance_pcts(moments=[p.end for p in periods], location_id=filters.location_id)


def protocols_overdue_review(*, period: Period, filters: Filters) -> Number | None:
    protocols = Protocol.objects.overdue_review(schedule.local_date(period.end))
    protocols = protocols.filter(**filters.at_place(location=""))
    return protocols.count()


METRICS = [
    Metric(
        key="delivery.checklist_completion_pct",
        label="Checklists completed on time",
        unit=Unit.PERCENT,
        higher_is_better=True,
        compute=checklist_completion_pct,
        description=(
            "Share of checklist runs due in the period that were completed before their deadline "
            "(the rest were missed). Parameters: dimension=process|people|place, checklist=<short name>."
        ),
        filterable_by=PLACE_FILTERS,
    ),
    Metric(
        key="delivery.missed_runs",
        label="Missed checklists",
        unit=Unit.COUNT,
        higher_is_better=False,
        compute=missed_runs,
        description="Checklist runs whose deadline passed in the period without completion.",
        filterable_by=PLACE_FILTERS,
    ),
    Metric(
        key="delivery.failed_critical_items",
        label="Failed critical checks",
        unit=Unit.COUNT,
        higher_is_better=False,
        compute_each=failed_critical_items_each,
        description="Critical checklist items recorded as failed in the period (each opens an incident).",
        filterable_by=PLACE_FILTERS,
    ),
    Metric(
        key="delivery.training_compliance_pct",
        label="Training up to date",
        unit=Unit.PERCENT,
        higher_is_better=True,
        compute_each=training_compliance_pct_each,
        description="Onboarding and refresher requirements not overdue at the end of the period.",
        filterable_by=frozenset({"location_id"}),
    ),
    Metric(
        key="delivery.protocols_overdue_review",
        label="Protocols overdue for review",
        unit=Unit.COUNT,
        higher_is_better=False,
        compute=protocols_overdue_review,
        description="Active protocols whose review date had passed at the period's end.",
        filterable_by=frozenset({"touchpoint_id"}),
    ),
]


def register_all() -> None:
    for metric in METRICS:
        register(metric)
