"""The weekly digest: the dashboard's headline figures and attention list, emailed to each manager.

Sent once per manager and week, however often the sweep runs: the ``DigestDelivery`` row is
inserted in the same transaction as the send, so a second sweep (or a concurrent one) finds it
and sends nothing, and a refused email rolls the claim back for the next sweep to retry.
"""

from __future__ import annotations

import logging
from datetime import date, datetime, time, timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from dashboard import board
from dashboard import feedback as feedback_section
from dashboard.models import DigestDelivery
from servicedesk.models import User
from servicedesk.outbox import message_key, outbox_email
from servicedesk.panels import Scope

logger = logging.getLogger(__name__)


def digest_week_due(now: datetime) -> date | None:
    """The Monday of this week once the digest's weekday and hour have come, else None."""
    local = timezone.localtime(now)
    monday = local.date() - timedelta(days=local.weekday())
    send_from = timezone.make_aware(
        datetime.combine(
            monday + timedelta(days=settings.DASHBOARD_DIGEST_WEEKDAY), time(settings.DASHBOARD_DIGEST_HOUR)
        )
    )
    return monday if now >= send_from else None


def digest_scope(*, week_of: date, now: datetime) -> Scope:
    """The seven days before the digest's week (Monday to Sunday), compared with the week before."""
    return Scope(now=now, first_day=week_of - timedelta(days=7), last_day=week_of - timedelta(days=1))


def digest_context(*, week_of: date, now: datetime) -> dict:
    """Everything the digest says, computed once per sweep for every manager."""
    scope = digest_scope(week_of=week_of, now=now)
    feedback = feedback_section.feedback_summary(scope)
    return {
        "scope": scope,
        **board.pillar_sections(scope),
        "feedback": feedback,
        "by_touchpoint": [
            row for row in feedback_section.satisfaction_by_touchpoint(scope) if not row.too_few
        ][:3],
        **board.panel_figures(scope),
        "attention": board.attention(scope),
        "dashboard_url": settings.SITE_URL
        + reverse("dashboard")
        + "?days=7&until="
        + scope.last_day.isoformat(),
        "practice_name": settings.PRACTICE_NAME,
    }


def digest_subject(context: dict) -> str:
    goals = context.get("goals")  # design's section (absent if design is not installed)
    missed = goals.counts["missed"] if goals else 0
    scope = context["scope"]
    summary = f"{missed} goal{'s' if missed != 1 else ''} missed" if goals and goals.rows else "no goals yet"
    return f"Week of {scope.first_day:%d %b}: {summary} — {context['practice_name']}"


def digest_send(*, manager_id: int, week_of: date, context: dict, now: datetime) -> bool:
    """Queue this week's digest for one manager, once. False when it was already queued (or they left)."""
    manager = User.objects.managers().exclude(email="").filter(pk=manager_id).first()
    if manager is None:
        return False
    text = render_to_string("dashboard/email/weekly_digest.txt", {**context, "manager": manager})
    html = render_to_string("dashboard/email/weekly_digest.html", {**context, "manager": manager})
    try:
        with transaction.atomic():
            DigestDelivery.objects.create(week_of=week_of, recipient=manager, sent_at=now)
            outbox_email(
                key=message_key("weekly_digest", week_of, manager.pk),
                to=manager.email,
                subject=digest_subject(context),
                text=text,
                html=html,
                kind="weekly_digest",
                now=now,
            )
    except IntegrityError:  # another sweep claimed this manager's digest a moment ago
        return False
    return True


def weekly_digests_send(*, now: datetime, limit: int = 200) -> int:
    """Send the due week's digest to every manager who has not had it. Returns how many were sent."""
    week_of = digest_week_due(now)
    if week_of is None:
        return 0
    already = DigestDelivery.objects.filter(week_of=week_of).values("recipient")
    due = list(
        User.objects.managers()
        .exclude(email="")
        .exclude(pk__in=already)
        .order_by("pk")
        .values_list("pk", flat=True)[:limit]
    )
    if not due:
        return 0
    context = digest_context(week_of=week_of, now=now)
    sent = 0
    for manager_id in due:
        sent += digest_send(manager_id=manager_id, week_of=week_of, context=context, now=now)
    logger.info("weekly digest for %s sent to %d managers", week_of, sent)
    return sent
