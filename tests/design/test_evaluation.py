"""Goal evaluation: the value through the registry, its status against the target, and its trend."""

from datetime import datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone

from design.models import GoalMeasurement, GoalStatus
from design.services import (
    Trend,
    goal_evaluate,
    goal_history,
    goal_measure,
    goal_periods,
    status_of,
    trend_of,
)
from servicedesk.metrics import Metric, Unit
from servicedesk.panels import Scope
from tests.design.registry import registered
from tests.factories import LocationFactory, PatientNeedProfileFactory, ServiceGoalFactory, TouchpointFactory

LONDON = ZoneInfo("Europe/London")


@pytest.mark.parametrize(
    ("value", "previous", "comparator", "target", "tolerance", "expected"),
    [
        # at least (≥)
        (95, None, "gte", 90, 0, GoalStatus.MET),
        (90, None, "gte", 90, 0, GoalStatus.MET),
        (89.9, None, "gte", 90, 0, GoalStatus.MISSED),
        (89.9, None, "gte", 90, 5, GoalStatus.MISSED),  # a miss is a miss, whatever the margin
        (91, None, "gte", 90, 2, GoalStatus.AT_RISK),  # met, but inside the at-risk margin
        (93, None, "gte", 90, 2, GoalStatus.MET),
        (92, 96, "gte", 90, 0, GoalStatus.AT_RISK),  # fell 4 points: the same again misses
        (95, 96, "gte", 90, 0, GoalStatus.MET),  # fell 1 point: still clear of the target
        (92, 88, "gte", 90, 0, GoalStatus.MET),  # improving
        (None, 95, "gte", 90, 0, GoalStatus.NO_DATA),
        # at most (≤)
        (3, None, "lte", 4, 0, GoalStatus.MET),
        (4, None, "lte", 4, 0, GoalStatus.MET),
        (4.5, None, "lte", 4, 0, GoalStatus.MISSED),
        (3.5, None, "lte", 4, 1, GoalStatus.AT_RISK),
        (3.5, 2.5, "lte", 4, 0, GoalStatus.AT_RISK),  # rose an hour: the same again misses
        (3, 2.8, "lte", 4, 0, GoalStatus.MET),
        (2, 3, "lte", 4, 0, GoalStatus.MET),
        (None, None, "lte", 4, 0, GoalStatus.NO_DATA),
    ],
)
def test_status_for_each_comparator_and_outcome(value, previous, comparator, target, tolerance, expected):
    status = status_of(
        value=value,
        previous_value=previous,
        comparator=comparator,
        target=Decimal(target),
        tolerance=Decimal(tolerance),
    )
    assert status == expected


@pytest.mark.parametrize(
    ("value", "previous", "comparator", "expected"),
    [
        (5, 4, "gte", Trend.IMPROVING),
        (4, 5, "gte", Trend.WORSENING),
        (5, 4, "lte", Trend.WORSENING),
        (4, 5, "lte", Trend.IMPROVING),
        (4, 4, "gte", Trend.STEADY),
        (4, None, "gte", Trend.UNKNOWN),
        (None, 4, "lte", Trend.UNKNOWN),
    ],
)
def test_trend_follows_the_goal_direction(value, previous, comparator, expected):
    assert trend_of(value=value, previous_value=previous, comparator=comparator) == expected


@pytest.fixture
def fake_metric():
    """A registered metric whose value per period start the test controls, recording the filters it got."""
    values: dict = {}
    calls: list = []

    def compute(*, period, filters):
        calls.append((period, filters))
        return values.get("current") if period.end >= values["boundary"] else values.get("previous")

    metric = Metric(
        key="testing.fake_pct", label="Fake share", unit=Unit.PERCENT, higher_is_better=True, compute=compute
    )
    with registered(metric):
        yield values, calls


@pytest.mark.django_db
def test_evaluation_reads_the_registry_with_the_goals_filters(fake_metric):
    values, calls = fake_metric
    now = timezone.now()
    values.update(boundary=now, current=93, previous=91)
    location, touchpoint, profile = LocationFactory(), TouchpointFactory(), PatientNeedProfileFactory()
    goal = ServiceGoalFactory(
        metric_key="testing.fake_pct",
        metric_params={"question": "fft"},
        location=location,
        touchpoint=touchpoint,
        need_profile=profile,
        target=90,
    )

    evaluation = goal_evaluate(goal=goal, now=now)

    assert evaluation.status == GoalStatus.MET
    assert (evaluation.value, evaluation.previous_value) == (93, 91)
    assert evaluation.trend == Trend.IMPROVING
    assert evaluation.metric.label == "Fake share"
    filters = calls[0][1]
    assert (filters.location_id, filters.touchpoint_id, filters.need_profile_id) == (
        location.pk,
        touchpoint.pk,
        profile.pk,
    )
    assert filters.param("question") == "fft"


@pytest.mark.django_db
def test_a_metric_with_no_data_evaluates_to_no_data(fake_metric):
    values, _ = fake_metric
    values.update(boundary=timezone.now(), current=None, previous=None)
    goal = ServiceGoalFactory(metric_key="testing.fake_pct")
    evaluation = goal_evaluate(goal=goal, now=timezone.now())
    assert evaluation.status == GoalStatus.NO_DATA
    assert evaluation.value is None


@pytest.mark.django_db
def test_an_unregistered_metric_key_is_no_data_not_an_error():
    goal = ServiceGoalFactory(metric_key="recovery.not_built_yet")
    evaluation = goal_evaluate(goal=goal, now=timezone.now())
    assert evaluation.status == GoalStatus.NO_DATA
    assert not evaluation.is_registered


@pytest.mark.django_db
def test_a_metric_that_crashes_shows_no_data_and_is_logged(caplog):
    def broken(*, period, filters):
        raise ZeroDivisionError

    with registered(
        Metric(key="testing.broken", label="Broken", unit=Unit.COUNT, higher_is_better=True, compute=broken)
    ):
        goal = ServiceGoalFactory(metric_key="testing.broken")
        assert goal_evaluate(goal=goal, now=timezone.now()).status == GoalStatus.NO_DATA
    assert "testing.broken failed to compute" in caplog.text


def test_quarter_to_date_runs_from_the_quarter_start_and_compares_with_the_previous_quarter():
    now = datetime(2026, 5, 20, 10, 0, tzinfo=LONDON)
    current, previous = goal_periods(period="quarter_to_date", now=now)
    assert current.start == datetime(2026, 4, 1, tzinfo=LONDON)
    assert current.end == now
    assert previous.start == datetime(2026, 1, 1, tzinfo=LONDON)
    assert previous.end == datetime(2026, 4, 1, tzinfo=LONDON)


def test_quarter_to_date_in_january_looks_back_to_last_october():
    now = datetime(2026, 1, 5, 9, 0, tzinfo=LONDON)
    current, previous = goal_periods(period="quarter_to_date", now=now)
    assert current.start == datetime(2026, 1, 1, tzinfo=LONDON)
    assert previous.start == datetime(2025, 10, 1, tzinfo=LONDON)


def test_rolling_period_is_thirty_days_compared_with_the_thirty_before():
    now = datetime(2026, 5, 20, 10, 0, tzinfo=LONDON)
    current, previous = goal_periods(period="rolling_30_days", now=now)
    # The last 30 local days up to now, as the dashboard's default period counts them.
    assert (current.start, current.end) == (datetime(2026, 4, 21, tzinfo=LONDON), now)
    assert current == Scope.last_days(30, now=now).period
    assert (previous.start, previous.end) == (datetime(2026, 3, 22, tzinfo=LONDON), current.start)
    assert previous == Scope.last_days(30, now=now).previous


@pytest.mark.django_db
def test_history_gives_one_value_per_period_most_recent_first(fake_metric):
    values, calls = fake_metric
    now = timezone.now()
    values.update(boundary=now, current=80, previous=95)
    goal = ServiceGoalFactory(metric_key="testing.fake_pct", target=90)

    evaluation, history = goal_history(goal=goal, now=now, count=3)

    assert (evaluation.value, evaluation.previous_value, evaluation.status) == (80, 95, GoalStatus.MISSED)
    assert evaluation == goal_evaluate(goal=goal, now=now)  # the same answer as the list's evaluation
    assert [row.value for row in history] == [80, 95, 95]
    assert [row.status for row in history] == [GoalStatus.MISSED, GoalStatus.MET, GoalStatus.MET]
    assert history[0].period.start == history[1].period.end  # consecutive, no overlap
    assert len(calls) == 4 + 2  # one extra period for the oldest row's trend; then goal_evaluate


@pytest.mark.django_db
def test_measuring_twice_on_one_day_keeps_one_row_with_the_latest_figure(fake_metric):
    values, _ = fake_metric
    now = timezone.now()
    goal = ServiceGoalFactory(metric_key="testing.fake_pct", target=90)
    values.update(boundary=now, current=85, previous=85)
    goal_measure(goal=goal, now=now)
    values.update(current=92)
    goal_measure(goal=goal, now=now)

    measurement = GoalMeasurement.objects.get(goal=goal)
    assert (measurement.value, measurement.status) == (92, GoalStatus.MET)
    assert measurement.target == 90
