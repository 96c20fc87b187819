"""A report for a month that has ended shows its goals as they stood at the month's end, not today."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from design.models import GoalMeasurement, ServiceGoal
from tests.factories import ServiceGoalFactory

pytestmark = pytest.mark.django_db


def _last_month() -> tuple[datetime, datetime]:
    """Noon on the 10th and on the last day of last month, in the practice's time."""
    first = (timezone.localdate().replace(day=1) - timedelta(days=1)).replace(day=1)
    last = timezone.localdate().replace(day=1) - timedelta(days=1)
    noon = time(12)
    return (
        timezone.make_aware(datetime.combine(first + timedelta(days=9), noon)),
        timezone.make_aware(datetime.combine(last, noon)),
    )


def _goal(title: str, *, created: datetime, **fields) -> ServiceGoal:
    # tests.fixed gives "now" for a period running to now, "before" for one that has ended.
    goal = ServiceGoalFactory(
        title=title, metric_key="tests.fixed", metric_params={"now": "95", "before": "70"}, **fields
    )
    ServiceGoal.objects.filter(pk=goal.pk).update(created_at=created)
    goal.refresh_from_db()
    return goal


def _measure(goal: ServiceGoal, at: datetime, *, value: float, status: str, target: str) -> None:
    GoalMeasurement.objects.create(
        goal=goal,
        measured_on=timezone.localdate(at),
        measured_at=at,
        goal_version=goal.version,
        period_start=at - timedelta(days=30),
        period_end=at,
        value=value,
        previous_value=None,
        comparator=goal.comparator,
        target=Decimal(target),
        status=status,
    )


def _report(client):
    response = client.get(reverse("dashboard_report"))  # last month by default
    assert response.status_code == 200
    return response


def test_a_goal_created_after_the_month_is_not_in_its_report(manager_client):
    early, _ = _last_month()
    _goal("Set up last month", created=early)
    _goal("Set up this month", created=timezone.now())
    response = _report(manager_client)
    assert [row.goal.title for row in response.context["goals"].rows] == ["Set up last month"]
    assert "Set up this month" not in response.content.decode()


def test_the_value_and_target_are_those_of_the_months_last_measurement(manager_client):
    early, month_end = _last_month()
    goal = _goal("Phone answered quickly", created=early, target=Decimal("90"))
    _measure(goal, month_end, value=72.0, status="missed", target="90")
    _measure(goal, timezone.now(), value=95.0, status="met", target="90")  # today's: not last month's
    ServiceGoal.objects.filter(pk=goal.pk).update(target=Decimal("60"))  # the target changed since

    response = _report(manager_client)
    (row,) = response.context["goals"].rows
    assert (row.value, row.status, row.target) == (72.0, "missed", Decimal("90"))
    page = response.content.decode()
    assert "≥ 90 %" in page
    assert "72 %" in page
    assert "≥ 60 %" not in page
    assert f"On {month_end.day} {month_end:%B}" in page  # the column says when, not "Now"


def test_a_goal_retired_after_the_month_is_in_it_and_one_retired_during_it_is_not(manager_client):
    early, _month_end = _last_month()
    _goal("Retired since", created=early, status="retired", retired_at=timezone.now())
    _goal("Retired before the end", created=early, status="retired", retired_at=early + timedelta(days=1))
    titles = {row.goal.title for row in _report(manager_client).context["goals"].rows}
    assert titles == {"Retired since"}


def test_a_goal_not_measured_in_the_month_is_evaluated_as_of_its_end(manager_client):
    early, _ = _last_month()
    _goal("Never measured", created=early, target=Decimal("90"))
    (row,) = _report(manager_client).context["goals"].rows
    assert (row.value, row.status, row.measured_at) == (70.0, "missed", None)


def test_the_dashboard_for_a_period_running_to_today_reads_todays_goals(manager_client):
    _goal("Set up this month", created=timezone.now())
    rows = manager_client.get(reverse("dashboard")).context["goals"].rows
    assert [row.goal.title for row in rows] == ["Set up this month"]
