"""Across the pillars: what staff do on the floor reaches the manager's dashboard, and what the
manager puts right leaves it. Each step goes through the pages people use; the dashboard is read
as a manager reads it, so a figure that lags behind the work (a stale cache) fails here."""

from __future__ import annotations

from playwright.sync_api import Page, expect

from recovery import services
from recovery.models import Incident
from tests.factories import UserFactory


def figure(page: Page, label: str):
    """The value on the dashboard tile with this label, e.g. "Open incidents" → "2"."""
    tile = page.locator(".figure-tile").filter(has=page.get_by_text(label, exact=True))
    return tile.locator(".figure-value")


def test_staff_log_an_incident_and_fail_a_critical_check_and_the_manager_puts_it_right_from_the_dashboard(
    phone_page, page, log_in, shot, assert_accessible, morning_check
):
    services.sla_policies_ensure_defaults()  # the browser tests start from a flushed database
    _run, receptionist = morning_check
    manager = UserFactory(manager=True, first_name="Maya", last_name="Patel")

    # 0. The manager's dashboard before anyone has done anything today.
    log_in(page, manager)
    expect(page.get_by_role("heading", name="Practice dashboard")).to_be_visible()
    expect(figure(page, "Open incidents")).to_have_text("0")
    expect(figure(page, "Failed critical checks")).to_have_text("0")
    assert_accessible(page)  # a quiet practice: empty lists and figures with no data
    shot(page, "dashboard-quiet")

    # 1. On a phone, the receptionist logs what went wrong at the desk.
    log_in(phone_page, receptionist)
    phone_page.get_by_role("link", name="Log an incident").first.click()
    phone_page.get_by_label("What happened?").fill("Patient kept waiting at the desk while we took a call.")
    phone_page.get_by_label("Where?").select_option(label="Front desk — Riverside")
    phone_page.get_by_label("Medium").check()
    phone_page.get_by_label("What is it about?").select_option(label="Staff attitude")
    phone_page.get_by_role("button", name="Log incident").click()
    expect(phone_page.get_by_text("Logged INC-")).to_be_visible()
    shot(phone_page, "incident-logged")
    logged = Incident.objects.get(source=Incident.Source.STAFF)

    # 2. Then does the morning check: the fire exits are blocked, a critical item, so it fails.
    phone_page.get_by_role("link", name="Servicedesk").click()  # home: My work
    phone_page.get_by_role("link", name="Morning premises check").click()
    for text in ("Entrance and ramp clear", "Hearing loop on"):
        phone_page.locator(".checklist-item", has_text=text).get_by_role("button", name="Pass").click()
    exits = phone_page.locator(".checklist-item", has_text="Fire exits clear and unlocked")
    exits.get_by_text("Add a note").click()
    exits.get_by_label("Note").fill("Delivery boxes against the back exit")
    exits.get_by_role("button", name="Fail").click()
    expect(exits.get_by_text("Saved: Fail")).to_be_visible()
    expect(phone_page.get_by_text("3 of 3 items recorded")).to_be_visible()
    phone_page.get_by_role("button", name="Complete checklist").click()
    expect(phone_page.get_by_role("status")).to_contain_text("Morning premises check is complete")
    shot(phone_page, "check-completed")
    from_check = Incident.objects.get(source=Incident.Source.CHECKLIST)

    # 3. The manager looks again: both incidents are open, and the failed critical check counts.
    page.reload()
    expect(figure(page, "Open incidents")).to_have_text("2")
    expect(figure(page, "Failed critical checks")).to_have_text("1")
    categories = page.get_by_role("table", name="Incidents by category")
    expect(categories.get_by_role("row", name="Staff attitude")).to_contain_text("1")
    expect(categories.get_by_role("row", name=from_check.get_category_display())).to_contain_text("1")
    # …and "Needs attention today" names them: nobody owns either incident yet, and the failed
    # fire-exit check leads to the incident it opened.
    unowned = page.locator("#attention-unassigned_incidents-list")
    expect(unowned.get_by_role("link", name=logged.reference)).to_be_visible()
    expect(unowned.get_by_role("link", name=from_check.reference)).to_be_visible()
    failed = page.locator("#attention-failed_checks-list")
    expect(failed.get_by_role("link", name="Fire exits clear and unlocked")).to_be_visible()
    expect(failed).to_contain_text(from_check.reference)
    shot(page, "dashboard-after-the-morning")

    # 4. The figure opens the list behind it; the attention list opens the incident itself.
    page.locator(".figure-tile", has=page.get_by_text("Open incidents", exact=True)).click()
    expect(page.get_by_role("row", name=from_check.reference)).to_contain_text("Failed check: Fire exits")
    page.go_back()
    unowned.get_by_role("link", name=logged.reference).click()
    expect(page.get_by_role("heading", name=logged.title)).to_be_visible()
    page.locator("summary", has_text="Assign").click()
    page.get_by_label("Assign to").select_option(label=str(receptionist))
    page.locator("form[action$='/assign/'] button[type=submit]").click()
    expect(page.get_by_text(f"Assigned to {receptionist}")).to_be_visible()
    page.get_by_role("button", name="Acknowledge").click()
    expect(page.get_by_text("Acknowledged.")).to_be_visible()
    page.locator("summary", has_text="Resolve").click()
    page.get_by_label("How was it put right?").fill(
        "Apologised by phone; the desk now lets calls ring to the back office."
    )
    page.get_by_label("Why did it happen?").fill("One person covering the desk and the phone at 8:30.")
    page.locator("form[action$='/resolve/'] button[type=submit]").click()
    expect(page.get_by_text("Resolved", exact=True)).to_be_visible()  # the status badge
    expect(page.get_by_text("How it was put right")).to_be_visible()
    assert_accessible(page)  # the detail page once resolved
    shot(page, "incident-resolved")
    logged.refresh_from_db()
    assert (logged.assignee, logged.status) == (receptionist, Incident.Status.RESOLVED)

    # 5. Back on the dashboard: one incident left open, the one the failed check opened.
    page.get_by_role("link", name="Dashboard").click()
    expect(figure(page, "Open incidents")).to_have_text("1")
    expect(figure(page, "Failed critical checks")).to_have_text("1")
    expect(unowned.get_by_role("link", name=logged.reference)).to_have_count(0)
    expect(unowned.get_by_role("link", name=from_check.reference)).to_be_visible()
    shot(page, "dashboard-after-resolving")
