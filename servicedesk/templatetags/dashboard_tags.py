"""Formatting for dashboard figures: one place decides how a %, an hour or a score reads."""

from __future__ import annotations

from django import template
from django.utils.translation import gettext as _

from servicedesk.metrics import Unit

register = template.Library()


@register.filter
def figure(value: float | None, unit: str = Unit.COUNT) -> str:
    """87 %, 3.5 h, +12, 4.2, 1,204 — or an em dash for no data."""
    if value is None:
        return "—"
    if unit == Unit.PERCENT:
        return f"{value:.0f} %"
    if unit == Unit.HOURS:
        return f"{value:.1f} h"
    if unit == Unit.SCORE:
        return f"{value:+.0f}"
    if unit == Unit.RATING:
        return f"{value:.1f}"
    return f"{value:,.0f}"


@register.filter
def change(fig) -> str:
    """The change from the previous period, in the figure's unit: "+4 pts", "-1.5 h", "no change"."""
    delta = fig.change
    if delta is None:
        return ""
    if abs(delta) < 1e-9:
        return _("no change")
    sign = "+" if delta > 0 else "\N{MINUS SIGN}"
    magnitude = figure(abs(delta), fig.unit).lstrip("+")
    if fig.unit == Unit.PERCENT:
        magnitude = magnitude.replace(" %", " pts")
    return f"{sign}{magnitude}"
