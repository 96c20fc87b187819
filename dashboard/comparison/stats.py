"""Funnel plots: is a site's figure different from the group's by more than chance, for its volume?

Pure functions over counts (no database), the method public-health regulators use to compare
units of different sizes (Spiegelhalter, "Funnel plots for comparing institutional performance",
Statistics in Medicine 2005): a site is compared with the group's overall (pooled) value, and the
limits of what chance alone would give widen as the site's volume shrinks, so three answers never
make a site "the worst".

1. The target is the group's value over every answer of every site (pooled, not the mean of the
   sites' values).
2. The standard error at volume n depends on the kind of figure:
   - a proportion p (FFT % positive, recovery success, checklist completion, goal attainment):
     √(p(1-p)/n) — the binomial;
   - NPS, the difference of two proportions of the same answers (promoters p₊, detractors p₋):
     √((p₊ + p₋ - (p₊ - p₋)²)/n) — the multinomial variance of +1/0/-1 scores;
   - a mean (time to first response): s/√n, s the standard deviation of every incident's time.
3. The limits are target ± z·SE(n), z = 1.959964 (95 %) and 3.090232 (99.8 %); a proportion's
   limits are kept inside 0-100 %, NPS's inside -100…+100. A site outside the 99.8 % limits is
   very unlikely to differ by chance (about 1 in 500 each side); outside 95 %, worth a look.
4. Sites with fewer than ``min_volume`` answers are "too few to compare": plotted nowhere, named
   never, and left out of the median and quartiles.

Values are in the figure's display unit: percentages and NPS x100, times in hours.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum

Z95 = 1.959964
Z998 = 3.090232


class Kind(StrEnum):
    PROPORTION = "proportion"
    NPS = "nps"
    MEAN = "mean"


class Position(StrEnum):
    """Where a site lies against the limits."""

    ABOVE_998 = "above_998"
    ABOVE_95 = "above_95"
    WITHIN = "within"
    BELOW_95 = "below_95"
    BELOW_998 = "below_998"
    TOO_FEW = "too_few"


@dataclass(frozen=True)
class Counts:
    """One site's (or the group's) counts for one figure.

    ``n`` is the volume (answers, incidents, runs, goal-days). ``hits`` the successes of a
    proportion, or NPS's promoters; ``misses`` NPS's detractors. A mean's ``total`` is the sum of
    the values and ``squares`` the sum of their squares.
    """

    n: int
    hits: int = 0
    misses: int = 0
    total: float = 0.0
    squares: float = 0.0

    def __add__(self, other: Counts) -> Counts:
        return Counts(
            n=self.n + other.n,
            hits=self.hits + other.hits,
            misses=self.misses + other.misses,
            total=self.total + other.total,
            squares=self.squares + other.squares,
        )


def value(kind: Kind, counts: Counts, *, scale: float = 100.0) -> float | None:
    """The figure of ``counts`` in display units (a mean is divided by ``scale``: seconds → hours
    with 3600); None when there is nothing to measure."""
    if counts.n <= 0:
        return None
    if kind is Kind.PROPORTION:
        return scale * counts.hits / counts.n
    if kind is Kind.NPS:
        return scale * (counts.hits - counts.misses) / counts.n
    return counts.total / counts.n / scale


def standard_deviation(counts: Counts) -> float:
    """The sample standard deviation of the values behind a mean's counts (n - 1 in the divisor)."""
    if counts.n < 2:
        return 0.0
    variance = (counts.squares - counts.total**2 / counts.n) / (counts.n - 1)
    return math.sqrt(max(variance, 0.0))  # rounding can make a zero variance a hair negative


def unit_spread(kind: Kind, group: Counts, *, scale: float = 100.0) -> float:
    """The standard deviation of one answer around the target, in display units; the standard
    error at volume n is this ÷ √n."""
    if group.n <= 0:
        return 0.0
    if kind is Kind.PROPORTION:
        p = group.hits / group.n
        return scale * math.sqrt(p * (1 - p))
    if kind is Kind.NPS:
        plus, minus = group.hits / group.n, group.misses / group.n
        return scale * math.sqrt(max(plus + minus - (plus - minus) ** 2, 0.0))
    return standard_deviation(group) / scale


def bounds(kind: Kind, *, scale: float = 100.0) -> tuple[float | None, float | None]:
    """The values a figure can take: 0-100 % for a proportion, -100…+100 for NPS, ≥ 0 for a time."""
    if kind is Kind.PROPORTION:
        return 0.0, scale
    if kind is Kind.NPS:
        return -scale, scale
    return 0.0, None


@dataclass(frozen=True)
class Limits:
    """The control limits around ``target`` as functions of volume."""

    kind: Kind
    target: float
    spread: float
    low: float | None
    high: float | None

    def at(self, n: float, z: float) -> tuple[float, float]:
        """(lower, upper) limit at volume ``n`` for ``z`` standard errors, kept inside the bounds."""
        half = z * self.spread / math.sqrt(n)
        lower, upper = self.target - half, self.target + half
        if self.low is not None:
            lower = max(lower, self.low)
        if self.high is not None:
            upper = min(upper, self.high)
        return lower, upper

    def position(self, site_value: float, n: int) -> Position:
        low95, high95 = self.at(n, Z95)
        low998, high998 = self.at(n, Z998)
        if site_value > high998:
            return Position.ABOVE_998
        if site_value < low998:
            return Position.BELOW_998
        if site_value > high95:
            return Position.ABOVE_95
        if site_value < low95:
            return Position.BELOW_95
        return Position.WITHIN


def limits(kind: Kind, group: Counts, *, scale: float = 100.0) -> Limits | None:
    """The funnel of ``group``'s pooled counts; None when the group has nothing to measure."""
    target = value(kind, group, scale=scale)
    if target is None:
        return None
    low, high = bounds(kind, scale=scale)
    return Limits(kind=kind, target=target, spread=unit_spread(kind, group, scale=scale), low=low, high=high)


@dataclass(frozen=True)
class Quartiles:
    lower: float
    median: float
    upper: float


def quartiles(values: Sequence[float]) -> Quartiles | None:
    """The median and quartiles of the sites' values (linear interpolation between the sorted
    values, as Excel's QUARTILE.INC and numpy's default); None for no sites."""
    if not values:
        return None
    if len(values) == 1:
        return Quartiles(values[0], values[0], values[0])
    lower, median, upper = statistics.quantiles(values, n=4, method="inclusive")
    return Quartiles(lower, median, upper)


@dataclass(frozen=True)
class SiteResult:
    key: object
    label: str
    n: int
    value: float | None  # None when too few to compare
    position: Position


@dataclass(frozen=True)
class Funnel:
    kind: Kind
    limits: Limits | None
    sites: list[SiteResult]
    quartiles: Quartiles | None
    min_volume: int

    @property
    def compared(self) -> list[SiteResult]:
        return [site for site in self.sites if site.position is not Position.TOO_FEW]

    def outside(self, *positions: Position) -> list[SiteResult]:
        return [site for site in self.sites if site.position in positions]


def funnel(
    kind: Kind,
    sites: Sequence[tuple[object, str, Counts]],
    *,
    min_volume: int,
    scale: float = 100.0,
) -> Funnel:
    """Every site's value and position against the group's limits.

    ``sites`` are (key, label, counts). The target pools every site's counts, small ones
    included (they are part of the group); the quartiles and positions are of sites with at
    least ``min_volume``.
    """
    group = sum((counts for _key, _label, counts in sites), Counts(n=0))
    funnel_limits = limits(kind, group, scale=scale)
    results = []
    for key, label, counts in sites:
        site_value = value(kind, counts, scale=scale)
        if site_value is None or counts.n < max(min_volume, 1) or funnel_limits is None:
            results.append(SiteResult(key, label, counts.n, None, Position.TOO_FEW))
        else:
            results.append(
                SiteResult(key, label, counts.n, site_value, funnel_limits.position(site_value, counts.n))
            )
    values = [site.value for site in results if site.value is not None]
    return Funnel(kind, funnel_limits, results, quartiles(values), min_volume)


def quarter(site_value: float, spread: Quartiles, *, higher_is_better: bool) -> str:
    """Which quarter of the sites a value falls in: "top", "middle" (the middle half) or "bottom";
    a value on a quartile counts in the better part."""
    sign = 1 if higher_is_better else -1
    good, bad = (spread.upper, spread.lower) if higher_is_better else (spread.lower, spread.upper)
    if sign * (site_value - good) >= 0:
        return "top"
    if sign * (site_value - bad) < 0:
        return "bottom"
    return "middle"
