"""What delivery reads from the design pillar: whether people acknowledged the current service goals.

Delivery may import design; design never imports delivery.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Count, F

from design.models import GoalAcknowledgement, ServiceGoal
from servicedesk.models import User


@dataclass(frozen=True)
class GoalsAcknowledged:
    acknowledged: int
    total: int

    @property
    def all_done(self) -> bool:
        return self.acknowledged >= self.total


def acknowledgements(people: list[User]) -> dict[int, GoalsAcknowledged]:
    """For each person, how many active goals they acknowledged in their current version (two queries)."""
    total = ServiceGoal.objects.active().count()
    counts = dict(
        GoalAcknowledgement.objects.filter(
            user__in=people, goal__status=ServiceGoal.Status.ACTIVE, version=F("goal__version")
        )
        .values("user")
        .annotate(n=Count("goal", distinct=True))
        .values_list("user", "n")
    )
    return {
        person.pk: GoalsAcknowledged(acknowledged=counts.get(person.pk, 0), total=total) for person in people
    }
