from __future__ import annotations

from django.utils import timezone

from dashboard.comparison.summaries import site_days_refresh
from dashboard.digest import weekly_digests_send
from dashboard.summaries import feedback_days_refresh, feedback_days_stale
from servicedesk.sweeps import sweep

# The sweeps keep the names they had in servicedesk/tasks.py before the dashboard became its own
# app: the beat schedule names them, and a message queued under the old name must still run.


@sweep(name="servicedesk.tasks.refresh_feedback_summaries")
def refresh_feedback_summaries() -> int:
    """Sweep: recount the dashboard's feedback summaries for today, yesterday and any day that changed,
    and the same days' per-site summaries of incidents, checklists and goals."""
    now = timezone.now()
    days = feedback_days_stale(now=now)
    rebuilt = feedback_days_refresh(days=days, now=now)
    site_days_refresh(days=days, now=now)
    return rebuilt


@sweep(name="servicedesk.tasks.send_weekly_digests")
def send_weekly_digests() -> int:
    """Sweep: the week's digest to every manager who has not had it (once each, however often this runs)."""
    return weekly_digests_send(now=timezone.now())
