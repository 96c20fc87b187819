"""The per-site daily summaries behind the comparison: each pillar's counts per site and day, kept
by the feedback sweep, rebuilt idempotently, at a cost that does not grow with the history."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db.models import Sum
from django.utils import timezone

from dashboard.comparison.summaries import site_days_refresh
from dashboard.models import SiteDay
from dashboard.tasks import refresh_feedback_summaries
from design.models import GoalMeasurement, GoalStatus
from recovery.models import Incident
from tests.factories import ChecklistRunFactory, LocationFactory, ServiceGoalFactory, open_incident

pytestmark = pytest.mark.django_db


def _recent_days() -> list:
    today = timezone.localdate()
    return [today - timedelta(days=i) for i in range(3)]


def _incident(location, *, logged_hours_ago: float, acknowledged_hours_ago: float | None = None, **fields):
    now = timezone.now()
    incident = open_incident(location=location, now=now - timedelta(hours=logged_hours_ago))
    Incident.objects.filter(pk=incident.pk).update(
        created_at=now - timedelta(hours=logged_hours_ago),
        acknowledged_at=None
        if acknowledged_hours_ago is None
        else now - timedelta(hours=acknowledged_hours_ago),
        **fields,
    )
    return incident


def _totals(location) -> dict:
    fields = [f.name for f in SiteDay._meta.fields if f.name not in {"id", "day", "location", "refreshed_at"}]
    return SiteDay.objects.filter(location=location).aggregate(**{f: Sum(f) for f in fields})


def test_incidents_are_counted_per_site_with_the_sum_and_squares_of_response_times():
    ashford, brook = LocationFactory(), LocationFactory()
    _incident(ashford, logged_hours_ago=3, acknowledged_hours_ago=1)  # 2 h = 7,200 s
    _incident(ashford, logged_hours_ago=2, acknowledged_hours_ago=1)  # 1 h = 3,600 s
    _incident(
        ashford,
        logged_hours_ago=2,
        loop_answered_at=timezone.now() - timedelta(minutes=5),
        patient_recovered=True,
    )
    _incident(brook, logged_hours_ago=1, loop_answered_at=timezone.now(), patient_recovered=False)
    site_days_refresh(days=_recent_days(), now=timezone.now())
    a, b = _totals(ashford), _totals(brook)
    assert a["incidents_opened"] == 3
    assert a["incidents_responded"] == 2
    assert a["response_seconds"] == pytest.approx(7200 + 3600)
    assert a["response_seconds_squared"] == pytest.approx(7200**2 + 3600**2)  # 64,800,000
    assert (a["recovery_answered"], a["recovery_succeeded"]) == (1, 1)
    assert (b["recovery_answered"], b["recovery_succeeded"], b["incidents_responded"]) == (1, 0, 0)


def test_checklist_runs_and_goal_days_are_counted_per_site():
    site = LocationFactory()
    now = timezone.now()
    ChecklistRunFactory(template__location=site, status="missed", due_at=now - timedelta(minutes=30))
    ChecklistRunFactory(
        template__location=site,
        status="completed",
        completed_at=now - timedelta(minutes=40),
        due_at=now - timedelta(minutes=20),
    )
    goal = ServiceGoalFactory(location=site)
    for days_ago, status in ((0, GoalStatus.MET), (1, GoalStatus.MISSED), (2, GoalStatus.NO_DATA)):
        GoalMeasurement.objects.create(
            goal=goal,
            measured_on=timezone.localdate() - timedelta(days=days_ago),
            measured_at=now,
            goal_version=1,
            period_start=now,
            period_end=now,
            comparator="gte",
            target=90,
            status=status,
        )
    site_days_refresh(days=_recent_days(), now=now)
    totals = _totals(site)
    assert (totals["checks_completed"], totals["checks_missed"]) == (1, 1)
    assert (totals["goal_days_measured"], totals["goal_days_met"]) == (2, 1)  # no-data days not measured


def test_refreshing_twice_does_not_double_the_counts():
    site = LocationFactory()
    _incident(site, logged_hours_ago=1, acknowledged_hours_ago=0.5)
    site_days_refresh(days=_recent_days(), now=timezone.now())
    site_days_refresh(days=_recent_days(), now=timezone.now())
    assert _totals(site)["incidents_opened"] == 1


def test_the_summary_sweep_keeps_the_site_days_too():
    site = LocationFactory()
    _incident(site, logged_hours_ago=0.5, acknowledged_hours_ago=0.25)
    refresh_feedback_summaries()
    assert _totals(site)["incidents_responded"] == 1


def test_a_sweep_of_todays_data_costs_the_same_queries_however_long_the_history(count_queries):
    site = LocationFactory()
    _incident(site, logged_hours_ago=1, acknowledged_hours_ago=0.5)
    days = _recent_days()[:2]

    def refresh() -> None:
        site_days_refresh(days=days, now=timezone.now())

    short = count_queries(refresh)
    for days_ago in range(10, 400, 13):  # a year of older incidents at several sites
        _incident(LocationFactory(), logged_hours_ago=24 * days_ago, acknowledged_hours_ago=24 * days_ago - 1)
    long = count_queries(refresh)
    assert short == long


def test_refresh_dashboard_all_rebuilds_the_site_days_of_old_history():
    from io import StringIO

    from django.core.management import call_command

    site = LocationFactory()
    _incident(site, logged_hours_ago=24 * 200, acknowledged_hours_ago=24 * 200 - 2)  # months ago
    out = StringIO()
    call_command("refresh_dashboard", "--all", stdout=out)
    assert "per-site summaries" in out.getvalue()
    assert _totals(site)["incidents_responded"] == 1
