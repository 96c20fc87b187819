"""The dashboard's feedback half: headline figures, the weekly trend, satisfaction by touchpoint and
patient group, and the themes of negative comments.

Every figure is an aggregation over the daily summaries (``dashboard.summaries``), so its cost
does not grow with the number of answers, and the half is cached until the next summary sweep
(``feedback_sections``). The Python loops walk the groups an aggregate returned (weeks,
touchpoints, themes), never rows of a table that grows. The figures themselves are the feedback
pillar's (``feedback.figures``), rounded by the one rule; below ``FEEDBACK_SMALL_NUMBER``
responses a figure is "too few to show" (it could identify a patient, and it misleads about staff).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from urllib.parse import urlencode

from django.db.models import F, Max, Q, QuerySet, Sum
from django.db.models.functions import TruncWeek
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext_lazy as _

from dashboard.models import FeedbackDay, FeedbackThemeDay
from feedback import contributions as feedback_counts
from feedback import figures as feedback_figures
from feedback.contributions import FFT_FIELDS, responses_url
from servicedesk.caching import cache_key, cached
from servicedesk.figures import round_figure, small_number, too_few
from servicedesk.metrics import Unit
from servicedesk.panels import (
    Figure,
    Scope,
)

logger = logging.getLogger(__name__)


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
        return [(label, getattr(self, name)) for name, label in feedback_counts.fft_categories()]

    @property
    def nps_total(self) -> int:
        return self.nps_promoters + self.nps_passives + self.nps_detractors

    @property
    def too_few(self) -> bool:
        return too_few(self.responses)

    # The figures are the feedback pillar's (feedback.figures), over the summed daily counts, and
    # rounded by the one rule, so a tile, a breakdown, the CSV and the report read the same number.

    @property
    def fft(self) -> feedback_figures.FftCounts:
        return feedback_figures.FftCounts(
            total=self.fft_total,
            positive=self.fft_very_good + self.fft_good,
            negative=self.fft_poor + self.fft_very_poor,
        )

    @property
    def fft_positive_pct(self) -> float | None:
        return _shown(feedback_figures.fft_positive_pct(self.fft), Unit.PERCENT)

    @property
    def fft_negative_pct(self) -> float | None:
        return _shown(feedback_figures.fft_negative_pct(self.fft), Unit.PERCENT)

    @property
    def nps(self) -> float | None:
        counts = feedback_figures.NpsCounts(
            promoters=self.nps_promoters, passives=self.nps_passives, detractors=self.nps_detractors
        )
        return _shown(feedback_figures.nps(counts), Unit.SCORE)

    @property
    def response_rate(self) -> float | None:
        rate = feedback_figures.response_rate_pct(
            answered=self.invitations_answered, invited=self.invitations_delivered
        )
        return _shown(rate, Unit.PERCENT)


def _shown(value: Decimal | None, unit: str) -> float | None:
    rounded = round_figure(value, unit)
    return None if rounded is None else float(rounded)


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
    def fft(self) -> Figure:
        return self._figure(str(_("FFT positive")), "fft_positive_pct", Unit.PERCENT)

    @property
    def nps(self) -> Figure:
        return self._figure(str(_("Net Promoter Score")), "nps", Unit.SCORE)

    @property
    def figures(self) -> list[Figure]:
        return [
            self._figure(str(_("Responses")), "responses", Unit.COUNT),
            self._figure(str(_("Response rate")), "response_rate", Unit.PERCENT),
            self.fft,
            self.nps,
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


def negative_themes(scope: Scope, *, limit: int = 5, examples: int = 2) -> list[ThemeRow]:
    """The themes most mentioned in negative responses this period, with recent example comments.

    Three queries: the theme counts from the summary; then the feedback pillar's example comments
    for the themes shown (``feedback.contributions.negative_comment_examples``: two queries whose
    cost does not grow with the period's size). Themes with too few mentions show no count and no
    examples.
    """
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
    found = feedback_counts.negative_comment_examples(
        theme_ids=list(shown), period=scope.period, filters=scope.filters, examples=examples
    )
    for pk, texts in found.items():
        shown[pk].examples.extend(texts)
    return themes


# --- The page ------------------------------------------------------------------------------------


def _chart_value(value: float | None) -> float | None:
    return value  # already rounded by the one rule (FeedbackCounts)


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
