"""Invitation figures for goals and the dashboard: how many were sent, answered, opted out.

All three count invitations whose first message was sent in the period, so the rates compare
like with like (an invitation sent on the 30th and answered on the 2nd counts in its month).
"""

from __future__ import annotations

from django.db.models import Count, Q, QuerySet

from feedback import figures
from feedback.metrics import narrow_to_place
from feedback.models import Invitation
from servicedesk import metrics
from servicedesk.metrics import Filters, Metric, Number, Period, Unit


def _sent(period: Period, filters: Filters) -> QuerySet:
    return narrow_to_place(
        Invitation.objects.filter(sent_at__gte=period.start, sent_at__lt=period.end), filters
    )


def invitations_sent(*, period: Period, filters: Filters) -> int:
    return _sent(period, filters).count()


def _rate(period: Period, filters: Filters, condition: Q) -> float | None:
    counts = _sent(period, filters).aggregate(sent=Count("pk"), matching=Count("pk", filter=condition))
    if not counts["sent"]:
        return None
    return 100 * counts["matching"] / counts["sent"]


def response_rate_pct(*, period: Period, filters: Filters) -> Number | None:
    """The feedback pillar's response rate (``feedback.figures``) over invitations sent in the period."""
    counts = _sent(period, filters).aggregate(
        invited=Count("pk"), answered=Count("pk", filter=Q(status=Invitation.Status.COMPLETED))
    )
    return figures.response_rate_pct(**counts)


def opt_out_rate_pct(*, period: Period, filters: Filters) -> float | None:
    return _rate(period, filters, Q(opted_out_at__isnull=False))


def register_invitation_metrics() -> None:
    metrics.register(
        Metric(
            key="feedback.invitations_sent",
            label="Survey invitations sent",
            unit=Unit.COUNT,
            higher_is_better=True,
            compute=invitations_sent,
            description="Patients sent a survey invitation (first message) in the period.",
        )
    )
    metrics.register(
        Metric(
            key="feedback.response_rate_pct",
            label="Invitation response rate",
            unit=Unit.PERCENT,
            higher_is_better=True,
            compute=response_rate_pct,
            description="Of the invitations sent in the period, the share answered (reminders included).",
        )
    )
    metrics.register(
        Metric(
            key="feedback.opt_out_rate_pct",
            label="Invitation opt-out rate",
            unit=Unit.PERCENT,
            higher_is_better=False,
            compute=opt_out_rate_pct,
            description="Of the invitations sent in the period, the share whose patient opted out.",
        )
    )
