"""Delivery's periodic sweeps. Each derives what is due from the database and is safe to rerun."""

from __future__ import annotations

from django.utils import timezone

from delivery import services
from servicedesk.sweeps import sweep


@sweep
def schedule_runs() -> int:
    """Create today's checklist runs (idempotent: the unique constraint absorbs reruns)."""
    return services.runs_schedule(now=timezone.now())


@sweep
def mark_missed_runs() -> int:
    return services.runs_mark_missed(now=timezone.now())


@sweep
def send_run_reminders() -> int:
    return services.runs_send_reminders(now=timezone.now())
