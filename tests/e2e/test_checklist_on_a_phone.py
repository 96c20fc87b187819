"""Completing a checklist too early on a phone: the problem is at the top, focused, names the items
left, and goes away as they are recorded; note boxes show only when there is something to say."""

from __future__ import annotations

from playwright.sync_api import expect

from tests.e2e.test_delivery_journey import item


def test_completing_too_early_shows_what_is_left_where_the_eye_is(phone_page, log_in, morning_check):
    run, receptionist = morning_check
    phone = phone_page
    log_in(phone, receptionist)
    phone.goto(f"/delivery/runs/{run.pk}/")
    # No empty note box under every item: each is one tap away.
    for text in ("Entrance and ramp clear", "Fire exits clear and unlocked", "Hearing loop on"):
        expect(item(phone, text).get_by_label("Note")).to_be_hidden()

    item(phone, "Entrance and ramp clear").get_by_role("button", name="Pass").click()
    expect(phone.get_by_text("1 of 3 items recorded")).to_be_visible()
    phone.get_by_role("button", name="Complete checklist").click()

    problem = phone.locator("#complete-error")
    expect(problem).to_be_focused()
    expect(problem).to_be_in_viewport()
    expect(problem.get_by_role("link")).to_have_text(["Fire exits clear and unlocked", "Hearing loop on"])

    item(phone, "Hearing loop on").get_by_role("button", name="N/A").click()
    expect(problem.get_by_role("link")).to_have_text(["Fire exits clear and unlocked"])
    exits = item(phone, "Fire exits clear and unlocked")
    exits.get_by_text("Add a note").click()
    exits.get_by_label("Note").fill("Boxes against the back exit")
    exits.get_by_role("button", name="Fail").click()
    expect(exits.get_by_text("Saved: Fail")).to_be_visible()
    expect(problem).to_have_count(0)  # every item recorded: the problem is gone
