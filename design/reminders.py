"""Goal review reminders: the owner before a review date, the managers about goals past it, once each."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from design.models import (
    GoalReviewReminder,
    ServiceGoal,
)
from servicedesk.models import User
from servicedesk.outbox import message_key, outbox_email

logger = logging.getLogger(__name__)


def _claim_reminder(*, goal: ServiceGoal, kind: str, now: datetime) -> bool:
    """Insert the reminder's row; False if it exists already (another run sent it)."""
    try:
        with transaction.atomic():
            GoalReviewReminder.objects.create(goal=goal, review_on=goal.review_on, kind=kind, sent_at=now)
    except IntegrityError:
        return False
    return True


def _goal_url(goal: ServiceGoal) -> str:
    return f"{settings.SITE_URL}{reverse('design:goal_detail', args=[goal.pk])}"


def review_reminder_send(*, goal_id: int, now: datetime) -> bool:
    """Remind a goal's owner that its review date is coming up, once per goal and review date.

    The claim row and the outbox messages are written in one transaction: a second sweep (or a
    concurrent one) finds the claim and queues nothing; the outbox sends each recipient's message
    once after commit, retrying a refusal on its own. An owner who can no longer be reached is
    replaced by the managers.
    """
    today = timezone.localdate(now)
    until = today + timedelta(days=settings.DESIGN_REVIEW_REMINDER_DAYS)
    with transaction.atomic():
        goal = (
            ServiceGoal.objects.review_due_soon(today=today, until=until)
            .select_for_update(skip_locked=True, of=("self",))
            .select_related("owner")
            .filter(pk=goal_id)
            .first()
        )
        if goal is None or not _claim_reminder(goal=goal, kind=GoalReviewReminder.Kind.OWNER_BEFORE, now=now):
            return False
        owner = goal.owner
        recipients = (
            [owner.email]
            if owner.is_active and owner.email
            else list(User.objects.managers().exclude(email="").values_list("email", flat=True))
        )
        context = {"goal": goal, "url": _goal_url(goal), "practice_name": settings.PRACTICE_NAME}
        text = render_to_string("design/email/review_due.txt", context)
        subject = f"Goal review due {goal.review_on:%d %B %Y}: {goal.title}"
        for to in recipients:
            key = message_key("goal_review_due", goal.pk, goal.review_on, to)
            outbox_email(key=key, to=to, subject=subject, text=text, kind="goal_review_due", now=now)
    return True


def past_review_notify(*, now: datetime, limit: int = 200) -> int:
    """Tell every manager which goals are past their review date, each goal once per review date.

    Returns the number of goals reported. The claims and one outbox message per manager are one
    transaction; each manager's message is then sent, and retried, on its own, so a refused
    address never makes another manager receive the list twice.
    """
    today = timezone.localdate(now)
    with transaction.atomic():
        due = list(
            ServiceGoal.objects.past_review(today=today)
            .select_for_update(skip_locked=True, of=("self",))
            .select_related("owner")
            .order_by("review_on", "pk")[:limit]
        )
        goals = [g for g in due if _claim_reminder(goal=g, kind=GoalReviewReminder.Kind.PAST_REVIEW, now=now)]
        if not goals:
            return 0
        context = {
            "goals": [(goal, _goal_url(goal)) for goal in goals],
            "today": today,
            "practice_name": settings.PRACTICE_NAME,
        }
        text = render_to_string("design/email/past_review.txt", context)
        subject = f"{len(goals)} service goal{'s' if len(goals) != 1 else ''} past review"
        reported = "-".join(str(goal.pk) for goal in goals)
        for to in User.objects.managers().exclude(email="").values_list("email", flat=True):
            key = message_key("goals_past_review", today, reported, to)
            outbox_email(key=key, to=to, subject=subject, text=text, kind="goals_past_review", now=now)
    return len(goals)
