"""Complaints in a browser on a phone: a patient makes a complaint on the public page (its errors,
its thank-you page with the reference), then a staff member works it to its outcome. Every page
is checked with axe-core and the Content-Security-Policy refuses nothing."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from complaints.models import Complaint
from recovery import services as recovery_services
from tests.factories import UserFactory

pytestmark = pytest.mark.e2e


@pytest.fixture
def check(phone_page: Page, assert_accessible, shot, phone_csp_violations):
    def _check(heading: str, name: str) -> None:
        expect(phone_page.get_by_role("heading", level=1)).to_have_text(heading)
        assert_accessible(phone_page)
        shot(phone_page, name)
        assert not phone_csp_violations, phone_csp_violations

    return _check


def test_a_patient_complains_on_a_phone_and_gets_a_reference(phone_page, check, settings):
    settings.FEEDBACK_MIN_FILL_SECONDS = 0
    recovery_services.sla_policies_ensure_defaults()  # the browser tests start from a flushed database
    phone_page.goto("/complaints/tell-us/")
    check("Tell us / make a complaint", "complaint-form")

    phone_page.get_by_role("button", name="Send my complaint").click()
    expect(phone_page.locator("#error-summary")).to_be_visible()
    check("Tell us / make a complaint", "complaint-errors")

    phone_page.get_by_label("What is it about?").select_option("appointments")
    phone_page.get_by_label("Tell us what happened").fill("My appointment was cancelled three times.")
    phone_page.get_by_label("You may contact me about my complaint").check()
    phone_page.get_by_label("Name", exact=True).fill("Ada Lovelace")
    phone_page.get_by_label("Email", exact=True).check()
    phone_page.get_by_label("Email address").fill("ada@example.org")
    phone_page.get_by_role("button", name="Send my complaint").click()

    check("Thank you for telling us", "complaint-thanks")
    complaint = Complaint.objects.select_related("incident").get()
    expect(phone_page.get_by_text(complaint.reference)).to_be_visible()
    assert complaint.reference not in phone_page.url


def test_the_spanish_complaint_page_is_accessible(phone_page, check):
    phone_page.goto("/complaints/tell-us/?lang=es")
    check("Cuéntenos / presente una queja", "complaint-form-es")


def test_a_staff_member_works_a_complaint_to_its_outcome(phone_page, check, log_in):
    recovery_services.sla_policies_ensure_defaults()
    staff = UserFactory(username="recep")
    log_in(phone_page, staff, "correct horse battery")
    phone_page.goto("/complaints/new/")
    expect(phone_page.get_by_role("heading", level=1)).to_have_text("Record a complaint")
    phone_page.get_by_label("Phone call").check()
    phone_page.get_by_label("What is it about?").select_option("attitude")
    phone_page.get_by_label("The complaint").fill("The patient says the receptionist was rude.")
    phone_page.get_by_label("Patient's phone").fill("07700 900123")
    phone_page.get_by_label("Phone", exact=True).check()
    phone_page.get_by_role("button", name="Record complaint").click()

    expect(phone_page).to_have_url(re.compile(r"/complaints/INC-\d{4}-\d+/$"))
    phone_page.get_by_role("button", name="Mark acknowledged").click()
    expect(phone_page.get_by_text("Acknowledged. Now agree a date")).to_be_visible()
    phone_page.get_by_role("button", name="Record response").click()  # no outcome chosen: refused
    expect(phone_page.get_by_text("Choose the outcome.").first).to_be_visible()
    phone_page.get_by_label("Outcome").select_option("withdrawn")
    phone_page.get_by_role("button", name="Record response").click()
    expect(phone_page.get_by_text("This complaint has had its final response.")).to_be_visible()
    assert Complaint.objects.get().outcome == "withdrawn"
