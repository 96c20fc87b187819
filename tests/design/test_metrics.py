"""design.goals_met_pct: the share of measured goals meeting their target, end to end through a goal."""

from datetime import timedelta

import pytest
from django.utils import timezone

from design.metrics import GOALS_MET_PCT
from design.models import GoalMeasurement, GoalStatus
from design.services import goal_evaluate
from servicedesk import metrics
from servicedesk.metrics import Filters, Period
from tests.factories import LocationFactory, PatientNeedProfileFactory, ServiceGoalFactory

pytestmark = pytest.mark.django_db


def _measure(goal, status, *, days_ago=0):
    now = timezone.now() - timedelta(days=days_ago)
    return GoalMeasurement.objects.create(
        goal=goal,
        measured_on=timezone.localdate(now),
        measured_at=now,
        goal_version=goal.version,
        period_start=now - timedelta(days=30),
        period_end=now,
        value=None if status == GoalStatus.NO_DATA else 1.0,
        comparator=goal.comparator,
        target=goal.target,
        status=status,
    )


def _last_30_days():
    return Period.last_days(30, now=timezone.now() + timedelta(seconds=1))


def test_it_is_registered_when_the_app_starts():
    metric = metrics.registry.get(GOALS_MET_PCT)
    assert metric is not None
    assert metric.higher_is_better


def test_share_uses_each_goals_latest_measurement_and_counts_at_risk_as_met():
    kept, at_risk, broken, unknown = ServiceGoalFactory.create_batch(4)
    _measure(kept, GoalStatus.MET)
    _measure(at_risk, GoalStatus.AT_RISK)
    _measure(broken, GoalStatus.MET, days_ago=3)
    _measure(broken, GoalStatus.MISSED)  # latest wins
    _measure(unknown, GoalStatus.NO_DATA)  # left out

    value = metrics.registry.value(GOALS_MET_PCT, period=_last_30_days())

    assert value == 66.7  # 2 of 3, rounded by the one rule


def test_no_measured_goals_means_no_data():
    ServiceGoalFactory()
    assert metrics.registry.value(GOALS_MET_PCT, period=_last_30_days()) is None


def test_measurements_outside_the_period_do_not_count():
    goal = ServiceGoalFactory()
    _measure(goal, GoalStatus.MISSED, days_ago=40)
    assert metrics.registry.value(GOALS_MET_PCT, period=_last_30_days()) is None


def test_it_can_be_cut_by_location_profile_and_pillar():
    riverside, profile = LocationFactory(), PatientNeedProfileFactory()
    here = ServiceGoalFactory(location=riverside, pillar="delivery")
    linked = ServiceGoalFactory(pillar="recovery")
    profile.goals.add(linked)
    _measure(here, GoalStatus.MET)
    _measure(linked, GoalStatus.MISSED)

    period = _last_30_days()
    assert (
        metrics.registry.value(GOALS_MET_PCT, period=period, filters=Filters(location_id=riverside.pk)) == 100
    )
    assert (
        metrics.registry.value(GOALS_MET_PCT, period=period, filters=Filters(need_profile_id=profile.pk)) == 0
    )
    recovery_only = Filters().with_params(pillar="recovery")
    assert metrics.registry.value(GOALS_MET_PCT, period=period, filters=recovery_only) == 0


def test_a_goal_on_this_metric_evaluates_end_to_end_and_does_not_count_itself():
    watcher = ServiceGoalFactory(metric_key=GOALS_MET_PCT, target=50, comparator="gte")
    _measure(watcher, GoalStatus.MISSED)
    other = ServiceGoalFactory()
    _measure(other, GoalStatus.MET)

    evaluation = goal_evaluate(goal=watcher, now=timezone.now() + timedelta(seconds=1))

    assert evaluation.value == 100
    assert evaluation.status == GoalStatus.MET
