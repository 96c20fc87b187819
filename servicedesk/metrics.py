"""The metrics registry: named figures that goals and the dashboard evaluate.

Each app registers its metrics in ``AppConfig.ready()``::

    metrics.register(Metric(
        key="feedback.fft_positive_pct", label="FFT positive", unit=Unit.PERCENT,
        higher_is_better=True, compute=fft_positive_pct,
    ))

``compute(period=..., filters=...)`` returns a number, or ``None`` when there is no data
for that period and those filters. Nothing outside the owning app needs to know how a
figure is computed: ``design`` names a key, the dashboard asks the registry.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Protocol

from django.core.exceptions import ImproperlyConfigured
from django.db import models
from django.utils.translation import gettext_lazy as _

from servicedesk.clock import local_midnight, local_today

Number = int | float | Decimal


class Unit(models.TextChoices):
    PERCENT = "percent", _("%")
    COUNT = "count", _("count")
    HOURS = "hours", _("hours")
    SCORE = "score", _("score")
    RATING = "rating", _("rating")


@dataclass(frozen=True)
class Period:
    """A half-open time range [start, end)."""

    start: datetime
    end: datetime

    def __post_init__(self) -> None:
        if self.end <= self.start:
            raise ValueError("A period must end after it starts.")

    @classmethod
    def last_days(cls, days: int, *, now: datetime) -> Period:
        return cls(start=now - timedelta(days=days), end=now)

    @classmethod
    def local_days(cls, first_day: date, last_day: date, *, now: datetime) -> Period:
        """The practice's days ``first_day``…``last_day``, ending now when the last day is today.

        "The last 30 days" is this everywhere (the dashboard's period and a rolling goal's), so a
        goal and a dashboard tile for the same figure count the same rows.
        """
        return cls(
            start=local_midnight(first_day), end=min(now, local_midnight(last_day + timedelta(days=1)))
        )

    @classmethod
    def rolling(cls, days: int, *, now: datetime, back: int = 0) -> Period:
        """The last ``days`` local days up to today (``back=0``), or the ``back``-th such period before."""
        last_day = local_today(now) - timedelta(days=days * back)
        return cls.local_days(last_day - timedelta(days=days - 1), last_day, now=now)

    @property
    def length(self) -> timedelta:
        return self.end - self.start

    def previous(self) -> Period:
        """The period of the same length that ends where this one starts."""
        return Period(start=self.start - self.length, end=self.start)


@dataclass(frozen=True)
class Filters:
    """Where a figure is cut. ``None`` means all. ``params`` carries metric-specific choices."""

    location_id: int | None = None
    touchpoint_id: int | None = None
    need_profile_id: int | None = None
    params: tuple[tuple[str, str], ...] = field(default=())

    def param(self, name: str, default: str | None = None) -> str | None:
        return dict(self.params).get(name, default)

    def at_place(
        self, *, location: str = "location", touchpoint: str = "touchpoint", need_profile: str = ""
    ) -> dict[str, int]:
        """Lookups cutting a queryset to the set location, touchpoint and need profile, given the
        path by which the model reaches each ("run__location"); an empty path leaves that cut
        out (the model has no such link). A filter that is not set cuts nothing."""
        paths = {
            location: self.location_id,
            touchpoint: self.touchpoint_id,
            need_profile: self.need_profile_id,
        }
        return {f"{path}_id": value for path, value in paths.items() if path and value is not None}

    def with_params(self, **params: str) -> Filters:
        return replace(self, params=tuple(sorted({**dict(self.params), **params}.items())))


class Compute(Protocol):
    def __call__(self, *, period: Period, filters: Filters) -> Number | None: ...


class ComputeEach(Protocol):
    def __call__(self, *, periods: Sequence[Period], filters: Filters) -> list[Number | None]: ...


@dataclass(frozen=True)
class Metric:
    key: str
    label: str
    unit: Unit
    higher_is_better: bool
    # The figure for one period; or, for a metric the dashboard reads often, ``compute_each`` below
    # (the figure for several periods in one query), which then serves a single period too.
    compute: Compute | None = None
    description: str = ""
    # Which Filters fields this metric honours; the goal form offers only these.
    filterable_by: frozenset[str] = frozenset({"location_id", "touchpoint_id", "need_profile_id"})
    # How many records the figure rests on (answers, incidents …), to say why there is no figure;
    # ``small_sample``: the figure is withheld below the small-number threshold.
    sample: Compute | None = None
    sample_noun: str = ""
    small_sample: bool = False
    compute_each: ComputeEach | None = None

    def __post_init__(self) -> None:
        if (self.compute is None) == (self.compute_each is None):
            raise ImproperlyConfigured(f"Metric {self.key!r} needs one of compute and compute_each.")

    def no_data_reason(self, *, period: Period, filters: Filters | None = None) -> str:
        """Why ``value`` is None for this period, in words: "2 of the 5 answers needed"."""
        from servicedesk.figures import small_number

        if self.sample is None:
            return str(_("Nothing happened in this period that this figure measures."))
        count = int(self.sample(period=period, filters=filters or Filters()) or 0)
        noun = self.sample_noun or str(_("records"))
        if count == 0:
            return str(_("No %(noun)s in this period.") % {"noun": noun})
        if self.small_sample and count < small_number():
            return str(
                _(
                    "%(count)s of the %(needed)s %(noun)s needed: below that the figure is not shown, "
                    "because it could identify a patient and would swing on one answer."
                )
                % {"count": count, "needed": small_number(), "noun": noun}
            )
        return str(_("Nothing happened in this period that this figure measures."))

    def value(self, *, period: Period, filters: Filters | None = None) -> float | None:
        """The figure as everyone sees it: rounded by the one rule (``servicedesk.figures``), so a
        goal is judged on the number its manager reads, and the goal, the tile and the CSV agree."""
        return self.values(periods=[period], filters=filters)[0]

    def values(self, *, periods: Sequence[Period], filters: Filters | None = None) -> list[float | None]:
        """``value`` for each period, from one query where the metric can (``compute_each``)."""
        filters = filters or Filters()
        if self.compute_each is not None:
            raw = self.compute_each(periods=periods, filters=filters)
        else:
            raw = [self.compute(period=period, filters=filters) for period in periods]  # type: ignore[misc]
        return [self._shown(value) for value in raw]

    def _shown(self, raw: Number | None) -> float | None:
        from servicedesk.figures import round_figure  # figures builds on this module's Unit

        result = round_figure(raw, self.unit)
        return None if result is None else float(result)


class MetricRegistry:
    def __init__(self) -> None:
        self._metrics: dict[str, Metric] = {}

    def register(self, metric: Metric) -> Metric:
        if "." not in metric.key:
            raise ImproperlyConfigured(f"Metric key {metric.key!r} must be '<app>.<name>'.")
        existing = self._metrics.get(metric.key)
        if existing is not None and (existing.compute, existing.compute_each) != (
            metric.compute,
            metric.compute_each,
        ):
            raise ImproperlyConfigured(f"Metric {metric.key!r} is registered twice.")
        self._metrics[metric.key] = metric
        return metric

    def get(self, key: str) -> Metric | None:
        return self._metrics.get(key)

    def __contains__(self, key: object) -> bool:
        return key in self._metrics

    def __iter__(self) -> Iterator[Metric]:
        return iter(sorted(self._metrics.values(), key=lambda m: m.key))

    def choices(self) -> list[tuple[str, str]]:
        return [(m.key, f"{m.label} ({Unit(m.unit).label})") for m in self]

    def value(self, key: str, *, period: Period, filters: Filters | None = None) -> float | None:
        """The metric's value, or None when there is no data or the key is not registered (yet)."""
        metric = self.get(key)
        if metric is None:
            return None
        return metric.value(period=period, filters=filters)


registry = MetricRegistry()
register = registry.register
