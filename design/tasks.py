from __future__ import annotations

import logging
from datetime import timedelta

from django.conf import settings
from django.db import IntegrityError
from django.db.models import Case, When
from django.utils import timezone

from design.metrics import GOALS_MET_PCT
from design.models import ServiceGoal
from design.reminders import past_review_notify, review_reminder_send
from design.services import goal_measure
from servicedesk.sweeps import sweep

logger = logging.getLogger(__name__)


@sweep
def send_goal_review_reminders() -> int:
    """Sweep: owners of goals due for review soon, then managers about goals past review.

    What is due comes from the database (review dates and the reminder rows already
    claimed), so a rerun, a late run or two concurrent runs send nothing twice.
    """
    now = timezone.now()
    today = timezone.localdate(now)
    until = today + timedelta(days=settings.DESIGN_REVIEW_REMINDER_DAYS)
    due = ServiceGoal.objects.review_due_soon(today=today, until=until).values_list("pk", flat=True)[:500]
    # Each claims and queues its messages in the outbox, which sends and retries them.
    queued = sum(review_reminder_send(goal_id=pk, now=now) for pk in due)
    return queued + past_review_notify(now=now)


@sweep
def measure_goals() -> int:
    """Sweep: record today's status of every active goal (one row per goal and day, updated on rerun)."""
    now = timezone.now()
    measured = 0
    # Goals on design.goals_met_pct summarise the others' measurements: measure them last.
    goals = (
        ServiceGoal.objects.active()
        .alias(summarises_goals=Case(When(metric_key=GOALS_MET_PCT, then=1), default=0))
        .order_by("summarises_goals", "pk")
    )
    for goal in goals.iterator(chunk_size=200):
        try:
            goal_measure(goal=goal, now=now)
        except IntegrityError:  # a concurrent sweep wrote today's row first; it is as fresh as ours
            continue
        measured += 1
    logger.info("measured %d service goals", measured)
    return measured
