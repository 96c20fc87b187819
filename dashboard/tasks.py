from __future__ import annotations

from django.utils import timezone

from dashboard.digest import weekly_digests_send
from dashboard.summaries import feedback_days_refresh, feedback_days_stale
from servicedesk.sweeps import sweep


@sweep
def refresh_feedback_summaries() -> int:
    """Sweep: recount the dashboard's feedback summaries for today, yesterday and any day that changed."""
    now = timezone.now()
    return feedback_days_refresh(days=feedback_days_stale(now=now), now=now)


@sweep
def send_weekly_digests() -> int:
    """Sweep: the week's digest to every manager who has not had it (once each, however often this runs)."""
    return weekly_digests_send(now=timezone.now())
