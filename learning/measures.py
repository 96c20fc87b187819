"""Did the change work? The same figures for the same length of time before and after it.

For a change made on day D and a window of L days (the learning rule's window, never under
``MIN_MEASURE_DAYS``), in the practice's local days:

1. *before* is D-L … D-1 and *after* is D … D+L-1 (the day of the change counts as after);
2. recurrence is the pattern's matching incidents logged in each window (one query for both),
   shown per 30 days so windows of other lengths compare;
3. feedback is FFT % positive at the pattern's touchpoint (the practice's, for a theme), summed
   from the feedback pillar's day roll-up (``AnswerDay``: one query for both windows), and for a
   theme the share of comments mentioning it that are negative (``ThemeDay``); each None below the
   small-number threshold, by the pillar's own figure functions;
4. until day D+L has come (the after window is complete) the answer is "too soon to tell".
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal

from django.db.models import Count, Q, Sum

from feedback.figures import FftCounts, fft_positive_pct
from feedback.models import AnswerDay, Question, Survey, ThemeDay
from learning.models import MIN_MEASURE_DAYS, Change, Pattern
from learning.services import matching_incidents, rules
from servicedesk.clock import local_midnight, local_today
from servicedesk.figures import round_figure, share_pct, too_few
from servicedesk.metrics import Unit

PER_DAYS = 30  # recurrence is shown as incidents per this many days


@dataclass(frozen=True)
class Side:
    """One window's figures (rounded as shown; None: too few answers to show)."""

    first_day: date
    last_day: date
    incidents: int
    per_30_days: Decimal
    fft_positive: Decimal | None
    fft_answers: int
    theme_negative: Decimal | None = None


@dataclass(frozen=True)
class Effect:
    change: Change
    days: int
    before: Side
    after: Side
    ready_on: date  # the first day the after window is complete
    too_soon: bool

    @property
    def fewer_incidents(self) -> bool | None:
        if self.too_soon:
            return None
        return self.after.incidents < self.before.incidents

    @property
    def verdict(self) -> str:
        """A few words a manager reads: "fewer incidents", "no fewer incidents", "too soon to tell"."""
        if self.too_soon:
            return "too soon to tell"
        if self.after.incidents < self.before.incidents:
            return "fewer incidents"
        if self.after.incidents == self.before.incidents:
            return "as many incidents"
        return "more incidents"

    def summary(self) -> str:
        """One line: "4 → 1 incidents per 30 days; FFT 62.5% → 88.9% positive" or "too soon to tell"."""
        if self.too_soon:
            return f"too soon to tell (measured from {self.ready_on:%d %b %Y})"
        text = f"{self.before.per_30_days} → {self.after.per_30_days} incidents per {PER_DAYS} days"
        if self.before.fft_positive is not None and self.after.fft_positive is not None:
            text += f"; FFT {self.before.fft_positive}% → {self.after.fft_positive}% positive"
        return text


def measure_days() -> int:
    return max(MIN_MEASURE_DAYS, rules().window_days)


def change_effect(change: Change, *, now: datetime, days: int | None = None) -> Effect:
    """The change's figures before and after (three queries at most). ``change.pattern`` is read."""
    days = days or measure_days()
    made_on = change.made_on
    before = (made_on - timedelta(days=days), made_on - timedelta(days=1))
    after = (made_on, made_on + timedelta(days=days - 1))
    pattern = change.pattern
    incidents = _incidents(pattern, before, after)
    fft = _fft(pattern, before, after)
    themes = _theme_negative(pattern, before, after)
    ready_on = after[1] + timedelta(days=1)
    sides = [
        Side(
            first_day=window[0],
            last_day=window[1],
            incidents=incidents[name],
            per_30_days=_per_30_days(incidents[name], days),
            fft_positive=round_figure(fft_positive_pct(fft[name]), Unit.PERCENT),
            fft_answers=fft[name].total,
            theme_negative=themes.get(name),
        )
        for name, window in (("before", before), ("after", after))
    ]
    return Effect(
        change=change,
        days=days,
        before=sides[0],
        after=sides[1],
        ready_on=ready_on,
        too_soon=local_today(now) < ready_on,
    )


def _per_30_days(incidents: int, days: int) -> Decimal:
    """Incidents per 30 days, to one decimal place (the rounding rule's places for a percentage)."""
    rate = round_figure(Decimal(incidents * PER_DAYS) / days, Unit.PERCENT)
    return Decimal(0) if rate is None else rate


def _between(window: tuple[date, date]) -> Q:
    return Q(
        created_at__gte=local_midnight(window[0]),
        created_at__lt=local_midnight(window[1] + timedelta(days=1)),
    )


def _incidents(pattern: Pattern, before: tuple[date, date], after: tuple[date, date]) -> dict[str, int]:
    return matching_incidents(pattern).aggregate(
        before=Count("pk", filter=_between(before)), after=Count("pk", filter=_between(after))
    )


def _fft(pattern: Pattern, before: tuple[date, date], after: tuple[date, date]) -> dict[str, FftCounts]:
    """Patient FFT answers per answer given in each window, from the day roll-up."""
    rows = AnswerDay.objects.filter(
        question__kind=Question.Kind.FFT,
        survey__audience=Survey.Audience.PATIENT,
        day__gte=before[0],
        day__lte=after[1],
    )
    if pattern.touchpoint_id is not None:
        rows = rows.filter(touchpoint=pattern.touchpoint_id)
    counted: dict[str, dict[str, int]] = {"before": {}, "after": {}}
    grouped = (
        rows.values("choice")
        .annotate(
            before=Sum("answers", filter=Q(day__lte=before[1])),
            after=Sum("answers", filter=Q(day__gte=after[0])),
        )
        .order_by()
    )
    for row in grouped:
        for name in counted:
            counted[name][row["choice"]] = row[name] or 0
    return {name: FftCounts.from_choices(choices) for name, choices in counted.items()}


def _theme_negative(
    pattern: Pattern, before: tuple[date, date], after: tuple[date, date]
) -> dict[str, Decimal | None]:
    """For a theme's pattern: of the comments mentioning it, the share that were negative about it."""
    if pattern.theme_id is None:
        return {}
    sums = ThemeDay.objects.filter(theme=pattern.theme_id, day__gte=before[0], day__lte=after[1]).aggregate(
        before_n=Sum("responses", filter=Q(day__lte=before[1])),
        before_negative=Sum("negative", filter=Q(day__lte=before[1])),
        after_n=Sum("responses", filter=Q(day__gte=after[0])),
        after_negative=Sum("negative", filter=Q(day__gte=after[0])),
    )
    shares: dict[str, Decimal | None] = {}
    for name in ("before", "after"):
        n, negative = sums[f"{name}_n"] or 0, sums[f"{name}_negative"] or 0
        shares[name] = None if too_few(n) else round_figure(share_pct(negative, n), Unit.PERCENT)
    return shares
