"""The patterns list and page (the team reads them), answering with a change, closing, and the rule
(managers only): who may do what, the forms' refusals, and queries that stay flat as patterns grow."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from learning import services
from learning.models import Change, LearningRules, Pattern
from tests.factories import ChecklistItemFactory, ServiceGoalFactory, TouchpointFactory, open_incident

pytestmark = pytest.mark.django_db


def _pattern(touchpoint=None, *, incidents: int = 3) -> Pattern:
    touchpoint = touchpoint or TouchpointFactory()
    now = timezone.now()
    for n in range(incidents):
        open_incident(now=now - timedelta(days=n + 1), touchpoint=touchpoint)
    services.patterns_detect(now=now)
    return Pattern.objects.get(touchpoint=touchpoint)


@pytest.fixture
def pattern(db):
    return _pattern()


def _urls(pattern: Pattern, change: Change) -> dict[str, str]:
    return {
        "list": reverse("learning:pattern_list"),
        "detail": reverse("learning:pattern_detail", args=[pattern.pk]),
        "change_create": reverse("learning:change_create", args=[pattern.pk]),
        "change_update": reverse("learning:change_update", args=[change.pk]),
        "rules": reverse("learning:rules"),
    }


@pytest.mark.parametrize(
    ("who", "expected"),
    [
        ("anonymous", {"list": 302, "detail": 302, "change_create": 302, "change_update": 302, "rules": 302}),
        ("staff", {"list": 200, "detail": 200, "change_create": 403, "change_update": 403, "rules": 403}),
        ("manager", {"list": 200, "detail": 200, "change_create": 200, "change_update": 200, "rules": 200}),
    ],
)
def test_the_team_reads_patterns_and_only_managers_answer_them(
    client, request, pattern, manager, who, expected
):
    change = services.change_record(
        pattern=pattern,
        kind="goal",
        description="A goal.",
        made_on=timezone.localdate(),
        by=manager,
        now=timezone.now(),
    )
    if who != "anonymous":
        client = request.getfixturevalue(f"{who}_client")
    for name, url in _urls(pattern, change).items():
        assert client.get(url).status_code == expected[name], name
    close = client.post(reverse("learning:pattern_close", args=[pattern.pk]))
    assert close.status_code == {"anonymous": 302, "staff": 403, "manager": 302}[who]
    pattern.refresh_from_db()
    assert (pattern.status == Pattern.Status.CLOSED) is (who == "manager")


def test_the_pattern_page_lists_the_incidents_behind_it(manager_client, pattern):
    page = manager_client.get(reverse("learning:pattern_detail", args=[pattern.pk])).content.decode()
    for incident in pattern.incidents.all():
        assert incident.reference in page
    assert "No change yet" in page


def test_a_manager_answers_a_pattern_with_a_checklist_item(manager_client, pattern):
    item = ChecklistItemFactory(text="Tell waiting patients about delays")
    response = manager_client.post(
        reverse("learning:change_create", args=[pattern.pk]),
        {
            "kind": "checklist_item",
            "description": "Desk tells patients.",
            "made_on": timezone.localdate(),
            "checklist_item": item.pk,
        },
    )
    assert response.status_code == 302
    change = Change.objects.get()
    assert change.checklist_item == item
    pattern.refresh_from_db()
    assert pattern.status == Pattern.Status.ANSWERED
    page = manager_client.get(reverse("learning:pattern_detail", args=[pattern.pk])).content.decode()
    assert "Too soon to tell" in page


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"kind": "protocol", "description": "  ", "made_on": "2026-01-01"}, "Say what changed."),
        ({"kind": "protocol", "description": "x", "made_on": "2099-01-01"}, "once it has been made"),
        ({"kind": "protocol", "description": "x", "made_on": "yesterday"}, "Enter a date."),
        ({"kind": "nonsense", "description": "x", "made_on": "2026-01-01"}, "Select a valid choice"),
        ({"kind": "protocol", "description": "x", "made_on": "2026-01-01", "goal": "GOAL"}, "another kind"),
    ],
)
def test_a_refused_change_says_why_and_writes_nothing(manager_client, pattern, data, message):
    if data.get("goal") == "GOAL":
        data["goal"] = ServiceGoalFactory().pk
    response = manager_client.post(reverse("learning:change_create", args=[pattern.pk]), data)
    assert response.status_code == 400
    assert message in response.content.decode()
    assert not Change.objects.exists()
    pattern.refresh_from_db()
    assert pattern.status == Pattern.Status.OPEN


def test_a_change_recorded_before_its_object_links_it_later(manager_client, manager, pattern):
    change = services.change_record(
        pattern=pattern,
        kind="goal",
        description="Set a goal.",
        made_on=timezone.localdate(),
        by=manager,
        now=timezone.now(),
    )
    page = manager_client.get(reverse("learning:pattern_detail", args=[pattern.pk])).content.decode()
    assert reverse("design:goal_create") in page
    goal = ServiceGoalFactory()
    response = manager_client.post(
        reverse("learning:change_update", args=[change.pk]),
        {"kind": "goal", "description": "Set a goal.", "made_on": change.made_on, "goal": goal.pk},
    )
    assert response.status_code == 302
    change.refresh_from_db()
    assert change.goal == goal
    goal_page = manager_client.get(reverse("design:goal_detail", args=[goal.pk])).content.decode()
    assert "too soon to tell" in goal_page
    assert reverse("learning:pattern_detail", args=[pattern.pk]) in goal_page


def test_a_closed_pattern_takes_no_change(manager_client, manager, pattern):
    services.pattern_close(pattern=pattern, by=manager, now=timezone.now())
    response = manager_client.post(
        reverse("learning:change_create", args=[pattern.pk]),
        {"kind": "protocol", "description": "x", "made_on": timezone.localdate()},
    )
    assert response.status_code == 302
    assert not Change.objects.exists()


def test_a_manager_sets_the_rule_and_a_bad_one_is_refused(manager_client):
    refused = manager_client.post(reverse("learning:rules"), {"threshold": 1, "window_days": 30})
    assert refused.status_code == 400
    assert "at least 2 incidents" in refused.content.decode()
    assert not LearningRules.objects.exists()
    saved = manager_client.post(reverse("learning:rules"), {"threshold": 4, "window_days": 60})
    assert saved.status_code == 302
    assert services.rules() == services.Rules(threshold=4, window_days=60)


def test_the_list_says_so_when_nothing_recurs(staff_client):
    assert "Nothing is recurring" in staff_client.get(reverse("learning:pattern_list")).content.decode()


def test_the_pattern_list_runs_the_same_number_of_queries_as_patterns_grow(manager_client, count_queries):
    for _ in range(2):
        _pattern(incidents=3)

    def load():
        assert manager_client.get(reverse("learning:pattern_list")).status_code == 200

    load()
    small = count_queries(load)
    for _ in range(5):
        _pattern(incidents=4)
    assert count_queries(load) == small


def test_the_pattern_page_runs_the_same_number_of_queries_as_changes_grow(
    manager_client, manager, pattern, count_queries
):
    def load():
        assert manager_client.get(reverse("learning:pattern_detail", args=[pattern.pk])).status_code == 200

    def change():
        services.change_record(
            pattern=pattern,
            kind="checklist_item",
            description="x",
            made_on=timezone.localdate(),
            by=manager,
            now=timezone.now(),
            linked=ChecklistItemFactory(),
        )

    change()
    load()
    one = count_queries(load)
    change()
    # Each change is measured with its own three queries (incidents, FFT, nothing for a place's theme).
    assert count_queries(load) <= one + 3
