"""The monthly report says what the practice did in the month: incidents put right (the most serious
first, with what was done), procedures revised (with what changed) and goals set or changed."""

from __future__ import annotations

from datetime import datetime, time, timedelta

import pytest
import time_machine
from django.urls import reverse
from django.utils import timezone

from dashboard.board import actions_taken
from dashboard.reports import month_scope
from delivery.services import protocol_create, protocol_revise
from design.models import GoalChange
from recovery.services.incidents import incident_acknowledge, incident_open, incident_resolve
from tests.factories import ServiceGoalFactory

pytestmark = pytest.mark.django_db


def _in_last_month(day: int) -> datetime:
    first = (timezone.localdate().replace(day=1) - timedelta(days=1)).replace(day=1)
    return timezone.make_aware(datetime.combine(first + timedelta(days=day - 1), time(11)))


def _put_right(title: str, severity: str, *, at: datetime, by, summary: str = "Rang the patient back."):
    incident = incident_open(
        title=title, description=title, category="communication", severity=severity, touchpoint=None, now=at
    )
    incident = incident_acknowledge(incident=incident, by=by, now=at)
    return incident_resolve(incident=incident, by=by, summary=summary, root_cause="Busy.", now=at)


def _actions(client) -> dict:
    response = client.get(reverse("dashboard_report"))  # last month by default
    assert response.status_code == 200
    return {listing.key: listing for listing in response.context["actions"]}, response.content.decode()


def test_incidents_put_right_in_the_month_are_listed_most_serious_first_with_what_was_done(
    manager_client, manager
):
    _put_right("Phone unanswered", "low", at=_in_last_month(3), by=manager)
    _put_right(
        "Wrong letter sent", "critical", at=_in_last_month(5), by=manager, summary="Apologised in person."
    )
    _put_right("Queue at the desk", "medium", at=_in_last_month(9), by=manager)
    _put_right("Resolved this month", "critical", at=timezone.now(), by=manager)
    open_only = incident_open(
        description="Still open",
        category="communication",
        severity="high",
        touchpoint=None,
        now=_in_last_month(2),
    )

    actions, page = _actions(manager_client)
    put_right = actions["incidents_put_right"]
    assert put_right.total == 3
    # The two most serious (a two-page brief), and how many more.
    assert [item.label.split(" ", 1)[1] for item in put_right.items] == [
        "Wrong letter sent",
        "Queue at the desk",
    ]
    assert "and 1 more" in page
    assert put_right.items[0].detail == "Apologised in person."
    assert "Actions taken" in page
    assert "Wrong letter sent</span> — Apologised in person." in page
    assert open_only.reference not in page


def test_a_revised_procedure_is_an_action_and_its_first_version_is_not(manager_client, manager):
    with time_machine.travel(_in_last_month(4), tick=False):
        protocol = protocol_create(
            title="Answering the phone",
            body="Answer by the third ring.",
            by=manager,
            owner=manager,
            review_by=timezone.localdate() + timedelta(days=90),
        )
    with time_machine.travel(_in_last_month(12), tick=False):
        protocol_revise(
            protocol=protocol, body="Answer by the second ring.", change_note="Faster answer", by=manager
        )

    actions, _page = _actions(manager_client)
    revised = actions["protocols_revised"]
    assert [(item.label, item.detail) for item in revised.items] == [
        ("Answering the phone, version 2", "Faster answer")
    ]


def test_a_goal_changed_in_the_month_says_what_changed(manager_client, manager):
    goal = ServiceGoalFactory(title="Answer the phone fast")
    GoalChange.objects.create(
        goal=goal,
        kind="edited",
        by=manager,
        at=_in_last_month(6),
        version=2,
        changes={"target": ["80", "85"]},
    )
    GoalChange.objects.create(goal=goal, kind="created", by=manager, at=timezone.now(), version=1)

    actions, _page = _actions(manager_client)
    (item,) = actions["goals_changed"].items
    assert item.label == "Answer the phone fast: edited"
    assert item.detail == "target: 80 → 85"


def test_a_month_where_nothing_was_done_says_so(manager_client):
    actions, page = _actions(manager_client)
    assert actions == {}
    assert "No incident was put right, no procedure revised and no goal changed in this period." in page


def test_the_actions_of_a_month_cost_one_query_per_pillar(
    manager_client, manager, django_assert_max_num_queries
):
    for n in range(6):
        _put_right(f"Incident {n}", "medium", at=_in_last_month(n + 1), by=manager)
    scope = month_scope(_in_last_month(1).date().replace(day=1), now=timezone.now())
    # One a list; learning's "changes now measured" also reads the manager's rule for its window.
    with django_assert_max_num_queries(6):
        listings = actions_taken(scope)
    assert (listings[0].total, len(listings[0].items), listings[0].more) == (6, 3, 3)
