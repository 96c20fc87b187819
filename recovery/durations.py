"""Durations in the words a receptionist uses: "3 h 20 min", "2 days 4 h"."""

from __future__ import annotations

from datetime import timedelta


def humanize_duration(value: timedelta) -> str:
    """The two largest units of a duration, rounded down; under a minute is "under a minute"."""
    total_minutes = int(abs(value).total_seconds() // 60)
    days, rest = divmod(total_minutes, 60 * 24)
    hours, minutes = divmod(rest, 60)
    if days:
        text = f"{days} day{'s' if days != 1 else ''}"
        return f"{text} {hours} h" if hours else text
    if hours:
        return f"{hours} h {minutes} min" if minutes else f"{hours} h"
    if minutes:
        return f"{minutes} min"
    return "under a minute"
