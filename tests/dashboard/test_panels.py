"""The dashboard composes what pillars register (servicedesk.panels); it knows none of their tables."""

from __future__ import annotations

import csv
import io
import logging

import pytest
from django.urls import reverse

from servicedesk import panels, registry
from servicedesk.panels import AttentionItem, AttentionList, ComparisonRow, Figure
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

URL = reverse("dashboard")


@pytest.fixture
def contributed():
    """Register test contributions; take them out again afterwards."""
    added: list[tuple[registry.Registry, str]] = []

    def add(target: registry.Registry, name: str, item, order: int = 100):
        target.register(name, item, order=order)
        added.append((target, name))

    yield add
    for target, name in added:
        target.unregister(name)


def _parking_panel(contributed) -> None:
    contributed(
        panels.panels,
        "parking",
        panels.Panel(
            key="parking",
            title="Parking for patients",
            figures=lambda scope: [Figure(label="Free spaces at 9:00", value=12, previous=8)],
            link=lambda scope: "/parking/",
            link_label="All car parks",
        ),
    )
    contributed(
        panels.comparisons,
        "parking_by_site",
        panels.Comparison(
            key="parking_by_site",
            title="Complaints about parking",
            rows=lambda scope: [ComparisonRow(key="north", label="North car park", current=3, previous=1)],
            panel="parking",
            first_column="Car park",
            empty="None.",
        ),
    )


def test_a_panel_a_pillar_registers_is_shown_with_its_figures_and_comparison(manager_client, contributed):
    _parking_panel(contributed)
    response = manager_client.get(URL)
    html = response.content.decode()
    assert "Parking for patients" in html
    assert "Free spaces at 9:00" in html
    assert 'href="/parking/"' in html
    assert "Complaints about parking" in html
    assert "North car park" in html
    assert response.context["parking"][0].value == 12


def test_the_csv_export_has_every_registered_panel_and_comparison(manager_client, contributed):
    _parking_panel(contributed)
    body = manager_client.get(reverse("dashboard_export")).content.decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(body)))
    assert ["parking", "Free spaces at 9:00", "12", "8", "count", ""] in rows
    assert ["complaints about parking", "North car park", "3", "1", "count", ""] in rows


def test_attention_lists_follow_the_registered_order_across_pillars(manager_client, contributed):
    contributed(
        panels.attention,
        "parking_first",
        panels.Attention(
            key="parking_first",
            items=lambda scope: AttentionList(
                key="parking_first", title="Blocked bays", total=1, items=[AttentionItem(label="Bay 4")]
            ),
        ),
        order=1,
    )
    keys = [listing.key for listing in manager_client.get(URL).context["attention"]]
    assert keys[0] == "parking_first"
    assert keys[1:] == [
        "overdue_incidents",
        "complaints_acknowledgement_overdue",
        "unassigned_incidents",
        "failed_checks",
        "missed_checks",
        "open_patterns",  # learning's, between delivery's and recovery's feedback list
        "unanswered_feedback",
        "overdue_drills",
        "protocol_reviews",
    ]


def test_a_failing_contribution_is_left_out_and_logged_not_a_broken_page(manager_client, contributed, caplog):
    def broken(scope):
        raise RuntimeError("parking system is down")

    contributed(panels.panels, "broken", panels.Panel(key="broken", title="Broken", figures=broken, link=str))
    contributed(panels.attention, "broken_list", panels.Attention(key="broken_list", items=broken))
    with caplog.at_level(logging.ERROR, logger="dashboard.board"):
        response = manager_client.get(URL)
    assert response.status_code == 200
    assert response.context["broken"] == []
    assert "broken_list" not in {listing.key for listing in response.context["attention"]}
    assert {"overdue_incidents", "missed_checks"} <= {
        listing.key for listing in response.context["attention"]
    }
    assert "dashboard contribution broken failed" in caplog.text


def test_registering_the_same_name_again_replaces_it():
    names = registry.Registry("test things")
    names.register("a", 1, order=2)
    names.register("b", 2, order=1)
    names.register("a", 3, order=2)
    assert list(names) == [2, 3]


@pytest.mark.parametrize("role", ["anonymous", "staff"])
def test_only_managers_see_what_pillars_contribute(client, contributed, role):
    _parking_panel(contributed)
    if role == "staff":
        client.force_login(UserFactory())
    response = client.get(URL)
    assert response.status_code in (302, 403)
    assert b"Parking for patients" not in response.content


def test_goals_are_designs_section_composed_from_the_registry(manager_client):
    from design.attainment import GoalAttainment, goal_export_rows

    goals = panels.sections.names()
    assert "goals" in goals
    section = next(s for s in panels.sections if s.key == "goals")
    assert section.export is goal_export_rows
    assert isinstance(manager_client.get(URL).context["goals"], GoalAttainment)


def test_a_section_a_pillar_registers_is_in_the_page_context_and_the_csv(manager_client, contributed):
    contributed(
        panels.sections,
        "parking_bays",
        panels.Section(
            key="parking_bays",
            compute=lambda scope: {"free": 12, "days": scope.days},
            empty=dict,
            export=lambda value: [["parking bays", "free", value["free"], "", "count", ""]],
        ),
    )
    assert manager_client.get(URL).context["parking_bays"] == {"free": 12, "days": 30}
    body = manager_client.get(reverse("dashboard_export")).content.decode("utf-8-sig")
    assert ["parking bays", "free", "12", "", "count", ""] in list(csv.reader(io.StringIO(body)))


def test_a_failing_section_shows_its_empty_value_and_is_logged(manager_client, caplog):
    def broken(scope):
        raise RuntimeError("goal store is down")

    panels.sections.register("goals", panels.Section(key="goals", compute=broken, empty=lambda: None))
    try:
        with caplog.at_level(logging.ERROR, logger="dashboard.board"):
            response = manager_client.get(URL)
        assert response.status_code == 200
        assert response.context["goals"] is None
        assert "dashboard contribution goals failed" in caplog.text
    finally:
        from design import contributions

        contributions.register_all()  # design's own section back
