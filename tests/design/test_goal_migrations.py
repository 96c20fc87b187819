"""Sites adopting the group's goals (design 0003): every goal written before keeps its row and its
meaning — a goal with no site is still the group's, a site's goal still that site's, none adopted."""

from __future__ import annotations

from datetime import date

import pytest

from design.models import ServiceGoal
from tests.migrating import migrate, migrate_to_latest

pytestmark = pytest.mark.django_db(transaction=True)


def test_every_goal_keeps_its_row_and_none_is_adopted():
    apps = migrate([("design", "0002_bounds_and_messages")])
    try:
        User = apps.get_model("servicedesk", "User")
        Location = apps.get_model("servicedesk", "Location")
        Goal = apps.get_model("design", "ServiceGoal")
        owner = User.objects.create(username="owner-before-0003")
        site = Location.objects.create(name="Riverside before 0003")
        common = {"owner": owner, "metric_key": "feedback.fft_positive_pct", "review_on": date(2027, 1, 1)}
        Goal.objects.create(title="The group's", target=90, **common)
        Goal.objects.create(title="Riverside's", target=85, location=site, **common)
        Goal.objects.create(
            title="Retired", target=80, status="retired", retired_at="2026-01-01T00:00Z", **common
        )
        before = list(
            Goal.objects.order_by("pk").values_list("pk", "title", "location_id", "target", "status")
        )
    finally:
        migrate_to_latest()

    goals = ServiceGoal.objects.order_by("pk")
    assert list(goals.values_list("pk", "title", "location_id", "target", "status")) == before
    assert list(goals.values_list("group_goal", "target_overridden")) == [(None, False)] * 3
    assert [g.is_group_goal for g in goals] == [True, False, True]
