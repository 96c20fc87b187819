"""Learning on pages it does not own: open patterns (with their incidents) on the dashboard and in the
weekly digest, changes and their effect in the monthly report, and on the linked goal's page."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from dashboard.board import actions_taken
from dashboard.digest import digest_context
from learning import services
from learning.contributions import attention_open_patterns
from learning.models import Pattern
from servicedesk.panels import Scope
from tests.factories import ServiceGoalFactory, TouchpointFactory, open_incident

pytestmark = pytest.mark.django_db


def _pattern(name: str = "Front desk", *, incidents: int = 3, days_ago: int = 1) -> Pattern:
    touchpoint = TouchpointFactory(name=name)
    now = timezone.now()
    for n in range(incidents):
        open_incident(now=now - timedelta(days=days_ago + n), touchpoint=touchpoint)
    services.patterns_detect(now=now - timedelta(days=days_ago, minutes=-1))
    return Pattern.objects.get(touchpoint=touchpoint)


def test_the_dashboard_shows_open_patterns_with_the_incidents_behind_them(manager_client):
    pattern = _pattern()
    page = manager_client.get(reverse("dashboard")).content.decode()
    assert "Recurring incidents" in page
    assert reverse("learning:pattern_detail", args=[pattern.pk]) in page
    for incident in pattern.incidents.all():
        assert incident.reference in page


def test_an_answered_pattern_leaves_the_dashboards_list(manager, manager_client):
    pattern = _pattern()
    services.change_record(
        pattern=pattern,
        kind="protocol",
        description="Revised.",
        made_on=timezone.localdate(),
        by=manager,
        now=timezone.now(),
    )
    listing = attention_open_patterns(Scope.last_days(now=timezone.now()))
    assert listing.total == 0


def test_the_weekly_digest_lists_open_patterns_and_their_incidents(manager):
    pattern = _pattern()
    now = timezone.now()
    monday = timezone.localdate(now) - timedelta(days=timezone.localdate(now).weekday())
    context = {**digest_context(week_of=monday, now=now), "manager": manager}
    text = render_to_string("dashboard/email/weekly_digest.txt", context)
    assert "Recurring incidents: 1" in text
    assert pattern.label in text
    assert pattern.incidents.first().reference in text


def test_the_dashboards_list_of_patterns_runs_the_same_queries_however_many(count_queries):
    scope = Scope.last_days(now=timezone.now())
    _pattern("A")
    small = count_queries(lambda: attention_open_patterns(scope))
    for n in range(6):
        _pattern(f"B{n}", incidents=4)
    assert count_queries(lambda: attention_open_patterns(scope)) == small == 2


def test_the_monthly_report_lists_changes_made_and_changes_measured_with_their_effect(manager):
    now = timezone.now()
    pattern = _pattern(days_ago=70)
    first_of_month = timezone.localdate(now).replace(day=1)
    made_on = first_of_month - timedelta(days=30)  # its 30 days after end on the last day of last month
    services.change_record(
        pattern=pattern,
        kind="checklist_item",
        description="Desk tells patients.",
        made_on=made_on,
        by=manager,
        now=now,
    )
    services.change_record(
        pattern=pattern, kind="goal", description="A new goal.", made_on=first_of_month, by=manager, now=now
    )
    scope = Scope(now=now, first_day=first_of_month, last_day=timezone.localdate(now))
    lists = {listing.key: listing for listing in actions_taken(scope)}
    made = lists["changes_made"].items
    assert [item.detail.split(" — ")[0] for item in made] == ["A new goal."]
    assert "too soon to tell" in made[0].detail
    measured = lists["changes_measured"].items
    assert [item.detail.split(" — ")[0] for item in measured] == ["Desk tells patients."]
    assert "incidents per 30 days" in measured[0].detail


def test_the_goal_page_shows_the_change_and_its_effect_once_measured(manager, manager_client):
    goal = ServiceGoalFactory()
    pattern = _pattern(days_ago=40)
    services.change_record(
        pattern=pattern,
        kind="goal",
        description="A goal.",
        made_on=timezone.localdate() - timedelta(days=35),
        by=manager,
        now=timezone.now(),
        linked=goal,
    )
    page = manager_client.get(reverse("design:goal_detail", args=[goal.pk])).content.decode()
    assert "3.0 → 0.0 incidents per 30 days" in page
