"""A practice that learns, in a real browser: a manager sees incidents recurring on the dashboard,
opens the pattern, answers it with a checklist change, and (on a phone) a member of staff reads it."""

from datetime import timedelta

from django.utils import timezone
from playwright.sync_api import expect

from learning.models import Change, Pattern
from learning.services import patterns_detect
from tests.factories import ChecklistItemFactory, TouchpointFactory, UserFactory, open_incident


def test_manager_answers_a_recurring_incident_with_a_checklist_change(
    page, phone_page, live_server, log_in, assert_accessible
):
    desk = TouchpointFactory(name="Front desk — Hillcrest")
    item = ChecklistItemFactory(text="Tell waiting patients about any delay", template__title="Morning check")
    now = timezone.now()
    for days in (9, 5, 1):
        open_incident(now=now - timedelta(days=days), touchpoint=desk)
    patterns_detect(now=now)
    manager = UserFactory(manager=True, first_name="Maya", last_name="Patel")

    log_in(page, manager)
    page.goto("/dashboard/")
    recurring = page.locator("#attention-open_patterns-list")
    expect(recurring).to_contain_text("Waiting time — Front desk — Hillcrest")
    recurring.get_by_role("link", name="Waiting time — Front desk — Hillcrest").click()
    expect(page.get_by_role("heading", name="The incidents behind it")).to_be_visible()
    assert_accessible(page)
    page.get_by_role("link", name="Answer with a change").click()
    page.get_by_label("A new or edited checklist item").check()
    page.get_by_label("What changed").fill("Reception tells waiting patients about delays.")
    page.get_by_label("Checklist item", exact=True).select_option(str(item.pk))
    assert_accessible(page)
    page.get_by_role("button", name="Save the change").click()
    expect(page.get_by_role("status").first).to_contain_text("Change recorded")
    expect(page.locator(".verdict")).to_contain_text("Too soon to tell")
    assert Change.objects.get().checklist_item == item
    assert Pattern.objects.get().status == Pattern.Status.ANSWERED

    staff = UserFactory(first_name="Sam", last_name="Okafor")
    log_in(phone_page, staff)
    phone_page.goto("/learning/patterns/")
    phone_page.get_by_role("link", name="Waiting time — Front desk — Hillcrest").click()
    expect(phone_page.locator(".change")).to_contain_text("Reception tells waiting patients about delays.")
    expect(phone_page.get_by_role("link", name="Answer with a change")).to_have_count(0)
    assert_accessible(phone_page)
