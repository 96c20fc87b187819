"""Writes with business rules for service design, and the evaluation of goals.

Every change to a goal is one ``GoalChange`` row. A change to the goal's *promise*
(``ServiceGoal.PROMISE_FIELDS``) bumps its version, which is what staff acknowledge.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, models, transaction
from django.db.models import Field
from django.utils import timezone

from design.models import (
    GoalAcknowledgement,
    GoalChange,
    GoalMeasurement,
    GoalStatus,
    PatientNeedProfile,
    ServiceGoal,
)
from servicedesk import metrics
from servicedesk.audit import Action, audit_event, field_label
from servicedesk.metrics import Filters, Metric, Period
from servicedesk.models import User
from servicedesk.security.models import AuditEvent

logger = logging.getLogger(__name__)

# What a manager may set on a goal through goal_create / goal_update, in the goal form's order.
EDITABLE_FIELDS = (
    "title",
    "purpose",
    "pillar",
    "owner",
    "metric_key",
    "metric_params",
    "location",
    "touchpoint",
    "need_profile",
    "period",
    "comparator",
    "target",
    "tolerance",
    "budget_money",
    "budget_staff_hours",
    "review_on",
)


# --- Periods ------------------------------------------------------------------------------


def _quarter_start(moment: datetime) -> datetime:
    local = timezone.localtime(moment)
    month = 3 * ((local.month - 1) // 3) + 1
    return local.replace(month=month, day=1, hour=0, minute=0, second=0, microsecond=0)


def _previous_quarter_start(quarter_start: datetime) -> datetime:
    month, year = quarter_start.month - 3, quarter_start.year
    if month < 1:
        month, year = month + 12, year - 1
    # Rebuild in local time: the quarter may start on the other side of a clock change.
    naive = quarter_start.replace(tzinfo=None, year=year, month=month)
    return timezone.make_aware(naive)


ROLLING_DAYS = 30


def goal_periods(*, period: str, now: datetime) -> tuple[Period, Period]:
    """The goal's current period and the one it is compared with for the trend.

    Rolling 30 days is the last 30 local days up to now, exactly the dashboard's default period
    (``Period.rolling``), compared with the 30 days before. Quarter to date compares with the
    whole of the previous quarter.
    """
    periods = goal_history_periods(period=period, now=now, count=2)
    return periods[0], periods[1]


def goal_history_periods(*, period: str, now: datetime, count: int) -> list[Period]:
    """The current period and the ``count - 1`` before it, most recent first, without overlap."""
    if period != ServiceGoal.Period.QUARTER_TO_DATE:
        return [Period.rolling(ROLLING_DAYS, now=now, back=back) for back in range(count)]
    start = _quarter_start(now)
    periods = [Period(start=start, end=max(now, start + timedelta(microseconds=1)))]
    while len(periods) < count:
        start = _previous_quarter_start(periods[-1].start)
        periods.append(Period(start=start, end=periods[-1].start))
    return periods


# --- Evaluation ---------------------------------------------------------------------------


class Trend(models.TextChoices):
    IMPROVING = "improving", "Improving"
    STEADY = "steady", "Steady"
    WORSENING = "worsening", "Worsening"
    UNKNOWN = "unknown", "No earlier figure"


def _meets(value: float, *, comparator: str, target: float) -> bool:
    return value >= target if comparator == ServiceGoal.Comparator.AT_LEAST else value <= target


def trend_of(*, value: float | None, previous_value: float | None, comparator: str) -> Trend:
    """Better or worse than the previous period, in the goal's direction (≥ wants up, ≤ wants down)."""
    if value is None or previous_value is None:
        return Trend.UNKNOWN
    if value == previous_value:
        return Trend.STEADY
    went_up = value > previous_value
    wants_up = comparator == ServiceGoal.Comparator.AT_LEAST
    return Trend.IMPROVING if went_up == wants_up else Trend.WORSENING


def status_of(
    *,
    value: float | None,
    previous_value: float | None,
    comparator: str,
    target: Decimal | float,
    tolerance: Decimal | float = 0,
) -> GoalStatus:
    """The status of one figure against a goal's target.

    1. No figure: *no data*.
    2. The target is not met: *missed* (a missed promise is never softened to "at risk").
    3. Met, but closer to the target than the tolerance: *at risk*.
    4. Met, but worse than the previous period by so much that the same change again
       would miss the target: *at risk* (trending the wrong way).
    5. Otherwise *met*.
    """
    if value is None:
        return GoalStatus.NO_DATA
    target, tolerance = float(target), float(tolerance)
    if not _meets(value, comparator=comparator, target=target):
        return GoalStatus.MISSED
    margin = value - target if comparator == ServiceGoal.Comparator.AT_LEAST else target - value
    if margin < tolerance:
        return GoalStatus.AT_RISK
    if (
        previous_value is not None
        and trend_of(value=value, previous_value=previous_value, comparator=comparator) == Trend.WORSENING
    ):
        projected = value + (value - previous_value)
        if not _meets(projected, comparator=comparator, target=target):
            return GoalStatus.AT_RISK
    return GoalStatus.MET


@dataclass(frozen=True)
class Evaluation:
    status: GoalStatus
    value: float | None
    previous_value: float | None
    trend: Trend
    period: Period
    previous_period: Period
    metric: Metric | None
    no_data_reason: str = ""  # why there is no figure, in words, when there is none

    @property
    def is_registered(self) -> bool:
        return self.metric is not None


def goal_filters(goal: ServiceGoal) -> Filters:
    params = tuple(sorted((str(k), str(v)) for k, v in (goal.metric_params or {}).items()))
    return Filters(
        location_id=goal.location_id,
        touchpoint_id=goal.touchpoint_id,
        need_profile_id=goal.need_profile_id,
        params=params,
    )


def metric_value(*, key: str, period: Period, filters: Filters) -> float | None:
    """The metric's value, or None: no data, a key nobody registered (yet), or a metric that failed.

    A broken metric in another app must not take the goal pages down; it is logged loudly.
    """
    try:
        return metrics.registry.value(key, period=period, filters=filters)
    except Exception:
        logger.exception("metric %s failed to compute; shown as no data", key)
        return None


@dataclass(frozen=True)
class PeriodResult:
    period: Period
    value: float | None
    status: GoalStatus


def goal_history(
    *, goal: ServiceGoal, now: datetime, count: int = 6
) -> tuple[Evaluation, list[PeriodResult]]:
    """The goal's evaluation now, and its value in each of its last ``count`` periods.

    Each period is judged against today's target, with the period before it for the trend;
    one metric computation per period (the current one is shared with the evaluation).
    """
    periods = goal_history_periods(period=goal.period, now=now, count=count + 1)
    filters = goal_filters(goal)
    values = [metric_value(key=goal.metric_key, period=p, filters=filters) for p in periods]
    rows = [
        PeriodResult(
            period=periods[i],
            value=values[i],
            status=status_of(
                value=values[i],
                previous_value=values[i + 1],
                comparator=goal.comparator,
                target=goal.target,
                tolerance=goal.tolerance,
            ),
        )
        for i in range(count)
    ]
    evaluation = Evaluation(
        status=rows[0].status,
        value=values[0],
        previous_value=values[1],
        trend=trend_of(value=values[0], previous_value=values[1], comparator=goal.comparator),
        period=periods[0],
        previous_period=periods[1],
        metric=metrics.registry.get(goal.metric_key),
        no_data_reason=""
        if values[0] is not None
        else no_data_reason(goal, period=periods[0], filters=filters),
    )
    return evaluation, rows


NOT_MEASURED = (
    "This figure is not measured yet: it appears once the part of Servicedesk measuring it is used."
)


def no_data_reason(goal: ServiceGoal, *, period: Period, filters: Filters) -> str:
    """Why the goal has no figure for ``period`` ("2 of the 5 answers needed"); never raises."""
    metric = metrics.registry.get(goal.metric_key)
    if metric is None:
        return NOT_MEASURED
    try:
        return metric.no_data_reason(period=period, filters=filters)
    except Exception:
        logger.exception("metric %s could not say why it has no data", goal.metric_key)
        return "This figure could not be computed just now."


def goal_evaluate(*, goal: ServiceGoal, now: datetime) -> Evaluation:
    """Compute the goal's value for its current period through the registry, and its status."""
    evaluation, _ = goal_history(goal=goal, now=now, count=1)
    return evaluation


def goal_measure(*, goal: ServiceGoal, now: datetime) -> GoalMeasurement:
    """Record today's evaluation of the goal (one row per goal and day; a rerun updates it)."""
    evaluation = goal_evaluate(goal=goal, now=now)
    measurement, _ = GoalMeasurement.objects.update_or_create(
        goal=goal,
        measured_on=timezone.localdate(now),
        defaults={
            "measured_at": now,
            "goal_version": goal.version,
            "period_start": evaluation.period.start,
            "period_end": evaluation.period.end,
            "value": evaluation.value,
            "previous_value": evaluation.previous_value,
            "comparator": goal.comparator,
            "target": goal.target,
            "status": evaluation.status,
        },
    )
    return measurement


# --- Writes -------------------------------------------------------------------------------


def _display(goal: ServiceGoal, field: str) -> str:
    value = getattr(goal, field)
    if value is None or value == "":
        return "—"
    model_field = goal._meta.get_field(field)
    if isinstance(model_field, Field) and model_field.choices:
        return str(dict(model_field.flatchoices).get(value, value))
    if isinstance(value, dict):
        return ", ".join(f"{k}={v}" for k, v in sorted(value.items())) or "—"
    return str(value)


def _comparable(goal: ServiceGoal, field: str) -> Any:
    model_field = goal._meta.get_field(field)
    if isinstance(model_field, Field) and model_field.is_relation:
        return getattr(goal, model_field.attname)
    value = getattr(goal, field)
    if isinstance(value, Decimal | float | int) and not isinstance(value, bool):
        return Decimal(str(value))
    return value


def _check_fields(fields: Mapping[str, Any]) -> None:
    unknown = set(fields).difference(EDITABLE_FIELDS)
    if unknown:
        raise TypeError(f"Not editable on a goal: {', '.join(sorted(unknown))}")


@transaction.atomic
def goal_create(*, by: User, now: datetime, fields: Mapping[str, Any]) -> ServiceGoal:
    """Write down a new goal (version 1) and measure it at once, so its status shows straight away."""
    _check_fields(fields)
    goal = ServiceGoal(**fields)
    goal.full_clean()
    goal.save()
    _goal_changed(goal, GoalChange.Kind.CREATED, by=by, now=now)
    goal_measure(goal=goal, now=now)
    return goal


# A goal's own history (GoalChange: the versions staff read and acknowledge, shown on the goal)
# and the practice's audit log record each change; this writes both, so neither is forgotten.
AUDIT_ACTIONS: dict[str, tuple[str, dict[str, list[str]]]] = {
    GoalChange.Kind.CREATED: (Action.CREATED, {}),
    GoalChange.Kind.EDITED: (Action.CHANGED, {}),
    GoalChange.Kind.RETIRED: (Action.CHANGED, {"status": ["pursued", "retired"]}),
    GoalChange.Kind.REACTIVATED: (Action.CHANGED, {"status": ["retired", "pursued"]}),
}


def _goal_changed(
    goal: ServiceGoal, kind: str, *, by: User, now: datetime, changed: dict[str, Any] | None = None
) -> None:
    history, event = goal_change_records(goal, kind, by=by, now=now, changed=changed)
    history.save()
    event.save()


def goal_change_records(
    goal: ServiceGoal, kind: str, *, by: User, now: datetime, changed: dict[str, Any] | None = None
) -> tuple[GoalChange, AuditEvent]:
    """The history row and the audit event of one change to a goal, not saved yet: one change
    carried to many goals (design.adoption) writes them in bulk."""
    history = GoalChange(goal=goal, kind=kind, by=by, at=now, version=goal.version, changes=changed or {})
    action, data = AUDIT_ACTIONS[kind]
    data = {**data, **{field_label(goal, name): values for name, values in (changed or {}).items()}}
    if any(name in ServiceGoal.PROMISE_FIELDS for name in changed or {}):  # staff acknowledge it again
        data["version"] = [str(goal.version - 1), str(goal.version)]
    return history, audit_event(goal, action, by, data, label=f"the service goal “{goal.title}”")


@transaction.atomic
def goal_update(
    *,
    goal: ServiceGoal,
    by: User,
    now: datetime,
    fields: Mapping[str, Any],
    read_at: datetime | None = None,
) -> bool:
    """Change a goal. Returns True when its promise changed, i.e. the version went up.

    A new version means everyone has to read and acknowledge the goal again; earlier
    acknowledgements stay as history of who had read which version. ``read_at`` is the
    goal's ``updated_at`` when the manager opened the form: if someone saved it since,
    the change is refused rather than silently overwriting theirs.
    """
    _check_fields(fields)
    locked = ServiceGoal.objects.select_for_update().get(pk=goal.pk)
    if read_at is not None and locked.updated_at != read_at:
        raise ValidationError(
            "Someone else saved this goal while you were editing it, so your changes were not saved. "
            "Open the goal again to see theirs, then make yours."
        )
    before = {f: (_comparable(locked, f), _display(locked, f)) for f in fields}
    for name, value in fields.items():
        setattr(locked, name, value)
    changed = {
        f: [old_display, _display(locked, f)]
        for f, (old, old_display) in before.items()
        if old != _comparable(locked, f)
    }
    if not changed:
        return False
    _check_adoption(locked, changed)
    promise_changed = any(f in ServiceGoal.PROMISE_FIELDS for f in changed)
    if promise_changed:
        locked.version += 1
    locked.full_clean()
    locked.save()
    _goal_changed(locked, GoalChange.Kind.EDITED, by=by, now=now, changed=changed)
    goal_measure(goal=locked, now=now)
    if locked.is_group_goal:
        from design.adoption import site_goals_follow  # adoption builds on these services

        site_goals_follow(group_goal=locked, by=by, now=now, changed=set(changed))
    goal.refresh_from_db()
    return promise_changed


def _check_adoption(goal: ServiceGoal, changed: Mapping[str, Any]) -> None:
    """An adopted goal's definition is the group's; a goal sites adopted stays the group's."""
    if goal.is_adopted and set(changed).difference(ServiceGoal.SITE_FIELDS):
        raise ValidationError(
            "This goal is adopted from the group's goal: only its owner, target and at-risk margin "
            "are the site's to change. Ask one of the group's managers to change the rest."
        )
    if "location" in changed and goal.location_id is not None and goal.site_goals.exists():
        raise ValidationError(
            "Sites have adopted this goal, so it stays the group's: it cannot move to one site."
        )


@transaction.atomic
def goal_retire(*, goal: ServiceGoal, by: User, now: datetime) -> bool:
    """Stop pursuing a goal. Its history, measurements and acknowledgements stay."""
    updated = ServiceGoal.objects.filter(pk=goal.pk, status=ServiceGoal.Status.ACTIVE).update(
        status=ServiceGoal.Status.RETIRED, retired_at=now, updated_at=now
    )
    if updated:  # another manager may have retired it a moment ago
        goal.refresh_from_db()
        _goal_changed(goal, GoalChange.Kind.RETIRED, by=by, now=now)
        if goal.is_group_goal:  # the sites' adopted copies go with it, in a few queries however many
            from design.adoption import site_goals_retire  # adoption builds on these services

            site_goals_retire(group_goal=goal, by=by, now=now)
    return bool(updated)


@transaction.atomic
def goal_reactivate(*, goal: ServiceGoal, by: User, now: datetime) -> bool:
    """Pursue a retired goal again. The review date may need moving: it must not be in the past.

    Copies sites adopted stay retired: each site decides again. A copy of a retired group goal
    cannot come back on its own.
    """
    if goal.is_adopted and not ServiceGoal.objects.active().filter(pk=goal.group_goal_id).exists():
        raise ValidationError(
            "The group's goal this was adopted from is retired: one of the group's managers "
            "reactivates it first."
        )
    updated = ServiceGoal.objects.filter(pk=goal.pk, status=ServiceGoal.Status.RETIRED).update(
        status=ServiceGoal.Status.ACTIVE, retired_at=None, updated_at=now
    )
    if updated:
        goal.refresh_from_db()
        _goal_changed(goal, GoalChange.Kind.REACTIVATED, by=by, now=now)
    return bool(updated)


class StaleVersion(ValidationError):
    """The goal changed between the person reading it and acknowledging it."""


def goal_acknowledge(*, goal: ServiceGoal, user: User, version: int, now: datetime) -> bool:
    """Record that ``user`` read and understood ``version`` of the goal. Returns False if already done.

    Refuses a version that is no longer current: the person read words that have since
    changed, and must read the new ones.
    """
    current = ServiceGoal.objects.filter(pk=goal.pk, status=ServiceGoal.Status.ACTIVE).values_list(
        "version", flat=True
    )
    current_version = current.first()
    if current_version is None:
        raise ValidationError("This goal has been retired; there is nothing to acknowledge.")
    if current_version != version:
        raise StaleVersion("This goal changed while you were reading it. Please read the new version.")
    try:
        with transaction.atomic():
            GoalAcknowledgement.objects.create(goal=goal, user=user, version=version, acknowledged_at=now)
    except IntegrityError:  # a double click, or two tabs: already acknowledged
        return False
    return True


# --- Metric picker and need profiles -------------------------------------------------------------


def parse_params(text: str) -> dict[str, str]:
    """Metric parameters from "name=value" lines, as the goal form takes them."""
    params = {}
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line:
            continue
        name, sep, value = line.partition("=")
        if not sep or not name.strip() or not value.strip():
            raise ValidationError(
                f"Line {number} should look like name=value, e.g. checklist=morning-premises."
            )
        params[name.strip()] = value.strip()
    return params


def _optional_id(value: str | int | None, what: str) -> int | None:
    if value in (None, ""):
        return None
    try:
        return int(value)
    except (TypeError, ValueError):
        raise ValidationError(f"{what} is not valid.") from None


def metric_preview(
    *,
    key: str,
    location_id: str | int | None,
    touchpoint_id: str | int | None,
    need_profile_id: str | int | None,
    period: str,
    params_text: str,
    now: datetime,
) -> dict[str, Any]:
    """What the goal form shows beside the metric picker: label, unit and the value right now.

    Raises ValidationError for ids or parameters that do not parse.
    """
    metric = metrics.registry.get(key)
    if metric is None:
        return {"key": key, "registered": False}
    if period not in ServiceGoal.Period.values:
        period = ServiceGoal.Period.ROLLING_30_DAYS
    filters = Filters(
        location_id=_optional_id(location_id, "The location"),
        touchpoint_id=_optional_id(touchpoint_id, "The touchpoint"),
        need_profile_id=_optional_id(need_profile_id, "The need profile"),
        params=tuple(sorted(parse_params(params_text).items())),
    )
    current, _ = goal_periods(period=period, now=now)
    value = metric_value(key=key, period=current, filters=filters)
    unit = metrics.Unit(metric.unit)
    return {
        "key": metric.key,
        "registered": True,
        "label": metric.label,
        "unit": unit.value,
        "unit_label": str(unit.label),
        "description": metric.description,
        "higher_is_better": metric.higher_is_better,
        "suggested_comparator": ServiceGoal.Comparator.AT_LEAST
        if metric.higher_is_better
        else ServiceGoal.Comparator.AT_MOST,
        "filterable_by": sorted(metric.filterable_by),
        "period_label": str(ServiceGoal.Period(period).label),
        "value": value,  # already rounded by the figures' one rule (Metric.value)
    }


@transaction.atomic
def need_profile_save(*, form: Any, needs: Any, accommodations: Any) -> PatientNeedProfile:
    """Save a profile with its needs and accommodations, all or nothing.

    Takes the validated profile form and its two inline formsets (design.forms).
    """
    profile: PatientNeedProfile = form.save()
    needs.instance = profile
    needs.save()
    accommodations.instance = profile
    accommodations.save()
    return profile
