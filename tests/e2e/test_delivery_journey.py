"""A receptionist completes the morning premises check on a phone; a failed critical item is reported."""

from __future__ import annotations

import re

import pytest
from django.apps import apps
from playwright.sync_api import expect

from delivery.models import ChecklistResult, ChecklistRun
from delivery.signals import check_failed
from tests.factories import LocationFactory, TouchpointFactory, UserFactory


@pytest.fixture
def reported():
    calls: list[tuple[int, int]] = []

    def receiver(sender, result_id: int, run_id: int, **kwargs) -> None:
        calls.append((result_id, run_id))

    check_failed.connect(receiver, dispatch_uid="e2e.delivery.reported")
    yield calls
    check_failed.disconnect(dispatch_uid="e2e.delivery.reported")


def item(page, text):
    return page.locator(".checklist-item", has_text=text)


def test_staff_member_completes_the_morning_premises_check_on_a_phone(
    phone_page, page, log_in, shot, assert_accessible, morning_check, reported
):
    run, receptionist = morning_check
    phone = phone_page
    log_in(phone, receptionist)
    expect(phone.get_by_role("heading", name="Today's checklists")).to_be_visible()
    phone.get_by_role("link", name="Morning premises check").click()
    expect(phone.get_by_text("0 of 3 items recorded")).to_be_visible()
    assert_accessible(phone)
    shot(phone, "run-page")

    item(phone, "Entrance and ramp clear").get_by_role("button", name="Pass").click()
    expect(item(phone, "Entrance and ramp clear").get_by_text("Saved: Pass")).to_be_visible()
    expect(phone.get_by_text("1 of 3 items recorded")).to_be_visible()
    expect(phone.locator("#run-status")).to_have_text("In progress")

    # A failure needs a note: the first tap is refused with the reason, nothing is saved.
    exits = item(phone, "Fire exits clear and unlocked")
    exits.get_by_role("button", name="Fail").click()
    expect(item(phone, "Fire exits clear").get_by_text("Say what is wrong in the note")).to_be_visible()
    assert reported == []
    item(phone, "Fire exits clear").get_by_label("Note").fill("Delivery boxes against the back exit")
    item(phone, "Fire exits clear").get_by_role("button", name="Fail").click()
    expect(item(phone, "Fire exits clear").get_by_text("Saved: Fail")).to_be_visible()

    item(phone, "Hearing loop on").get_by_role("button", name="N/A").click()
    expect(phone.get_by_text("3 of 3 items recorded")).to_be_visible()
    shot(phone, "all-recorded")

    # Saved as it went: a reload (or a lost connection) keeps every answer.
    phone.reload()
    expect(phone.get_by_text("3 of 3 items recorded")).to_be_visible()
    expect(item(phone, "Fire exits clear").get_by_label("Note")).to_have_value(
        "Delivery boxes against the back exit"
    )
    assert phone.evaluate("document.documentElement.scrollWidth") <= 390  # no sideways scrolling on a phone

    phone.get_by_role("button", name="Complete checklist").click()
    expect(phone.get_by_role("status")).to_contain_text("Morning premises check is complete")
    expect(phone.get_by_role("listitem").filter(has_text="Morning premises check")).to_contain_text(
        "Completed"
    )
    shot(phone, "my-work-after")

    run.refresh_from_db()
    assert run.status == ChecklistRun.Status.COMPLETED
    assert run.completed_by == receptionist
    failed = ChecklistResult.objects.get(run=run, outcome="fail")
    assert reported == [(failed.pk, run.pk)]

    # Recovery turned the failed critical item into one incident, and the manager sees it.
    incident = apps.get_model("recovery", "Incident").objects.get(source_check=failed)
    log_in(page, UserFactory(manager=True))
    page.goto("/recovery/incidents/")
    expect(page.get_by_text(incident.reference)).to_be_visible()
    shot(page, "manager-sees-incident")


def test_without_javascript_the_run_page_still_saves_each_tap(
    browser, live_server, transactional_db, morning_check
):
    run, receptionist = morning_check
    context = browser.new_context(
        base_url=live_server.url, java_script_enabled=False, viewport={"width": 390, "height": 844}
    )
    page = context.new_page()
    try:
        page.goto("/accounts/login/")
        page.get_by_label("Username").fill(receptionist.username)
        page.get_by_label("Password").fill("correct horse battery")
        page.get_by_role("button", name="Log in").click()
        page.goto(f"/delivery/runs/{run.pk}/")
        item(page, "Hearing loop on").get_by_role("button", name="Pass").click()
        expect(page.get_by_text("1 of 3 items recorded")).to_be_visible()
        assert ChecklistResult.objects.get(run=run).item.text == "Hearing loop on"
    finally:
        context.close()


def test_manager_builds_a_checklist_reorders_it_and_previews_it(page, log_in, shot, assert_accessible):
    riverside = LocationFactory(name="Riverside Surgery")
    TouchpointFactory(name="Waiting room — Riverside", location=riverside)
    log_in(page, UserFactory(manager=True))
    page.goto("/delivery/")
    assert_accessible(page)
    page.get_by_role("link", name="New checklist").click()
    page.get_by_label("Title").fill("Waiting-room check")
    page.get_by_label("Dimension").select_option(label="Place")
    page.get_by_label("Touchpoint").select_option(label="Waiting room — Riverside")
    page.get_by_label("Location").select_option(label="Riverside Surgery")
    page.get_by_label("Responsible role").select_option(label="Staff")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_role("heading", name="Waiting-room check", level=1)).to_be_visible()

    for text in ("Call screen working", "Floor dry"):
        page.locator("#id_text").fill(text)
        page.get_by_role("button", name="Add item").click()
    page.get_by_role("button", name=re.compile(r"^Up\s*: Floor dry$")).click()
    items = page.locator("#items li .fw-semibold")
    expect(items).to_have_text(["Floor dry", "Call screen working"])
    assert_accessible(page)
    shot(page, "template")

    page.get_by_role("link", name="Preview").click()
    expect(page.get_by_text("Nothing here is saved")).to_be_visible()
    expect(page.locator(".checklist-item h2")).to_have_text(["Floor dry", "Call screen working"])

    page.goto("/delivery/training/")
    assert_accessible(page)
