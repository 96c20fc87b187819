"""The demo manager opens the dashboard and answers the four questions without leaving it:
which goals are missed, which touchpoint and patient group are least satisfied, which incidents
are overdue, which checks were missed."""

from __future__ import annotations

from datetime import timedelta

from django.core.management import call_command
from django.utils import timezone
from playwright.sync_api import expect

from recovery.models import Incident
from servicedesk.demo import DEMO_PASSWORD
from servicedesk.models import Touchpoint, User
from tests.factories import (
    ChecklistItemFactory,
    ChecklistRunFactory,
    ChecklistTemplateFactory,
    ServiceGoalFactory,
    open_incident,
)


def test_the_demo_manager_answers_the_four_questions_from_the_dashboard(
    page, log_in, shot, assert_accessible
):
    call_command("seed_demo", "--force", verbosity=0)  # pytest-django runs with DEBUG off
    call_command("refresh_dashboard", "--all", verbosity=0)
    manager = User.objects.get(username="manager")
    # Today's trouble, on top of the demo's history, so that every question has an answer.
    phone = Touchpoint.objects.get(name="Main phone line")
    overdue = open_incident(
        title="Patient cut off twice on the main line",
        severity="high",
        category="systems",
        touchpoint=phone,
        now=timezone.now() - timedelta(days=200),  # the longest overdue, so first in its list
    )
    missed = ChecklistTemplateFactory(
        title="Voicemail cleared before opening", location=None, touchpoint=phone
    )
    ChecklistItemFactory(template=missed, text="Voicemail box empty", is_critical=True)
    ChecklistRunFactory(  # critical and the latest missed, so first in its list
        template=missed, location=None, status="missed", due_at=timezone.now() - timedelta(minutes=30)
    )
    ServiceGoalFactory(
        title="Calls answered within three rings", owner=manager, metric_key="tests.nothing_measures_this"
    )

    log_in(page, manager, password=DEMO_PASSWORD)
    expect(page.get_by_role("heading", name="Practice dashboard")).to_be_visible()
    shot(page, "dashboard")

    # 1. Which goals are missed? The goal table lists them first, each with its status spelled out.
    goals = page.locator("#goals-table")
    expect(goals).to_be_visible()
    statuses = goals.locator("tbody tr").evaluate_all("rows => rows.map(r => r.dataset.status)")
    order = {"missed": 0, "at_risk": 1, "no_data": 2, "met": 3}
    assert statuses == sorted(statuses, key=order.__getitem__)
    expect(goals.get_by_role("row", name="Calls answered within three rings")).to_contain_text("No data")
    if "missed" in statuses:
        expect(goals.locator("tbody tr").first).to_contain_text("Missed")

    # 2. Which touchpoint and which patient group are least satisfied? First rows of the breakdowns.
    by_touchpoint = page.get_by_role("table", name="Satisfaction by touchpoint")
    by_group = page.get_by_role("table", name="Satisfaction by patient group")
    expect(by_touchpoint.locator("tbody tr").first).to_contain_text("%")
    expect(by_group.locator("tbody tr").first).to_contain_text("%")
    shot(page, "satisfaction")

    # 3. Which incidents are overdue?  4. Which checks were missed?
    attention = page.get_by_role("region", name="Needs attention today")
    overdue_list = attention.get_by_role("region", name="Overdue incidents")
    expect(overdue_list.get_by_role("link").nth(1)).to_have_text(
        f"{overdue.reference} Patient cut off twice on the main line"
    )
    expect(overdue_list).to_contain_text(str(Incident.objects.overdue(timezone.now()).count()))
    missed_list = attention.get_by_role("region", name="Missed checks")
    expect(missed_list.get_by_role("link").nth(1)).to_have_text("Voicemail cleared before opening")

    # Narrow to the phone line: the figures follow, still on the dashboard.
    page.get_by_label("Touchpoint", exact=True).select_option(label="Main phone line")
    page.get_by_role("button", name="Show").click()
    expect(page.locator(".dashboard-period")).to_contain_text("Main phone line")
    expect(attention.get_by_role("link", name=f"{overdue.reference} Patient cut off twice")).to_be_visible()
    shot(page, "filtered-by-phone")
    assert_accessible(page)


def test_a_manager_on_a_phone_sees_the_attention_list_and_a_readable_dashboard(phone_page, log_in, shot):
    manager = User.objects.create_user(username="maya", password="correct horse battery", first_name="Maya")
    from django.contrib.auth.models import Group

    manager.groups.add(Group.objects.get_or_create(name="Managers")[0])
    open_incident(title="Complaint about the waiting room", now=timezone.now() - timedelta(days=3))
    log_in(phone_page, manager)
    expect(phone_page.get_by_role("heading", name="Needs attention today")).to_be_visible()
    expect(phone_page.get_by_role("link", name="Complaint about the waiting room")).to_be_visible()
    width = phone_page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390, "the dashboard scrolls sideways on a phone"
    shot(phone_page, "dashboard-phone")
