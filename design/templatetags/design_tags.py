"""Showing goal figures the same way on every page."""

from __future__ import annotations

from django import template
from django.utils.translation import gettext as _

from design.models import GoalChange, GoalStatus
from servicedesk.metrics import Unit
from servicedesk.templatetags.dashboard_tags import figure

register = template.Library()

STATUS_BADGES = {
    "met": "text-bg-success",
    "at_risk": "text-bg-warning",
    "missed": "text-bg-danger",
    "no_data": "text-bg-secondary",
}


@register.filter
def metric_value(value: float | None, unit: str | None) -> str:
    """A goal's figure as every page writes it (``figure``: 92.5 %, 3.5 h, +32), "no data" for none."""
    if value is None:
        return _("no data")
    return figure(value, unit or Unit.COUNT)


@register.filter
def status_badge_class(status: str | None) -> str:
    return STATUS_BADGES.get(status or "no_data", "text-bg-secondary")


@register.filter
def unit_label(unit: str | None) -> str:
    try:
        return str(Unit(unit).label)
    except ValueError:
        return ""


@register.filter
def status_label(status: str | None) -> str:
    return str(GoalStatus(status or GoalStatus.NO_DATA).label)


@register.filter
def goal_field_label(name: str) -> str:
    """A goal field's name as managers read it, for the change log."""
    return GoalChange.field_label(name)
