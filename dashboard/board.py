"""The manager dashboard's figures: one function per section, each a small fixed number of queries.

Every figure is an aggregation in the database. Feedback figures come from the daily
summaries (``dashboard.summaries``), so their cost does not grow with the number of
answers; recovery and delivery headline figures come from the metrics registry, so that the
dashboard and the goals use the same definitions; the feedback half is cached until the next
summary sweep (``feedback_sections``). No function here loops over rows of a
table that grows: the Python loops below walk the groups an aggregate returned (weeks,
touchpoints, categories) or a fixed-size list.

Small numbers: a percentage or score resting on fewer than ``FEEDBACK_SMALL_NUMBER``
responses is "too few to show" (it could identify a patient, and it misleads about staff).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any
from urllib.parse import urlencode

from django.conf import settings
from django.db.models import Count, Exists, F, Max, OuterRef, Q, QuerySet, Subquery, Sum, Window
from django.db.models.functions import TruncWeek
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.functional import cached_property
from django.utils.timesince import timesince
from django.utils.translation import gettext_lazy as _

from dashboard.models import FeedbackDay, FeedbackThemeDay
from dashboard.summaries import FFT_FIELDS, local_midnight
from design import services as design_services
from design.models import GoalMeasurement, GoalStatus, PatientNeedProfile, ServiceGoal
from servicedesk import metrics
from servicedesk.caching import cache_key, cached
from servicedesk.metrics import Filters, Period, Unit
from servicedesk.models import Location, Touchpoint

logger = logging.getLogger(__name__)

DEFAULT_DAYS = 30


def small_number() -> int:
    """Below this many responses a breakdown shows "too few to show" (the feedback pillar's setting)."""
    return getattr(settings, "FEEDBACK_SMALL_NUMBER", 5)


# --- Scope: the period and the filters ----------------------------------------------------------


@dataclass(frozen=True)
class Scope:
    """What the dashboard looks at: the local days ``first_day``…``last_day``, compared with the same
    number of days just before, optionally narrowed to one location, touchpoint or need profile."""

    now: datetime
    first_day: date
    last_day: date
    location: Location | None = None
    touchpoint: Touchpoint | None = None
    need_profile: PatientNeedProfile | None = None

    def __post_init__(self) -> None:
        if self.last_day < self.first_day:
            raise ValueError("A dashboard period must end on or after its first day.")

    @classmethod
    def last_days(
        cls, days: int = DEFAULT_DAYS, *, now: datetime, until: date | None = None, **filters: object
    ) -> Scope:
        last_day = until or timezone.localdate(now)
        return cls(now=now, first_day=last_day - timedelta(days=days - 1), last_day=last_day, **filters)

    @property
    def days(self) -> int:
        return (self.last_day - self.first_day).days + 1

    @property
    def previous_first_day(self) -> date:
        return self.first_day - timedelta(days=self.days)

    @property
    def previous_last_day(self) -> date:
        return self.first_day - timedelta(days=1)

    @property
    def period(self) -> Period:
        """The period as a half-open time range; it ends now when the last day is today."""
        return Period(start=local_midnight(self.first_day), end=min(self.now, self.end_of(self.last_day)))

    @property
    def previous(self) -> Period:
        return Period(start=local_midnight(self.previous_first_day), end=local_midnight(self.first_day))

    @staticmethod
    def end_of(day: date) -> datetime:
        return local_midnight(day + timedelta(days=1))

    @property
    def is_filtered(self) -> bool:
        return any((self.location, self.touchpoint, self.need_profile))

    @property
    def filters(self) -> Filters:
        return Filters(
            location_id=self.location.pk if self.location else None,
            touchpoint_id=self.touchpoint.pk if self.touchpoint else None,
            need_profile_id=self.need_profile.pk if self.need_profile else None,
        )

    def at_place(
        self, *, location: str = "location", touchpoint: str = "touchpoint", need_profile: str = ""
    ) -> dict[str, int]:
        """Lookups narrowing a queryset to the filtered location, touchpoint and (where the model
        knows it, by the path given) patient group: ``Filters.at_place`` for this scope."""
        return self.filters.at_place(location=location, touchpoint=touchpoint, need_profile=need_profile)

    def place_query(self) -> dict[str, int]:
        """The filtered location and touchpoint as another pillar's list takes them in its query string."""
        return {name.removesuffix("_id"): pk for name, pk in self.at_place().items()}

    def query(self, **extra: object) -> dict[str, object]:
        """The dashboard's own query string for this scope (links that keep the filter)."""
        params: dict[str, object] = {"days": self.days}
        if self.last_day != timezone.localdate(self.now):
            params["until"] = self.last_day.isoformat()
        for name in ("location", "touchpoint", "need_profile"):
            if obj := getattr(self, name):
                params[name] = obj.pk
        return {**params, **extra}


# --- Figures -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Figure:
    """One number on the dashboard, with the same number for the previous period."""

    label: str
    value: float | None
    previous: float | None = None
    unit: str = Unit.COUNT
    higher_is_better: bool = True
    too_few: bool = False  # fewer responses than the small-number threshold: not shown
    note: str = ""
    url: str = ""  # the list behind the figure

    @property
    def change(self) -> float | None:
        if self.value is None or self.previous is None or self.too_few:
            return None
        return self.value - self.previous

    @property
    def direction(self) -> str:
        """better, worse or same (in the figure's own direction), or "" when there is nothing to compare."""
        change = self.change
        if change is None:
            return ""
        if abs(change) < 1e-9:
            return "same"
        return "better" if (change > 0) == self.higher_is_better else "worse"


def _pct(part: int | None, whole: int | None) -> float | None:
    return 100.0 * (part or 0) / whole if whole else None


def _registry_figure(
    key: str, scope: Scope, *, label: str | None = None, url: str = "", **params: str
) -> Figure:
    """A registered metric for the period and the one before, honouring only the filters it supports.

    A metric that is not registered (its app not installed yet) or that fails shows as no data:
    one pillar's bug must not take the managers' landing page down.
    """
    metric = metrics.registry.get(key)
    if metric is None:
        return Figure(label=str(label or key), value=None, note=str(_("Not measured yet.")), url=url)
    filters = scope.filters
    unsupported = [
        name for name in ("location_id", "touchpoint_id", "need_profile_id")
        if getattr(filters, name) is not None and name not in metric.filterable_by
    ]  # fmt: skip
    filters = Filters(
        **{name: getattr(filters, name) for name in metric.filterable_by if hasattr(filters, name)},
    ).with_params(**params)
    values = []
    for period in (scope.period, scope.previous):
        try:
            values.append(metric.value(period=period, filters=filters))
        except Exception:  # logged loudly; shown as no data
            logger.exception("metric %s failed on the dashboard", key)
            values.append(None)
    note = ""
    if unsupported:
        names = {
            "location_id": _("location"),
            "touchpoint_id": _("touchpoint"),
            "need_profile_id": _("need profile"),
        }
        note = str(_("Not split by %(what)s.")) % {"what": ", ".join(str(names[n]) for n in unsupported)}
    return Figure(
        label=str(label or metric.label),
        value=values[0],
        previous=values[1],
        unit=metric.unit,
        higher_is_better=metric.higher_is_better,
        note=note,
        url=url,
    )


# --- Goal attainment -----------------------------------------------------------------------------

# The latest GoalMeasurement's fields the dashboard reads beside each goal.
MEASUREMENT_FIELDS = (
    "status",
    "value",
    "previous_value",
    "measured_at",
    "goal_version",
    "target",
    "comparator",
)
STATUS_ORDER = {GoalStatus.MISSED: 0, GoalStatus.AT_RISK: 1, GoalStatus.NO_DATA: 2, GoalStatus.MET: 3}


@dataclass(frozen=True)
class GoalRow:
    goal: ServiceGoal
    status: GoalStatus
    value: float | None
    previous_value: float | None
    trend: str
    measured_at: datetime | None  # None: evaluated just now

    @property
    def metric(self) -> metrics.Metric | None:
        return metrics.registry.get(self.goal.metric_key)

    @property
    def unit(self) -> str | None:
        return self.metric.unit if self.metric else None

    @property
    def metric_label(self) -> str:
        return (
            self.metric.label
            if self.metric
            else str(_("%(key)s (not measured yet)") % {"key": self.goal.metric_key})
        )

    @property
    def status_label(self) -> str:
        return str(GoalStatus(self.status).label)

    @property
    def trend_label(self) -> str:
        return str(design_services.Trend(self.trend).label)


@dataclass(frozen=True)
class GoalAttainment:
    rows: list[GoalRow]

    @cached_property
    def counts(self) -> dict[str, int]:
        counts = dict.fromkeys(STATUS_ORDER, 0)
        for row in self.rows:
            counts[row.status] += 1
        return counts

    def with_status(self, status: str) -> list[GoalRow]:
        return [row for row in self.rows if row.status == status]


def _goals_in_scope(scope: Scope) -> QuerySet[ServiceGoal]:
    """Active goals that speak about the filtered place or group, or about the whole practice."""
    goals = ServiceGoal.objects.active()
    if scope.location:
        goals = goals.filter(Q(location=scope.location) | Q(location__isnull=True))
    if scope.touchpoint:
        goals = goals.filter(Q(touchpoint=scope.touchpoint) | Q(touchpoint__isnull=True))
    if scope.need_profile:
        for_profile = ServiceGoal.objects.filter(
            Q(need_profile=scope.need_profile) | Q(need_profiles=scope.need_profile)
        ).values("pk")
        goals = goals.filter(Q(pk__in=for_profile) | Q(need_profile__isnull=True, need_profiles__isnull=True))
    return goals


def goal_attainment(scope: Scope) -> GoalAttainment:
    """Every active goal in scope with its value against target, trend and status (met first last).

    A goal is judged over its own period (rolling 30 days or quarter to date), not the
    dashboard's. The design pillar's hourly sweep records each goal's evaluation
    (``GoalMeasurement``); the dashboard reads the latest one in the same query as the goals.
    A goal changed since, or not measured for ``DASHBOARD_GOAL_MEASUREMENT_MAX_AGE`` minutes,
    is evaluated now with ``design.services.goal_evaluate``.
    """
    latest = GoalMeasurement.objects.filter(goal=OuterRef("pk")).order_by("-measured_at")
    goals = (
        _goals_in_scope(scope)
        .select_related("location", "touchpoint", "need_profile")
        .annotate(**{f"m_{name}": Subquery(latest.values(name)[:1]) for name in MEASUREMENT_FIELDS})
        .distinct()
        .order_by("title", "pk")
    )
    fresh_from = scope.now - timedelta(minutes=settings.DASHBOARD_GOAL_MEASUREMENT_MAX_AGE)
    rows = []
    for goal in goals:
        # A measurement of "no data" is not trusted: data may have arrived since (a new survey,
        # the first checklist). Evaluating such a goal is cheap, precisely because it has no data.
        fresh = (
            goal.m_status not in (None, GoalStatus.NO_DATA)
            and goal.m_measured_at is not None
            and goal.m_measured_at >= fresh_from
            and goal.m_goal_version == goal.version
            and goal.m_target == goal.target
            and goal.m_comparator == goal.comparator
        )
        if fresh:
            row = GoalRow(
                goal=goal,
                status=GoalStatus(goal.m_status),
                value=goal.m_value,
                previous_value=goal.m_previous_value,
                trend=design_services.trend_of(
                    value=goal.m_value, previous_value=goal.m_previous_value, comparator=goal.comparator
                ),
                measured_at=goal.m_measured_at,
            )
        else:
            evaluation = design_services.goal_evaluate(goal=goal, now=scope.now)
            row = GoalRow(
                goal=goal,
                status=evaluation.status,
                value=evaluation.value,
                previous_value=evaluation.previous_value,
                trend=evaluation.trend,
                measured_at=None,
            )
        rows.append(row)
    rows.sort(key=lambda r: (STATUS_ORDER[r.status], r.goal.title.lower()))
    return GoalAttainment(rows=rows)


# --- Feedback ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class FeedbackCounts:
    """Summed daily counts for some slice of feedback, with the figures derived from them."""

    responses: int = 0
    negative: int = 0
    fft_very_good: int = 0
    fft_good: int = 0
    fft_neither: int = 0
    fft_poor: int = 0
    fft_very_poor: int = 0
    fft_dont_know: int = 0
    nps_promoters: int = 0
    nps_passives: int = 0
    nps_detractors: int = 0
    invitations_delivered: int = 0
    invitations_answered: int = 0

    @classmethod
    def from_row(cls, row: dict, suffix: str = "") -> FeedbackCounts:
        return cls(**{name: row.get(f"{name}{suffix}") or 0 for name in cls.__dataclass_fields__})

    @property
    def fft_total(self) -> int:
        return sum(getattr(self, name) for name in FFT_FIELDS)

    @property
    def fft_counts(self) -> list[tuple[str, int]]:
        """The six standard FFT categories, best first, as (label, count)."""
        from feedback.models import Answer

        labels = {choice: str(label) for choice, label, _value in Answer.FFT_CHOICES}
        return [(labels[choice], getattr(self, name)) for name, choice in FFT_FIELDS.items()]

    @property
    def nps_total(self) -> int:
        return self.nps_promoters + self.nps_passives + self.nps_detractors

    @property
    def too_few(self) -> bool:
        return self.responses < small_number()

    @property
    def fft_positive_pct(self) -> float | None:
        if self.fft_total < small_number():
            return None
        return _pct(self.fft_very_good + self.fft_good, self.fft_total)

    @property
    def fft_negative_pct(self) -> float | None:
        if self.fft_total < small_number():
            return None
        return _pct(self.fft_poor + self.fft_very_poor, self.fft_total)

    @property
    def nps(self) -> float | None:
        if self.nps_total < small_number():
            return None
        return 100.0 * (self.nps_promoters - self.nps_detractors) / self.nps_total

    @property
    def response_rate(self) -> float | None:
        if self.invitations_delivered < small_number():
            return None
        return _pct(self.invitations_answered, self.invitations_delivered)


def _feedback_days(scope: Scope, model: type = FeedbackDay) -> QuerySet:
    """Summary rows from the first day of the previous period to the last day, narrowed by the filters."""
    return model.objects.filter(
        day__gte=scope.previous_first_day,
        day__lte=scope.last_day,
        **scope.at_place(need_profile="need_profile"),
    )


def summed(suffix: str = "", condition: Q | None = None) -> dict[str, Sum]:
    return {f"{name}{suffix}": Sum(name, filter=condition) for name in FeedbackCounts.__dataclass_fields__}


@dataclass(frozen=True)
class FeedbackSection:
    current: FeedbackCounts
    previous: FeedbackCounts
    as_of: datetime | None

    def _figure(self, label: str, attr: str, unit: str, *, higher_is_better: bool = True) -> Figure:
        value, previous = getattr(self.current, attr), getattr(self.previous, attr)
        too_few = attr != "responses" and value is None and self.current.responses > 0
        return Figure(
            label=label,
            value=value,
            previous=previous,
            unit=unit,
            higher_is_better=higher_is_better,
            too_few=too_few,
        )

    @property
    def figures(self) -> list[Figure]:
        return [
            self._figure(str(_("Responses")), "responses", Unit.COUNT),
            self._figure(str(_("Response rate")), "response_rate", Unit.PERCENT),
            self._figure(str(_("FFT positive")), "fft_positive_pct", Unit.PERCENT),
            self._figure(str(_("Net Promoter Score")), "nps", Unit.SCORE),
        ]

    @property
    def has_data(self) -> bool:
        return bool(self.current.responses or self.previous.responses or self.current.invitations_delivered)


def feedback_summary(scope: Scope) -> FeedbackSection:
    """Responses, response rate, FFT % positive and NPS, this period and the one before: one query."""
    now_q, before_q = Q(day__gte=scope.first_day), Q(day__lt=scope.first_day)
    row = _feedback_days(scope).aggregate(
        **summed("_now", now_q), **summed("_before", before_q), as_of=Max("refreshed_at")
    )
    return FeedbackSection(
        current=FeedbackCounts.from_row(row, "_now"),
        previous=FeedbackCounts.from_row(row, "_before"),
        as_of=row["as_of"],
    )


@dataclass(frozen=True)
class TrendPoint:
    week_of: date
    counts: FeedbackCounts


def feedback_trend(scope: Scope) -> list[TrendPoint]:
    """Week by week (Mondays), at least twelve weeks back from the period's last day: one query."""
    weeks = max(12, -(-scope.days // 7))
    last_monday = scope.last_day - timedelta(days=scope.last_day.weekday())
    first_monday = last_monday - timedelta(weeks=weeks - 1)
    rows = (
        FeedbackDay.objects.filter(day__gte=first_monday, day__lte=scope.last_day)
        .filter(**scope.at_place(need_profile="need_profile"))
        .annotate(week=TruncWeek("day"))
        .values("week")
        .annotate(**summed())
        .order_by("week")
    )
    by_week = {as_date(row["week"]): FeedbackCounts.from_row(row) for row in rows}
    mondays = [first_monday + timedelta(weeks=i) for i in range(weeks)]
    return [TrendPoint(week_of=monday, counts=by_week.get(monday, FeedbackCounts())) for monday in mondays]


def as_date(value: date | datetime) -> date:
    return value.date() if isinstance(value, datetime) else value


@dataclass(frozen=True)
class Breakdown:
    """Satisfaction for one touchpoint or need profile in the period."""

    pk: int | None
    name: str
    counts: FeedbackCounts
    url: str = ""

    @property
    def too_few(self) -> bool:
        return self.counts.too_few


def _breakdown(scope: Scope, by: str, url: Callable[[int], str]) -> list[Breakdown]:
    rows = (
        _feedback_days(scope)
        .filter(day__gte=scope.first_day, **{f"{by}__isnull": False})
        .values(f"{by}_id", name=F(f"{by}__name"))
        .annotate(**summed())
        .order_by()
    )
    items = [
        Breakdown(pk=pk, name=row["name"], counts=FeedbackCounts.from_row(row), url=url(pk))
        for row in rows
        if (pk := row[f"{by}_id"]) is not None
    ]

    def least_satisfied_first(item: Breakdown) -> tuple:
        # Too few responses to judge, or no FFT answers: last, by name.
        positive = None if item.too_few else item.counts.fft_positive_pct
        return (positive is None, positive or 0, item.name.lower())

    return sorted(items, key=least_satisfied_first)


def satisfaction_by_touchpoint(scope: Scope) -> list[Breakdown]:
    """FFT and NPS per touchpoint this period, least satisfied first; each links to its responses."""
    return _breakdown(scope, "touchpoint", lambda pk: responses_url(scope, touchpoint=pk))


def satisfaction_by_need_profile(scope: Scope) -> list[Breakdown]:
    """FFT and NPS per patient group this period, least satisfied first; each opens the dashboard for it."""
    return _breakdown(
        scope, "need_profile", lambda pk: reverse("dashboard") + "?" + urlencode(scope.query(need_profile=pk))
    )


def responses_url(scope: Scope, **extra: object) -> str:
    """The feedback pillar's response list for this period and place (it filters by place, not group)."""
    query = {"date_from": scope.first_day.isoformat(), "date_to": scope.last_day.isoformat()}
    return _url("feedback:response_list", query={**query, **scope.place_query(), **extra})


@dataclass
class ThemeRow:
    pk: int
    name: str
    negative_mentions: int
    examples: list[str] = field(default_factory=list)
    url: str = ""

    @property
    def too_few(self) -> bool:
        return self.negative_mentions < small_number()


# Example comments come from this many of the period's latest negative responses.
EXAMPLES_FROM_LATEST = 200


def negative_themes(scope: Scope, *, limit: int = 5, examples: int = 2) -> list[ThemeRow]:
    """The themes most mentioned in negative responses this period, with recent example comments.

    Three queries: the theme counts from the summary; the latest ``EXAMPLES_FROM_LATEST``
    negative responses of the period (read backwards along the negative-response index, so
    the cost does not grow with the period's size); their comments for the themes shown. Themes with too few
    mentions show no count and no examples.
    """
    from feedback.models import Answer, Response

    counts = (
        _feedback_days(scope, FeedbackThemeDay)
        .filter(day__gte=scope.first_day)
        .values("theme_id", name=F("theme__name"))
        .annotate(n=Sum("negative_mentions"))
        .filter(n__gt=0)
        .order_by("-n", "name")[:limit]
    )
    themes = [
        ThemeRow(
            pk=row["theme_id"],
            name=row["name"],
            negative_mentions=row["n"],
            url=responses_url(scope, theme=row["theme_id"], negative="on"),
        )
        for row in counts
    ]
    shown = {theme.pk: theme for theme in themes if not theme.too_few}
    if not shown or examples < 1:
        return themes
    latest_negative = list(
        Response.objects.negative()
        .in_period(scope.period.start, scope.period.end)
        .exclude(channel=Response.Channel.STAFF)
        .filter(**scope.at_place(need_profile="need_profile"))
        .order_by("-submitted_at", "-pk")
        .values_list("pk", flat=True)[:EXAMPLES_FROM_LATEST]
    )
    comment = (
        Answer.objects.filter(response=OuterRef("response_id"), question__kind="text")
        .exclude(text="")
        .order_by(F("sentiment").asc(nulls_last=True), "pk")
        .values("text")[:1]
    )
    links = (
        Response.themes.through.objects.filter(theme_id__in=shown, response_id__in=latest_negative)
        .annotate(comment=Subquery(comment))
        .filter(comment__isnull=False)
        .order_by("-response__submitted_at", "-response_id")
        .values_list("theme_id", "comment")
    )
    for theme_id, text in links:  # at most EXAMPLES_FROM_LATEST x themes rows, whatever the data size
        theme = shown[theme_id]
        if text not in theme.examples and len(theme.examples) < examples:
            theme.examples.append(text)
    return themes


# --- Recovery ------------------------------------------------------------------------------------

RECOVERY_FIGURES = (
    # (metric key, what the tile opens: the incident list's filter)
    ("recovery.open_incidents", {}),
    ("recovery.overdue_incidents", {"overdue": "on"}),
    ("recovery.median_hours_to_first_response", {"status": "all"}),
    ("recovery.median_hours_to_resolve", {"status": "all"}),
    ("recovery.reopen_rate", {"status": "all"}),
    ("recovery.recurrence_rate", {"status": "all"}),
)


def incidents_url(scope: Scope, **query: object) -> str:
    """The recovery pillar's incident list, narrowed to the dashboard's place."""
    query = {**query, **scope.place_query()}
    return _url("recovery:incident_list", query=query or None)


def recovery_figures(scope: Scope) -> list[Figure]:
    """Open and overdue incidents, times to respond and resolve, reopen and recurrence (the registry's)."""
    return [
        _registry_figure(key, scope, url=incidents_url(scope, **query)) for key, query in RECOVERY_FIGURES
    ]


@dataclass(frozen=True)
class CategoryRow:
    category: str
    label: str
    current: int
    previous: int
    url: str = ""


def incidents_by_category(scope: Scope) -> list[CategoryRow]:
    """Incidents logged per category, this period and the one before (one grouped query), most first."""
    from recovery.models import Category, Incident

    incidents = Incident.objects.filter(
        created_at__gte=scope.previous.start, created_at__lt=scope.period.end, **scope.at_place()
    )
    rows = (
        incidents.values("category")
        .annotate(
            current=Count("pk", filter=Q(created_at__gte=scope.period.start)),
            previous=Count("pk", filter=Q(created_at__lt=scope.period.start)),
        )
        .order_by()
    )
    labels = dict(Category.choices)
    items = [
        CategoryRow(
            category=row["category"],
            label=str(labels.get(row["category"], row["category"])),
            current=row["current"],
            previous=row["previous"],
            url=incidents_url(scope, status="all", category=row["category"]),
        )
        for row in rows
    ]
    return sorted(items, key=lambda row: (-row.current, -row.previous, row.label))


def category_chart(rows: list[CategoryRow]) -> dict:
    return {
        "labels": [row.label for row in rows],
        "horizontal": True,
        "datasets": [
            {"label": str(_("This period")), "data": [row.current for row in rows]},
            {"label": str(_("Period before")), "data": [row.previous for row in rows]},
        ],
    }


# --- Delivery ------------------------------------------------------------------------------------


def _completion(completed: int, missed: int) -> float | None:
    closed = completed + missed
    return None if closed == 0 else 100.0 * completed / closed


def delivery_figures(scope: Scope) -> list[Figure]:
    """Checklist completion overall and by dimension, missed runs, failed critical checks, training.

    Completion by dimension for both periods is one grouped query over the runs due in them,
    with the delivery pillar's definition (``delivery.checklist_completion_pct``: completed ÷
    completed + missed over ``runs_due``, periodic runs only; runs still open do not count yet).
    A test keeps the two in step. The other figures come from the registry.
    """
    from delivery.metrics import runs_due
    from delivery.models import ChecklistRun, Dimension

    # Delivery's own selection (periodic runs due in the window, at this place), over both periods.
    runs = runs_due(Period(start=scope.previous.start, end=scope.period.end), scope.filters)
    now_q, before_q = Q(due_at__gte=scope.period.start), Q(due_at__lt=scope.period.start)
    completed, missed = Q(status=ChecklistRun.Status.COMPLETED), Q(status=ChecklistRun.Status.MISSED)
    rows = {
        row["template__dimension"]: row
        for row in runs.values("template__dimension")
        .annotate(
            completed_now=Count("pk", filter=now_q & completed),
            missed_now=Count("pk", filter=now_q & missed),
            completed_before=Count("pk", filter=before_q & completed),
            missed_before=Count("pk", filter=before_q & missed),
        )
        .order_by()
    }

    def totals(dimensions: list[str], suffix: str) -> tuple[int, int]:
        return (
            sum(rows[d][f"completed_{suffix}"] for d in dimensions if d in rows),
            sum(rows[d][f"missed_{suffix}"] for d in dimensions if d in rows),
        )

    url = _url("delivery:overview")
    figures = []
    for label, dimensions in [
        (str(_("Checklists completed on time")), Dimension.values),
        *[
            (str(_("%(dimension)s checklists completed")) % {"dimension": lbl}, [v])
            for v, lbl in Dimension.choices
        ],
    ]:
        figures.append(
            Figure(
                label=label,
                value=_completion(*totals(dimensions, "now")),
                previous=_completion(*totals(dimensions, "before")),
                unit=Unit.PERCENT,
                url=url,
            )
        )
    figures.append(
        Figure(
            label=str(_("Missed checklists")),
            value=totals(Dimension.values, "now")[1],
            previous=totals(Dimension.values, "before")[1],
            higher_is_better=False,
            url=url,
        )
    )
    figures += [
        _registry_figure("delivery.failed_critical_items", scope, url=url),
        _registry_figure("delivery.training_compliance_pct", scope, url=_url("delivery:training")),
    ]
    return figures


# --- Needs attention today ----------------------------------------------------------------------


@dataclass(frozen=True)
class AttentionItem:
    label: str
    detail: str = ""
    url: str = ""
    is_critical: bool = False


# Attention lists over tables that grow (feedback) count up to this many, then say "100+".
COUNT_UP_TO = 100


@dataclass(frozen=True)
class AttentionList:
    key: str
    title: str
    total: int
    items: list[AttentionItem]
    url: str = ""

    @property
    def more(self) -> int:
        return max(0, self.total - len(self.items))

    @property
    def total_label(self) -> str:
        return f"{COUNT_UP_TO}+" if self.total >= COUNT_UP_TO else str(self.total)


def _attention_list(
    queryset: QuerySet, item: Callable[[Any], AttentionItem], *, key: str, title: str, url: str, limit: int
) -> AttentionList:
    """The first ``limit`` rows as items, and the total, in one query (a window count rides on each row)."""
    rows = list(queryset.annotate(total_rows=Window(Count("pk")))[:limit])
    total = rows[0].total_rows if rows else 0
    return AttentionList(key=key, title=title, total=total, items=[item(row) for row in rows], url=url)


def _when(moment: datetime) -> str:
    return timezone.localtime(moment).strftime("%a %d %b %H:%M")


def attention_missed_checks(scope: Scope, *, limit: int = 8) -> AttentionList:
    """Checklist runs missed in the last ``DASHBOARD_ATTENTION_DAYS``, those with critical items first."""
    from delivery.models import ChecklistItem, ChecklistRun

    since = scope.now - timedelta(days=settings.DASHBOARD_ATTENTION_DAYS)
    critical = ChecklistItem.objects.filter(template=OuterRef("template"), is_critical=True, is_active=True)
    runs = (
        ChecklistRun.objects.filter(
            status=ChecklistRun.Status.MISSED,
            due_at__gte=since,
            due_at__lt=scope.now,
            subject__isnull=True,
            **scope.at_place(touchpoint="template__touchpoint"),
        )
        .select_related("template", "location")
        .annotate(has_critical=Exists(critical))
        .order_by("-has_critical", "-due_at", "pk")
    )
    return _attention_list(
        runs,
        lambda run: AttentionItem(
            label=str(run.template),
            detail=_("due %(when)s%(where)s")
            % {"when": _when(run.due_at), "where": f" · {run.location}" if run.location else ""},
            url=_url("delivery:run_detail", run.pk),
            is_critical=run.has_critical,
        ),
        key="missed_checks",
        title=str(_("Missed checks")),
        url=_url("delivery:overview"),
        limit=limit,
    )


def attention_protocols(scope: Scope, *, limit: int = 8) -> AttentionList:
    """Protocols past their review date (a process nobody has checked is still right)."""
    from delivery.models import Protocol

    protocols = Protocol.objects.overdue_review(timezone.localdate(scope.now)).filter(
        **scope.at_place(location="")  # a protocol belongs to a touchpoint, not a location
    )
    return _attention_list(
        protocols.order_by("review_by", "pk"),
        lambda protocol: AttentionItem(
            label=protocol.title,
            detail=_("review was due %(date)s") % {"date": protocol.review_by.strftime("%d %b %Y")},
            url=_url("delivery:protocol_detail", protocol.pk),
        ),
        key="protocol_reviews",
        title=str(_("Protocol reviews overdue")),
        url=_url("delivery:protocol_list"),
        limit=limit,
    )


def _ago(when: datetime, now: datetime) -> str:
    """How long ago, for people: "just now" in the first minute (timesince says "0 minutes")."""
    if now - when < timedelta(minutes=1):
        return str(_("just now"))
    return str(_("%(time)s ago") % {"time": timesince(when, now)})


def _incident_attention(
    scope: Scope, incidents: QuerySet, *, detail: Callable[[Any], str], **listing: Any
) -> AttentionList:
    """An attention list of incidents at the dashboard's place, in the queryset's order."""
    return _attention_list(
        incidents.filter(**scope.at_place()),
        lambda incident: AttentionItem(
            label=f"{incident.reference} {incident.title}",
            detail=detail(incident),
            url=_url("recovery:incident_detail", incident.reference),
            is_critical=incident.severity == "critical",
        ),
        **listing,
    )


def attention_overdue_incidents(scope: Scope, *, limit: int = 8) -> AttentionList:
    """Incidents past their respond-by or resolve-by time right now, the longest overdue first."""
    from recovery.models import Incident

    return _incident_attention(
        scope,
        Incident.objects.overdue(scope.now).with_running_deadline().order_by("deadline", "pk"),
        key="overdue_incidents",
        title=str(_("Overdue incidents")),
        url=incidents_url(scope, overdue="on", sort="due"),
        detail=lambda incident: (
            _("%(severity)s · overdue by %(late)s")
            % {"severity": incident.get_severity_display(), "late": timesince(incident.deadline, scope.now)}
            + ("" if incident.assignee_id else str(_(" · nobody owns it")))
        ),
        limit=limit,
    )


def attention_unassigned_incidents(scope: Scope, *, limit: int = 8) -> AttentionList:
    """Open incidents nobody owns yet, the one that must be answered soonest first (overdue ones are
    in the overdue list already, marked as having no owner)."""
    from recovery.models import Incident

    unowned = Incident.objects.open().filter(assignee__isnull=True)
    return _incident_attention(
        scope,
        unowned.exclude(pk__in=Incident.objects.overdue(scope.now).values("pk")).order_by("respond_by", "pk"),
        key="unassigned_incidents",
        title=str(_("Incidents nobody owns yet")),
        url=incidents_url(scope, unassigned="on", sort="severity"),
        detail=lambda incident: (
            _("%(severity)s · logged %(when)s")
            % {"severity": incident.get_severity_display(), "when": _ago(incident.created_at, scope.now)}
        ),
        limit=limit,
    )


def _failed_check_item(result: Any) -> AttentionItem:
    """A failed critical item, leading to the incident it opened (or its run, if none was opened)."""
    incident = getattr(result, "recovery_incident", None)
    run = result.run
    detail = [str(run.template), _when(result.recorded_at)]
    detail += [str(run.location)] if run.location else []
    detail += [incident.reference] if incident else []
    return AttentionItem(
        label=result.item.text,
        detail=" · ".join(detail),
        url=(
            _url("recovery:incident_detail", incident.reference)
            if incident
            else _url("delivery:run_detail", result.run_id)
        ),
        is_critical=True,
    )


def attention_failed_checks(scope: Scope, *, limit: int = 8) -> AttentionList:
    """Critical checklist items that failed in the last ``DASHBOARD_ATTENTION_DAYS``, newest first,
    each with the incident it opened."""
    from delivery.models import ChecklistResult

    since = scope.now - timedelta(days=settings.DASHBOARD_ATTENTION_DAYS)
    failures = (
        ChecklistResult.objects.filter(
            outcome=ChecklistResult.Outcome.FAIL,
            item__is_critical=True,
            recorded_at__gte=since,
            **scope.at_place(location="run__location", touchpoint="run__template__touchpoint"),
        )
        .select_related("item", "run__template", "run__location", "recovery_incident")
        .order_by("-recorded_at", "-pk")
    )
    return _attention_list(
        failures,
        _failed_check_item,
        key="failed_checks",
        title=str(_("Failed critical checks")),
        url=_url("delivery:overview"),
        limit=limit,
    )


def attention_unanswered_feedback(scope: Scope, *, limit: int = 5) -> AttentionList:
    """Negative patient feedback of the last few days that no incident is putting right."""
    from feedback.models import Response
    from recovery.models import Incident

    since = scope.now - timedelta(days=settings.DASHBOARD_ATTENTION_DAYS)
    # NOT EXISTS, not an outer join: the planner then walks the latest-negative index backwards
    # and stops after a few rows, instead of sorting the whole week's negative feedback.
    put_right = Incident.objects.filter(source_response=OuterRef("pk"))
    responses = (
        Response.objects.negative()
        .in_period(since, scope.now)
        .exclude(channel=Response.Channel.STAFF)
        .filter(~Exists(put_right), **scope.at_place(need_profile="need_profile"))
        .select_related("survey", "touchpoint")
        .order_by("-submitted_at", "-pk")
    )
    # Two small queries instead of a window count: the first rows, and a count that stops at
    # COUNT_UP_TO (shown as "100+"), so a busy week of feedback costs no more than a quiet one.
    rows = list(responses[:limit])
    total = responses[:COUNT_UP_TO].count() if len(rows) == limit else len(rows)
    items = [
        AttentionItem(
            label=str(response.touchpoint or response.survey),
            detail=_when(response.submitted_at),
            url=_url("feedback:response_detail", response.pk),
        )
        for response in rows
    ]
    return AttentionList(
        key="unanswered_feedback",
        title=str(_("Negative feedback with no incident")),
        total=total,
        items=items,
        url=responses_url(
            Scope.last_days(settings.DASHBOARD_ATTENTION_DAYS, now=scope.now, location=scope.location,
                            touchpoint=scope.touchpoint),
            negative="on",
        ),
    )  # fmt: skip


def attention_drills(scope: Scope, *, limit: int = 5) -> AttentionList:
    """Continuity plans whose drill is overdue: a plan nobody rehearsed may not work on the day."""
    from recovery.models import RecoveryPlan

    plans = RecoveryPlan.objects.drill_overdue(timezone.localdate(scope.now)).order_by("next_drill_on", "pk")
    return _attention_list(
        plans,
        lambda plan: AttentionItem(
            label=plan.title,
            detail=_("drill was due %(date)s") % {"date": plan.next_drill_on.strftime("%d %b %Y")},
            url=_url("recovery:plan_detail", plan.pk),
        ),
        key="overdue_drills",
        title=str(_("Drills overdue")),
        url=_url("recovery:plan_list"),
        limit=limit,
    )


def attention(scope: Scope) -> list[AttentionList]:
    """What needs a manager today, whatever period the dashboard shows: a few queries, one per list."""
    return [
        attention_overdue_incidents(scope),
        attention_unassigned_incidents(scope),
        attention_failed_checks(scope),
        attention_missed_checks(scope),
        attention_unanswered_feedback(scope),
        attention_drills(scope),
        attention_protocols(scope),
    ]


def _url(name: str, *args: object, query: dict | None = None) -> str:
    """The URL of a pillar's page, with the dashboard's filter as its query string."""
    url = reverse(name, args=args)
    return f"{url}?{urlencode(query)}" if query else url


# --- The page ------------------------------------------------------------------------------------


def _chart_value(value: float | None) -> float | None:
    return None if value is None else round(value, 1)


def trend_chart(trend: list[TrendPoint]) -> dict:
    """The weekly trend as Chart.js wants it (too-few weeks are gaps, not zeros)."""
    return {
        "labels": [point.week_of.strftime("%d %b") for point in trend],
        "responses": [point.counts.responses for point in trend],
        "fft_positive": [_chart_value(point.counts.fft_positive_pct) for point in trend],
        "nps": [_chart_value(point.counts.nps) for point in trend],
    }


# The feedback sections change when the summary sweep rewrites a day (every few minutes), so
# they are cached until then; this bounds what the version cannot see (an erased day, a renamed
# touchpoint, the example comments, which come from the latest responses).
FEEDBACK_CACHE_SECONDS = 300


def summaries_version() -> int | None:
    """Changes whenever the sweep rewrites a day, since rewritten rows get new ids: one index probe.

    None before anything has been counted.
    """
    return FeedbackDay.objects.aggregate(version=Max("pk"))["version"]


def feedback_sections(scope: Scope) -> dict:
    """The feedback half of the dashboard, the part whose cost follows the volume of answers.

    Cached per scope and summaries version, so a busy practice's managers share one computation
    per sweep instead of each paying for it. Nothing is cached before the first count, so the
    page fills in as soon as the sweep has run.
    """

    def compute() -> dict:
        trend = feedback_trend(scope)
        return {
            "feedback": feedback_summary(scope),
            "trend": trend,
            "trend_chart": trend_chart(trend),
            "by_touchpoint": satisfaction_by_touchpoint(scope),
            "by_need_profile": satisfaction_by_need_profile(scope),
            "themes": negative_themes(scope),
        }

    version = summaries_version()
    if version is None:
        return compute()
    today = timezone.localdate(scope.now)
    key = cache_key(
        "dashboard:feedback",
        version,
        scope.first_day,
        scope.last_day,
        scope.last_day == today,  # the links carry ?until= only for a period that ends before today
        scope.filters,
        small_number(),
        translation.get_language(),
    )
    return cached(key, compute, timeout=FEEDBACK_CACHE_SECONDS)


def sections(scope: Scope) -> dict:
    """Everything the dashboard page shows for this scope."""
    delivery = delivery_figures(scope)
    goals = goal_attainment(scope)
    categories = incidents_by_category(scope)
    return {
        "goals": goals,
        **feedback_sections(scope),
        "recovery": recovery_figures(scope),
        "incident_categories": categories,
        "category_chart": category_chart(categories),
        "delivery": delivery,
        "attention": attention(scope),
        "small_number": small_number(),
        "links": {
            "incidents": incidents_url(scope),
            "responses": responses_url(scope),
            "delivery": _url("delivery:overview"),
        },
    }
