"""On a phone, staff log an incident in one tap from any page, and the incident list reads as
short stacked rows rather than a squeezed six-column table."""

from __future__ import annotations

from django.urls import reverse
from django.utils import timezone

from recovery.services.incidents import incident_open
from servicedesk.demo import DEMO_PASSWORD
from servicedesk.models import User
from servicedesk.roles import Role
from tests.factories import TouchpointFactory, UserFactory


def test_log_an_incident_is_one_tap_from_every_staff_page_on_a_phone(phone_page, log_in):
    log_in(phone_page, UserFactory(role=Role.STAFF))
    for path in (reverse("my_work"), reverse("recovery:incident_list"), reverse("design:goal_list")):
        phone_page.goto(path)
        shortcut = phone_page.get_by_role("navigation", name="Main").get_by_role(
            "link", name="Log an incident"
        )
        assert shortcut.is_visible(), f"no visible 'Log an incident' on {path} with the menu closed"
    shortcut.click()
    phone_page.wait_for_load_state()
    assert phone_page.url.endswith(reverse("recovery:incident_log"))


def test_the_incident_list_on_a_phone_is_stacked_rows_a_thumb_can_scroll(phone_page, log_in, shot):
    desk = TouchpointFactory(name="Front desk — Riverside")
    for n in range(12):
        incident_open(
            title=f"Phone line engaged all morning, patient {n} could not book",
            description="Rang from 8:00 to 8:40.",
            category="access",
            severity="medium",
            touchpoint=desk,
            now=timezone.now(),
        )
    log_in(phone_page, UserFactory(role=Role.STAFF, location=desk.location))  # sees its site's incidents
    phone_page.goto(reverse("recovery:incident_list"))
    heights = phone_page.locator("table.incident-table tbody tr").evaluate_all(
        "rows => rows.map(row => row.getBoundingClientRect().height)"
    )
    shot(phone_page, "incident list on a phone")
    assert len(heights) == 12
    assert max(heights) <= 200, f"rows are {max(heights)} px tall on a phone"
    # Each cell says what it is without the (hidden) column headers.
    labels = (
        phone_page.locator("table.incident-table tbody tr")
        .first.locator("td[data-label]")
        .evaluate_all("cells => cells.map(cell => getComputedStyle(cell, '::before').content)")
    )
    assert labels == ['"Where "', '"Assignee "']


def test_the_managers_lists_are_stacked_rows_on_a_phone(demo, phone_page, log_in):
    log_in(phone_page, User.objects.get(username="manager"), DEMO_PASSWORD)
    for name in (
        "team_list",
        "invitations:invitation_list",
        "feedback:survey_list",
        "recovery:incident_list",
    ):
        phone_page.goto(reverse(name))
        display = phone_page.locator("table.table-stack tbody tr").first.evaluate(
            "row => getComputedStyle(row).display"
        )
        assert display == "flex", f"{name}: rows are still table rows on a phone"
