"""Goal attainment on the dashboard: every status shown, from the hourly measurement or evaluated now."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from design.attainment import goal_attainment
from design.models import GoalMeasurement
from servicedesk.panels import Scope
from tests.factories import LocationFactory, PatientNeedProfileFactory, ServiceGoalFactory

pytestmark = pytest.mark.django_db


def _goal(title: str, *, now: str, before: str = "", **fields):
    params = {"now": now, "before": before or now}
    return ServiceGoalFactory(title=title, metric_key="tests.fixed", metric_params=params, **fields)


def _statuses(client, **params) -> dict[str, str]:
    response = client.get(reverse("dashboard"), params)
    return {row.goal.title: row.status for row in response.context["goals"].rows}


def test_each_goal_status_is_shown_met_at_risk_missed_and_no_data(manager_client):
    _goal("Patients would recommend us", now="95")
    _goal("Phone answered quickly", now="92", tolerance=Decimal("5"))
    _goal("Morning check done", now="80")
    ServiceGoalFactory(title="Interpreter booked", metric_key="tests.not_registered_yet")

    response = manager_client.get(reverse("dashboard"))
    rows = response.context["goals"].rows
    assert {row.goal.title: row.status for row in rows} == {
        "Patients would recommend us": "met",
        "Phone answered quickly": "at_risk",
        "Morning check done": "missed",
        "Interpreter booked": "no_data",
    }
    # Missed first, then at risk, no data, met: what needs a manager comes first.
    assert [row.status for row in rows] == ["missed", "at_risk", "no_data", "met"]
    page = response.content.decode()
    for count in ("1 missed", "1 at risk", "1 met", "1 no data", "80 %", "≥ 90 %"):
        assert count in page


def test_a_goal_trending_the_wrong_way_is_at_risk_with_its_trend_shown(manager_client):
    _goal("Satisfaction", now="91", before="99")
    response = manager_client.get(reverse("dashboard"))
    (row,) = response.context["goals"].rows
    assert row.status == "at_risk"
    assert row.trend == "worsening"
    assert "Worsening" in response.content.decode()


def test_a_fresh_hourly_measurement_is_used_instead_of_evaluating_again(manager_client):
    goal = _goal("Measured", now="95")
    now = timezone.now()
    GoalMeasurement.objects.create(
        goal=goal,
        measured_on=timezone.localdate(now),
        measured_at=now - timedelta(minutes=20),
        goal_version=goal.version,
        period_start=now - timedelta(days=30),
        period_end=now,
        value=70.0,
        previous_value=75.0,
        comparator=goal.comparator,
        target=goal.target,
        status="missed",
    )
    (row,) = manager_client.get(reverse("dashboard")).context["goals"].rows
    assert (row.status, row.value, row.measured_at is not None) == ("missed", 70.0, True)


def test_a_stale_or_outdated_measurement_is_evaluated_again(manager_client):
    goal = _goal("Measured long ago", now="95")
    now = timezone.now()
    GoalMeasurement.objects.create(
        goal=goal,
        measured_on=timezone.localdate(now) - timedelta(days=1),
        measured_at=now - timedelta(days=1),
        goal_version=goal.version,
        period_start=now - timedelta(days=31),
        period_end=now - timedelta(days=1),
        value=70.0,
        comparator=goal.comparator,
        target=goal.target,
        status="missed",
    )
    (row,) = manager_client.get(reverse("dashboard")).context["goals"].rows
    assert (row.status, row.value, row.measured_at) == ("met", 95.0, None)


def test_retired_goals_are_not_shown(manager_client):
    _goal("Old promise", now="10", status="retired", retired_at=timezone.now())
    assert manager_client.get(reverse("dashboard")).context["goals"].rows == []


def test_filtering_by_place_or_group_keeps_goals_about_it_and_practice_wide_goals():
    riverside, hillcrest = LocationFactory(), LocationFactory()
    interpreter, parents = PatientNeedProfileFactory(), PatientNeedProfileFactory()
    _goal("Practice-wide", now="95")
    _goal("Riverside only", now="95", location=riverside)
    _goal("Hillcrest only", now="95", location=hillcrest)
    _goal("For interpreter patients", now="95", need_profile=interpreter)
    linked = _goal("Linked to parents", now="95")
    parents.goals.add(linked)
    now = timezone.now()

    def titles(**filters) -> set[str]:
        scope = Scope.last_days(now=now, **filters)
        return {row.goal.title for row in goal_attainment(scope).rows}

    assert titles(location=riverside) == {
        "Practice-wide",
        "Riverside only",
        "For interpreter patients",
        "Linked to parents",
    }
    assert titles(need_profile=parents) == {
        "Practice-wide",
        "Riverside only",
        "Hillcrest only",
        "Linked to parents",
    }
    assert titles(need_profile=interpreter) == {
        "Practice-wide",
        "Riverside only",
        "Hillcrest only",
        "For interpreter patients",
    }


def test_a_measurement_of_no_data_is_checked_again_because_data_may_have_arrived(manager_client):
    goal = _goal("Measured before the first answers", now="95")
    now = timezone.now()
    GoalMeasurement.objects.create(
        goal=goal,
        measured_on=timezone.localdate(now),
        measured_at=now - timedelta(minutes=5),
        goal_version=goal.version,
        period_start=now - timedelta(days=30),
        period_end=now,
        value=None,
        comparator=goal.comparator,
        target=goal.target,
        status="no_data",
    )
    (row,) = manager_client.get(reverse("dashboard")).context["goals"].rows
    assert (row.status, row.value) == ("met", 95.0)
