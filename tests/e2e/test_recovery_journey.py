"""A receptionist logs an incident on a phone in well under a minute; the manager assigns it;
nobody responds in time and it escalates."""

from __future__ import annotations

import time
from datetime import timedelta

from playwright.sync_api import expect

from recovery import services
from recovery.models import FollowUp, Incident
from servicedesk.outbox import outbox_sweep
from tests.factories import LocationFactory, TouchpointFactory, UserFactory


def test_staff_logs_an_incident_on_a_phone_and_the_manager_assigns_it(
    phone_page, page, log_in, shot, assert_accessible, mailoutbox
):
    services.sla_policies_ensure_defaults()  # the browser tests start from a flushed database
    riverside = LocationFactory(name="Riverside Surgery")
    TouchpointFactory(name="Front desk — Riverside", location=riverside)
    TouchpointFactory(name="Main phone line", location=None)
    receptionist = UserFactory(first_name="Sam", last_name="Okafor", location=riverside)
    manager = UserFactory(manager=True, first_name="Maya", last_name="Patel", email="maya@practice.example")

    # 1. On a phone: from "My work" to a logged incident.
    log_in(phone_page, receptionist)
    started = time.monotonic()
    phone_page.get_by_role("link", name="Log an incident").first.click()
    expect(phone_page.get_by_role("heading", name="Log an incident")).to_be_visible()
    assert_accessible(phone_page)
    shot(phone_page, "quick-log")
    phone_page.get_by_label("What happened?").fill(
        "Patient was told off at the desk for arriving two minutes late.\nShe left upset."
    )
    phone_page.get_by_label("Where?").select_option(label="Front desk — Riverside")
    phone_page.get_by_label("High").check()
    phone_page.get_by_label("What is it about?").select_option(label="Staff attitude")
    phone_page.get_by_text("The patient wants us to get back to them").click()
    phone_page.get_by_label("The patient agreed that we contact them about this").check()
    phone_page.get_by_label("Patient's phone").fill("07700 900123")
    phone_page.get_by_role("button", name="Log incident").click()
    expect(phone_page.get_by_text("Logged INC-")).to_be_visible()
    elapsed = time.monotonic() - started
    assert elapsed < 60, f"logging took {elapsed:.0f} s"
    assert_accessible(phone_page)
    shot(phone_page, "logged")

    incident = Incident.objects.get()
    assert incident.reporter == receptionist
    assert incident.severity == "high"
    assert incident.patient_phone == "07700 900123"
    # The phone layout does not scroll sideways.
    assert phone_page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")

    # 2. On a desktop: the manager finds it and gives it to the receptionist.
    log_in(page, manager)
    page.goto("/recovery/incidents/")
    row = page.locator("tr", has_text=incident.reference)
    expect(row).to_contain_text("Respond in")
    assert_accessible(page)
    row.get_by_role("link", name=incident.reference).click()
    page.locator("summary", has_text="Assign").click()
    page.get_by_label("Assign to").select_option(label=str(receptionist))
    page.locator("form[action$='/assign/'] button[type=submit]").click()
    expect(page.get_by_text(f"Assigned to {receptionist}")).to_be_visible()
    assert_accessible(page)
    shot(page, "assigned")
    incident.refresh_from_db()
    assert incident.assignee == receptionist

    # 3. Time travel: nobody acknowledges it within the 4 hours a high incident allows.
    assert services.incidents_escalate_due(now=incident.respond_by - timedelta(minutes=1)) == 0
    assert services.incidents_escalate_due(now=incident.respond_by + timedelta(minutes=2)) == 1
    page.reload()
    expect(page.get_by_text("Escalated · level 1")).to_be_visible()
    expect(page.get_by_text("not acknowledged, overdue by 2 min")).to_be_visible()
    assert incident.timeline.filter(kind=FollowUp.Kind.ESCALATION).count() == 1
    outbox_sweep(now=incident.respond_by + timedelta(minutes=2))  # the worker, at that (travelled) time
    assert [m.to for m in mailoutbox if "overdue by" in m.subject] == [[manager.email]]
    shot(page, "escalated")
