from __future__ import annotations

from datetime import datetime, timedelta

from django import template

from recovery.durations import humanize_duration
from recovery.models import Incident

register = template.Library()


@register.filter
def duration(value: timedelta | None) -> str:
    return "" if value is None else humanize_duration(value)


@register.inclusion_tag("recovery/_clock.html")
def sla_clock(incident: Incident, now: datetime) -> dict:
    """ "Due in 3 h" / "Overdue by 2 h" / "Paused" for the clock that is running now."""
    running = incident.running_deadline()
    if running is None:
        return {"state": "done", "incident": incident}
    clock, deadline = running
    left = incident.time_left(now)
    if incident.is_paused:
        state = "paused"
    elif left < timedelta(0):
        state = "overdue"
    else:
        state = "due"
    return {
        "state": state,
        "clock": "respond" if clock == "respond" else "resolve",
        "left": humanize_duration(left),
        "late": left < timedelta(0),
        "deadline": deadline,
        "incident": incident,
    }
