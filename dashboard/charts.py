"""Charts drawn on the server as SVG, for pages that are printed: no JavaScript, so the monthly
report prints its charts as they are, and a screen reader gets the table beside each one.

One quantity per chart: a bar per row, this period dark and the period before light.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString

from servicedesk.templatetags.dashboard_tags import figure

WIDTH = 440
LABEL_WIDTH = 160
VALUE_WIDTH = 56
ROW = 24
BAR = 9
NOW_COLOUR = "#0a58ca"
BEFORE_COLOUR = "#adb5bd"


@dataclass(frozen=True)
class Bar:
    label: str
    value: float | None
    previous: float | None = None


def bar_chart(bars: list[Bar], *, unit: str, title: str, maximum: float | None = None) -> SafeString:
    """Horizontal bars, one row each, with the value written at the end of the bar.

    ``maximum`` fixes the scale (100 for percentages); otherwise the largest value sets it.
    A row with no value (too few answers) shows a dash and no bar.
    """
    values = [v for bar in bars for v in (bar.value, bar.previous) if v is not None]
    top = maximum if maximum is not None else max(values, default=0) or 1
    span = WIDTH - LABEL_WIDTH - VALUE_WIDTH
    with_previous = any(bar.previous is not None for bar in bars)
    rows = []
    for index, bar in enumerate(bars):
        y = index * ROW + 4
        rows.append(
            format_html(
                '<text x="{}" y="{}" text-anchor="end" class="chart-label">{}</text>{}{}'
                '<text x="{}" y="{}" class="chart-value">{}</text>',
                LABEL_WIDTH - 8,
                y + BAR + 2,
                _short(bar.label),
                _rect(y, bar.value, top, span, NOW_COLOUR),
                _rect(y + BAR + 1, bar.previous, top, span, BEFORE_COLOUR) if with_previous else "",
                LABEL_WIDTH + _length(bar.value, top, span) + 6,
                y + BAR + 2,
                figure(bar.value, unit),
            )
        )
    height = len(bars) * ROW + 8
    return format_html(
        '<svg xmlns="http://www.w3.org/2000/svg" class="report-chart" viewBox="0 0 {} {}" width="100%" '
        'role="img" aria-label="{}" font-size="13">{}</svg>',
        WIDTH,
        height,
        title,
        format_html_join("", "{}", ((row,) for row in rows)),
    )


def _short(label: str, limit: int = 21) -> str:
    """A label that fits the label column; the table beside the chart has it whole."""
    return label if len(label) <= limit else label[: limit - 1].rstrip() + "…"


def _length(value: float | None, top: float, span: int) -> float:
    if value is None or top <= 0:
        return 0.0
    return round(max(0.0, min(value / top, 1.0)) * span, 1)


def _rect(y: int, value: float | None, top: float, span: int, colour: str) -> SafeString | str:
    if value is None:
        return ""
    return format_html(
        '<rect x="{}" y="{}" width="{}" height="{}" fill="{}"></rect>',
        LABEL_WIDTH,
        y,
        _length(value, top, span),
        BAR,
        colour,
    )
