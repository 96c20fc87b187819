"""Formatting for dashboard figures: one place decides how a %, an hour or a score reads."""

from __future__ import annotations

from django import template
from django.utils.translation import gettext as _

from servicedesk.figures import figure_text
from servicedesk.metrics import Unit

register = template.Library()


@register.filter
def figure(value: float | None, unit: str = Unit.COUNT) -> str:
    """87.5 %, 3.5 h, +12, 4.25, 1,204 — or an em dash for no data."""
    if value is None:
        return "—"
    number = figure_text(value, unit)
    if unit == Unit.PERCENT:
        return f"{number} %"
    if unit == Unit.HOURS:
        return f"{number} h"
    if unit == Unit.COUNT:
        return f"{int(number):,}"
    return number


@register.filter
def points(delta: float | None) -> str:
    """A difference between two percentages: "+4.5 pts", "-1 pts" (a real minus sign), "no change";
    a dash for none."""
    if delta is None:
        return "—"
    if abs(delta) < 1e-9:
        return _("no change")
    sign = "+" if delta > 0 else "\N{MINUS SIGN}"
    return f"{sign}{figure_text(abs(delta), Unit.PERCENT)} pts"


@register.filter
def change(fig) -> str:
    """The change from the previous period, in the figure's unit: "+4 pts", "-1.5 h", "no change"."""
    delta = fig.change
    if delta is None:
        return ""
    if abs(delta) < 1e-9:
        return _("no change")
    if fig.unit == Unit.PERCENT:
        return points(delta)
    sign = "+" if delta > 0 else "\N{MINUS SIGN}"
    return f"{sign}{figure(abs(delta), fig.unit).lstrip('+')}"
