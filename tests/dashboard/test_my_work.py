"""A staff member's "My work" is composed of what each pillar registers (servicedesk.panels.my_work)."""

from __future__ import annotations

import pytest
from django.urls import reverse

from recovery.models import Incident
from servicedesk import panels
from tests.factories import ServiceGoalFactory, UserFactory, open_incident

pytestmark = pytest.mark.django_db

URL = reverse("my_work")
HEADINGS = ("Today's checklists", "Goals to acknowledge", "Incidents to put right")


def test_each_pillars_part_is_shown_in_the_registered_order(staff_client):
    assert [work.key for work in panels.my_work] == ["checklists", "goals", "incidents"]
    html = staff_client.get(URL).content.decode()
    positions = [html.index(heading) for heading in HEADINGS]
    assert positions == sorted(positions)


def test_a_pillars_lists_reach_the_page_for_this_person_only(staff_client, staff):
    mine, theirs = open_incident(), open_incident()
    Incident.objects.filter(pk=mine.pk).update(assignee=staff)
    Incident.objects.filter(pk=theirs.pk).update(assignee=UserFactory())
    ServiceGoalFactory(title="Answer the phone within a minute")
    response = staff_client.get(URL)
    assert list(response.context["my_incidents"]) == [mine]
    assert [goal.title for goal in response.context["goals_to_acknowledge"]] == [
        "Answer the phone within a minute"
    ]
    html = response.content.decode()
    assert mine.reference in html
    assert theirs.reference not in html


def test_a_pillar_that_registers_nothing_leaves_no_trace_on_the_page(staff_client):
    work = next(w for w in panels.my_work if w.key == "incidents")
    panels.my_work.unregister("incidents")
    try:
        html = staff_client.get(URL).content.decode()
    finally:
        panels.my_work.register(work.key, work, order=30)
    assert "Incidents to put right" not in html
    assert "Today's checklists" in html


@pytest.mark.parametrize(("role", "status"), [("anonymous", 302), ("staff", 200), ("manager", 200)])
def test_my_work_is_for_the_whole_team_and_not_for_visitors(client, role, status):
    if role != "anonymous":
        client.force_login(UserFactory(manager=role == "manager"))
    response = client.get(URL)
    assert response.status_code == status
    if role == "anonymous":
        assert response["Location"].startswith(reverse("login"))
