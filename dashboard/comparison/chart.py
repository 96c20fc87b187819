"""The funnel plot as server-rendered SVG: geometry only (coordinates, curves, ticks); the template
``dashboard/_funnel.html`` draws it. Value against volume, a dot per site, the target line and
both pairs of control limits as curves. The page's table is the chart's text alternative."""

from __future__ import annotations

import math
from dataclasses import dataclass

from dashboard.comparison import stats
from dashboard.comparison.stats import Position

WIDTH, HEIGHT = 640, 400
LEFT, RIGHT, TOP, BOTTOM = 56, 16, 16, 44
CURVE_POINTS = 60
OUTLYING = {Position.ABOVE_998, Position.BELOW_998, Position.ABOVE_95, Position.BELOW_95}
FAR_OUT = {Position.ABOVE_998.value, Position.BELOW_998.value}


@dataclass(frozen=True)
class Dot:
    x: float
    y: float
    label: str
    position: str
    outlier: bool
    anchor: str  # text-anchor of the label, kept inside the plot

    @property
    def radius(self) -> float:
        return 5 if self.outlier else 3.5

    @property
    def fill(self) -> str:
        return "#b02a37" if self.outlier else "#0a58ca"  # red outliers, blue others (both AA on white)

    @property
    def label_y(self) -> float:
        return self.y - 8

    @property
    def short_label(self) -> str:
        return self.label if len(self.label) <= 24 else self.label[:23] + "…"


@dataclass(frozen=True)
class Tick:
    at: float  # pixel
    value: float

    @property
    def text(self) -> str:
        """An axis label, not a figure: "80", "0.5", "400" (no unit, no trailing zeros)."""
        return f"{self.value:g}"


@dataclass(frozen=True)
class FunnelChart:
    width: int
    height: int
    left: int
    right: int  # x pixel of the right edge of the plot area
    top: int
    bottom: int  # y pixel of the bottom edge of the plot area
    target_y: float
    curves: dict[str, str]  # "upper998" → SVG points
    dots: list[Dot]
    labelled: list[Dot]  # the outliers, named on the plot
    x_ticks: list[Tick]
    y_ticks: list[Tick]


def nice_ticks(low: float, high: float, count: int = 5) -> list[float]:
    """Round tick values between ``low`` and ``high`` (steps of 1, 2 or 5 x 10ᵏ)."""
    if high <= low:
        return [low]
    raw = (high - low) / count
    magnitude = 10 ** math.floor(math.log10(raw))
    step = min((m * magnitude for m in (1, 2, 5, 10)), key=lambda candidate: abs(candidate - raw))
    first = math.ceil(low / step) * step
    return [round(first + i * step, 10) for i in range(int((high - first) / step) + 1)]


def funnel_chart(funnel: stats.Funnel) -> FunnelChart | None:
    """The plot's geometry, or None when no site has enough volume to compare (the page says so)."""
    limits, compared = funnel.limits, funnel.compared
    if limits is None or not compared:
        return None
    n_low = max(funnel.min_volume, 1)
    n_high = max(site.n for site in compared) * 1.05
    n_high = max(n_high, n_low + 1)
    volumes = [n_low * (n_high / n_low) ** (i / (CURVE_POINTS - 1)) for i in range(CURVE_POINTS)]
    widest = limits.at(max(n_low, min(site.n for site in compared)), stats.Z998)
    values = [site.value for site in compared if site.value is not None]
    y_low, y_high = min([*values, widest[0], limits.target]), max([*values, widest[1], limits.target])
    pad = (y_high - y_low) * 0.08 or 1.0
    y_low, y_high = y_low - pad, y_high + pad
    if limits.low is not None:
        y_low = max(y_low, limits.low)
    if limits.high is not None:
        y_high = min(y_high, limits.high)
    right, bottom = WIDTH - RIGHT, HEIGHT - BOTTOM

    def px(n: float) -> float:
        return round(LEFT + (right - LEFT) * n / n_high, 1)

    def py(v: float) -> float:
        v = min(max(v, y_low), y_high)
        return round(bottom - (bottom - TOP) * (v - y_low) / (y_high - y_low), 1)

    curves = {}
    for name, z in (("95", stats.Z95), ("998", stats.Z998)):
        pairs = [limits.at(n, z) for n in volumes]
        curves[f"lower{name}"] = " ".join(
            f"{px(n)},{py(lo)}" for n, (lo, _hi) in zip(volumes, pairs, strict=True)
        )
        curves[f"upper{name}"] = " ".join(
            f"{px(n)},{py(hi)}" for n, (_lo, hi) in zip(volumes, pairs, strict=True)
        )
    dots = [
        Dot(
            x=px(site.n),
            y=py(site.value),
            label=site.label,
            position=site.position.value,
            outlier=site.position in OUTLYING,
            anchor="end" if px(site.n) > (LEFT + right) / 2 else "start",
        )
        for site in compared
        if site.value is not None
    ]
    return FunnelChart(
        width=WIDTH,
        height=HEIGHT,
        left=LEFT,
        right=right,
        top=TOP,
        bottom=bottom,
        target_y=py(limits.target),
        curves=curves,
        dots=dots,
        # Named on the plot: the 99.8 % outliers (the 95 % ones are red, and named in the list above
        # it: a dozen labels crowd the plot into unreadable overlaps).
        labelled=[dot for dot in dots if dot.position in FAR_OUT],
        x_ticks=[Tick(px(v), v) for v in nice_ticks(0, n_high)],
        y_ticks=[Tick(py(v), v) for v in nice_ticks(y_low, y_high)],
    )
