"""A survey's results, from a daily roll-up and SQL aggregates of the rest: a fixed number of
queries, and the same cost, however many responses there are (``feedback.rollup``).

Small numbers are suppressed: any figure or breakdown resting on fewer than
``FEEDBACK_SMALL_NUMBER`` (default 5) responses is shown as "too few to show", because it can
identify a patient (or a member of staff) and it misleads.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import Decimal

from django.db.models import Count, Max, Q, QuerySet
from django.db.models.functions import TruncMonth
from django.utils import timezone

from feedback import figures, rollup
from feedback.figures import FftCounts, NpsCounts
from feedback.library import FREQUENCY, TOP_BOX
from feedback.models import Answer, Question, Response, RollupDay, Survey, Theme, ThemeMention
from feedback.models.responses import submitted_between
from feedback.rollup import Counts
from servicedesk.caching import cache_key, cached
from servicedesk.figures import figure_text, round_figure, share_pct, small_number
from servicedesk.metrics import Unit
from servicedesk.models import Location, Touchpoint

# How long computed results may sit in the cache. A new response or a rebuilt roll-up day changes
# the key, so this only bounds memory; a fresh page is computed at most once per change and filter.
RESULTS_CACHE_SECONDS = 600


def pct(part: int, whole: int) -> Decimal | None:
    """A share as the page shows it (bars, yes/no, top box), rounded by the one rule."""
    return round_figure(share_pct(part, whole), Unit.PERCENT)


@dataclass(frozen=True)
class ResponseFilter:
    """Which responses a results page looks at: one survey (or all), a date range and a place.

    Not the dashboard's ``Scope`` (local days compared with the days before): a plain date range.
    """

    survey: Survey | None = None
    date_from: date | None = None
    date_to: date | None = None  # inclusive
    location_id: int | None = None
    touchpoint_id: int | None = None

    def bounds(self) -> tuple[datetime | None, datetime | None]:
        tz = timezone.get_current_timezone()
        start = datetime.combine(self.date_from, time.min, tz) if self.date_from else None
        end = datetime.combine(self.date_to + timedelta(days=1), time.min, tz) if self.date_to else None
        return start, end

    def responses(self) -> QuerySet[Response]:
        return self._filter(Response.objects.all(), prefix="")

    def answers(self) -> QuerySet[Answer]:
        # Dated by the answer's own moment and its response's: PostgreSQL reads only the months asked
        # for of both tables.
        return self._filter(Answer.objects.in_period(*self.bounds()), prefix="response__", dated=False)

    def answered_within(self) -> QuerySet[Answer]:
        """Answers given within the dates alone, to prefetch the answers of the scope's responses:
        with dates, PostgreSQL reads only their months."""
        start, end = self.bounds()
        bounds = {"submitted_at__gte": start, "submitted_at__lt": end}
        return Answer.objects.filter(**{k: v for k, v in bounds.items() if v is not None})

    def _filter(self, qs: QuerySet, *, prefix: str, dated: bool = True) -> QuerySet:
        start, end = self.bounds()
        conditions = {
            f"{prefix}survey": self.survey,
            f"{prefix}location_id": self.location_id,
            f"{prefix}touchpoint_id": self.touchpoint_id,
        }
        qs = qs.filter(**{k: v for k, v in conditions.items() if v is not None})
        return qs.filter(submitted_between(start, end)) if dated else qs


@dataclass
class Bar:
    label: str
    count: int
    share: float | None = None


@dataclass
class Distribution:
    """One closed question's answers: bars, plus the headline figure for its kind."""

    question: Question
    answered: int
    bars: list[Bar]
    suppressed: bool
    headline: str = ""  # e.g. "84.2% positive", "NPS +31", "mean 4.2", "62% Always"
    headline_label: str = ""

    @property
    def chart(self) -> dict:
        return {
            "id": f"chart-q{self.question.pk}",
            "labels": [b.label for b in self.bars],
            "counts": [b.count for b in self.bars],
        }


@dataclass
class BreakdownRow:
    label: str
    total: int
    positive_pct: Decimal | None
    negative_pct: Decimal | None
    suppressed: bool


@dataclass
class SurveyResults:
    scope: ResponseFilter
    total: int
    negative: int
    sentiment: dict[str, int]
    suppressed: bool
    fft_question: Question | None = None
    fft_counts: dict[str, int] = field(default_factory=dict)
    fft_total: int = 0
    nps: Decimal | None = None
    nps_answered: int = 0
    distributions: list[Distribution] = field(default_factory=list)
    by_location: list[BreakdownRow] = field(default_factory=list)
    by_touchpoint: list[BreakdownRow] = field(default_factory=list)
    by_month: list[dict] = field(default_factory=list)
    themes: list[dict] = field(default_factory=list)

    @property
    def fft(self) -> FftCounts:
        return FftCounts.from_choices(self.fft_counts)

    @property
    def fft_positive(self) -> int:
        return self.fft.positive

    @property
    def fft_negative(self) -> int:
        return self.fft.negative

    @property
    def fft_positive_pct(self) -> Decimal | None:
        return round_figure(figures.fft_positive_pct(self.fft), Unit.PERCENT)

    @property
    def fft_negative_pct(self) -> Decimal | None:
        return round_figure(figures.fft_negative_pct(self.fft), Unit.PERCENT)

    @property
    def fft_suppressed(self) -> bool:
        return self.fft_total < small_number()

    @property
    def charts(self) -> list[dict]:
        return [d.chart for d in self.distributions if not d.suppressed]


def nps_shown(counts: dict[int, int]) -> Decimal | None:
    """The feedback pillar's NPS from 0-10 answers counted per score, rounded by the one rule."""
    return round_figure(figures.nps(NpsCounts.from_scores(counts)), Unit.SCORE)


def survey_results(scope: ResponseFilter, questions: list[Question]) -> SurveyResults:
    """Everything the results page shows, cached until the survey's responses or roll-up change.

    The cache key carries the survey's newest response id (one index-only query: a new response,
    a back-dated one too), the newest roll-up marker of the window's days and how many there are
    (one query; a day's marker is replaced whenever the day is rebuilt: the sweep's recount of a
    stale day, a manager's theme correction), the filters and the questions (an edited survey), so
    a change is seen at once; the timeout only bounds memory.
    """
    if scope.survey is None:
        return compute_results(scope, questions)
    last = Response.objects.filter(survey=scope.survey).aggregate(last=Max("pk"))["last"]
    # A rebuilt day's marker is a new row: the highest marker id in the window is its version.
    built = RollupDay.objects.filter(**rollup.window(scope)).aggregate(last=Max("pk"), days=Count("pk"))
    state = (last, built["last"], built["days"])
    key = cache_key("feedback:results", scope, [(q.pk, q.archived_at, q.choices) for q in questions], state)
    return cached(key, lambda: compute_results(scope, questions), timeout=RESULTS_CACHE_SECONDS)


def compute_results(
    scope: ResponseFilter, questions: list[Question], *, rolled_up: bool = True
) -> SurveyResults:
    """A survey's results from its daily roll-up and, for what the roll-up does not cover (the
    last few minutes, days never rolled up), the answers themselves: the same figures either way
    (``rolled_up=False`` counts everything live; tests compare the two). A fixed number of
    queries, whatever the number of days or responses, all in one snapshot:

    1. The roll-up markers of the window's days (``feedback.rollup``), then three queries on the
       roll-up: response totals and sentiment, answers per question and answer, themes.
    2. The same live, over the rest of the window only: response totals and comment sentiment;
       every closed question's answers grouped by answer, month, location and touchpoint;
       multiple-choice options, one conditional count each (only if there are any); themes.
    3. The themes' names, and the names of the places of the FFT breakdowns.

    Per-question distributions and the FFT breakdowns are then summed from a few thousand
    grouped rows in Python.
    """
    threshold = small_number()
    closed = [q for q in questions if q.kind not in (Question.Kind.TEXT, Question.Kind.MULTI_CHOICE)]
    multi = [q for q in questions if q.kind == Question.Kind.MULTI_CHOICE]
    fft = next((q for q in questions if q.kind == Question.Kind.FFT), None)
    counts = Counts()
    with rollup.one_snapshot():
        covered = rollup.coverage(scope) if rolled_up and scope.survey is not None else []
        if covered:
            counts.add(rollup.rolled_up_counts(scope, closed=closed, multi=multi))
        spans = rollup.live_spans(scope.bounds(), covered)
        if spans:
            counts.add(_live_counts(scope, spans, closed=closed, multi=multi))
        names = dict(Theme.objects.filter(pk__in=counts.themes).order_by("name").values_list("pk", "name"))
        if fft is not None:
            locations = dict(Location.objects.values_list("pk", "name"))
            touchpoints = dict(Touchpoint.objects.values_list("pk", "name"))

    summary = counts.summary
    total = summary["total"]
    results = SurveyResults(
        scope=scope,
        total=total,
        negative=summary["negative"],
        sentiment={
            "positive": summary["positive_text"],
            "neutral": summary["any_text"] - summary["positive_text"] - summary["negative_text"],
            "negative": summary["negative_text"],
        },
        suppressed=total < threshold,
    )
    grouped: dict[int, dict] = defaultdict(lambda: defaultdict(int))
    by_location: dict[int | None, Counter] = defaultdict(Counter)
    by_touchpoint: dict[int | None, Counter] = defaultdict(Counter)
    by_month: dict[date, Counter] = defaultdict(Counter)
    for row in counts.rows:
        n = row["n"]
        grouped[row["question_id"]][row["choice"] or row["value"]] += n
        if fft is not None and row["question_id"] == fft.pk:
            by_location[row["location_id"]][row["choice"]] += n
            by_touchpoint[row["touchpoint_id"]][row["choice"]] += n
            by_month[row["month"]][row["choice"]] += n
    multi_counts = counts.multi

    for q in questions:
        if q.kind == Question.Kind.TEXT:
            continue
        if q.kind == Question.Kind.MULTI_CHOICE:
            answered = multi_counts.get(f"q{q.pk}", 0)
            bars = [Bar(c["label"], multi_counts.get(f"q{q.pk}_{c['value']}", 0)) for c in q.choices]
        else:
            bars, answered = _bars(q, grouped[q.pk])
        for bar in bars:
            bar.share = pct(bar.count, answered)
        dist = Distribution(question=q, answered=answered, bars=bars, suppressed=answered < threshold)
        _headline(dist, grouped[q.pk])
        results.distributions.append(dist)

    if fft is not None:
        results.fft_question = fft
        results.fft_counts = {k: v for k, v in grouped[fft.pk].items() if isinstance(k, str)}
        results.fft_total = sum(results.fft_counts.values())
        results.by_location = _breakdown(by_location, locations, threshold)
        results.by_touchpoint = _breakdown(by_touchpoint, touchpoints, threshold)
        results.by_month = _monthly(by_month, threshold)
    nps_question = next((q for q in questions if q.kind == Question.Kind.NPS), None)
    if nps_question is not None:
        scores = {k: v for k, v in grouped[nps_question.pk].items() if isinstance(k, int)}
        results.nps_answered = sum(scores.values())
        results.nps = nps_shown(scores)
    # Most mentioned first, then by name as the database orders names (``names`` is in that order).
    themes = [
        {"theme_id": pk, "theme__name": name, "n": theme["n"], "negative": theme["negative"]}
        for pk, name in names.items()
        for theme in [counts.themes[pk]]
    ]
    results.themes = sorted(themes, key=lambda theme: -theme["n"])
    return results


def _live_counts(
    scope: ResponseFilter, spans: list[rollup.Span], *, closed: list[Question], multi: list[Question]
) -> Counts:
    """The scope's responses submitted within ``spans``, counted from the answers themselves."""
    counts = Counts()
    responses = scope.responses().filter(rollup.within(spans))
    answers = scope.answers().filter(rollup.within(spans, answers=True))  # both tables pruned by month
    counts.summary.update(responses.aggregate(**rollup.SUMMARY_COUNTS))
    if closed:
        rows = (
            answers.filter(question__in=closed)
            .values("question_id", "choice", "value", "response__location_id", "response__touchpoint_id")
            .annotate(month=TruncMonth("submitted_at"), n=Count("pk"))
            .order_by()
        )
        for row in rows:
            row["location_id"] = row.pop("response__location_id")
            row["touchpoint_id"] = row.pop("response__touchpoint_id")
            counts.rows.append(row)
    if multi:
        aggregates = {}
        for q in multi:
            aggregates[f"q{q.pk}"] = Count("pk", filter=Q(question=q))
            for c in q.choices:
                aggregates[f"q{q.pk}_{c['value']}"] = Count(
                    "pk", filter=Q(question=q, choices__contains=f"|{c['value']}|")
                )
        counts.multi.update(answers.filter(question__in=multi).aggregate(**aggregates))
    mentions = ThemeMention.objects.filter(response__in=responses.values("pk"), removed=False)
    themes = mentions.values("theme_id").annotate(
        n=Count("response", distinct=True),
        negative=Count("response", distinct=True, filter=Q(is_negative=True)),
    )
    for row in themes.order_by():
        counts.themes[row["theme_id"]].update({"n": row["n"], "negative": row["negative"]})
    return counts


def _bars(question: Question, counts: dict) -> tuple[list[Bar], int]:
    kind = question.kind
    if kind == Question.Kind.FFT:
        bars = [Bar(str(label), counts.get(key, 0)) for key, label, _n in Answer.FFT_CHOICES]
    elif kind == Question.Kind.NPS:
        bars = [Bar(str(n), counts.get(n, 0)) for n in range(11)]
    elif kind == Question.Kind.RATING:
        bars = [Bar(str(n), counts.get(n, 0)) for n in range(1, 6)]
    elif kind == Question.Kind.YES_NO:
        bars = [Bar("Yes", counts.get("yes", 0)), Bar("No", counts.get("no", 0))]
    else:
        bars = [Bar(c["label"], counts.get(c["value"], 0)) for c in question.choices]
    return bars, sum(counts.values())


def _headline(dist: Distribution, counts: dict) -> None:
    kind, answered = dist.question.kind, dist.answered
    if dist.suppressed or not answered:
        return
    if kind == Question.Kind.FFT:
        positive = figures.fft_positive_pct(FftCounts.from_choices(counts))
        dist.headline, dist.headline_label = _percent(positive), "positive"
    elif kind == Question.Kind.NPS:
        score = figures.nps(NpsCounts.from_scores({k: v for k, v in counts.items() if isinstance(k, int)}))
        dist.headline, dist.headline_label = figure_text(score, Unit.SCORE), "NPS (% 9-10 minus % 0-6)"
    elif kind == Question.Kind.RATING:
        mean = sum(k * v for k, v in counts.items() if isinstance(k, int)) / answered
        dist.headline, dist.headline_label = figure_text(mean, Unit.RATING), "mean out of 5"
    elif kind == Question.Kind.YES_NO:
        dist.headline, dist.headline_label = _percent(share_pct(counts.get("yes", 0), answered)), "yes"
    elif kind == Question.Kind.SINGLE_CHOICE and dist.question.choice_values() == [
        c["value"] for c in FREQUENCY
    ]:
        dist.headline, dist.headline_label = (
            _percent(share_pct(counts.get(TOP_BOX, 0), answered)),
            "top box (Always)",
        )


def _percent(value: Decimal | None) -> str:
    return f"{figure_text(value, Unit.PERCENT)} %"


def _breakdown(
    counts: dict[int | None, Counter], names: dict[int, str], threshold: int
) -> list[BreakdownRow]:
    rows = []
    for pk, choices in counts.items():
        n = sum(choices.values())
        rows.append(
            BreakdownRow(
                label=names.get(pk, "Not recorded"),
                total=n,
                positive_pct=round_figure(
                    figures.fft_positive_pct(FftCounts.from_choices(choices)), Unit.PERCENT
                ),
                negative_pct=round_figure(
                    figures.fft_negative_pct(FftCounts.from_choices(choices)), Unit.PERCENT
                ),
                suppressed=n < threshold,
            )
        )
    return sorted(rows, key=lambda row: (row.label == "Not recorded", row.label))


def _monthly(months: dict[date, Counter], threshold: int) -> list[dict]:
    """The six FFT categories counted per month, newest first, as NHS England collects them."""
    table = []
    for month in sorted(months, reverse=True):
        counts = months[month]
        total = sum(counts.values())
        table.append(
            {
                "month": month,
                "total": total,
                "counts": [counts.get(key, 0) for key, _l, _n in Answer.FFT_CHOICES],
                # Each count with its category's name, for the cell that names it on a phone.
                "cells": [(label, counts.get(key, 0)) for key, label, _n in Answer.FFT_CHOICES],
                "positive_pct": round_figure(
                    figures.fft_positive_pct(FftCounts.from_choices(counts)), Unit.PERCENT
                ),
                "suppressed": total < threshold,
            }
        )
    return table


def comments(scope: ResponseFilter) -> QuerySet[Answer]:
    """Free-text answers, newest first, with their response's themes (two queries per page)."""
    return (
        scope.answers()
        .filter(question__kind=Question.Kind.TEXT)
        .exclude(text="")
        .select_related("response", "question")
        .prefetch_related("response__themes")
        .order_by("-submitted_at", "-pk")
    )
