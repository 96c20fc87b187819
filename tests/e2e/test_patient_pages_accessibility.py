"""Every page a patient can reach, on a phone: axe-core finds no serious or critical problem, and
the Content-Security-Policy refuses nothing (issue 9).

The survey forms' first pages are also covered by the feedback and patient journeys; here come the
rest: the invitation form with errors and a call-back promise, the opt-out, "Did we put it right?",
and the pages met when something is wrong: used, expired and forged links, a closed kiosk, rate
limits, a database outage and an unexpected error. Pages reached by a POST are reached by pressing
the real buttons.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from feedback import services as feedback_services
from feedback.library import FFT_TEXT
from feedback.models import Invitation
from feedback.views import answer
from recovery import services as recovery_services
from recovery.models import Incident
from tests.conftest import database_refused
from tests.factories import InvitationFactory, SurveyFactory, UserFactory
from tests.recovery.conftest import drive_to

Check = Callable[[str, str], None]
FORGED_TOKEN = "Zm9yZ2VkLXNlbGVjdG9y.bm90LXRoZS1yaWdodC1tYWM"


@pytest.fixture
def check(phone_page: Page, assert_accessible, shot, phone_csp_violations) -> Check:
    """``check(heading, name)``: the page's one main heading reads ``heading`` (so a wrong page
    cannot pass), axe-core finds nothing serious, the policy refused nothing; and a screenshot."""

    def _check(heading: str, name: str) -> None:
        expect(phone_page.get_by_role("heading", level=1)).to_have_text(heading)
        assert_accessible(phone_page)
        shot(phone_page, name)
        assert not phone_csp_violations, phone_csp_violations

    return _check


def _kiosk_survey():
    return feedback_services.survey_create_from_template(key="waiting-room-kiosk", active=True)


def _send_very_good(page: Page) -> None:
    page.get_by_role("group", name=FFT_TEXT).get_by_text("Very good", exact=True).click()
    page.get_by_role("button", name="Send my answers").click()


# --- Links that lead nowhere: one neutral page each, with a 404 --------------------------------------


def _expired_invitation() -> str:
    return InvitationFactory(expires_at=timezone.now() - timedelta(days=1)).get_absolute_url()


def _closed_kiosk() -> str:
    return f"/k/{SurveyFactory(is_active=False).slug}/"


@pytest.mark.parametrize(
    ("address", "heading"),
    [
        pytest.param(_expired_invitation, "This link cannot be used", id="expired-invitation"),
        pytest.param(lambda: f"/f/{FORGED_TOKEN}/", "This link cannot be used", id="forged-invitation"),
        pytest.param(lambda: f"/f/{FORGED_TOKEN}/opt-out/", "This link is not valid", id="forged-opt-out"),
        pytest.param(
            lambda: f"/recovery/r/{FORGED_TOKEN}/", "This link is not available", id="forged-put-right"
        ),
        pytest.param(_closed_kiosk, "We can't find that page", id="closed-kiosk"),
        pytest.param(lambda: "/k/no-such-poster/", "We can't find that page", id="unknown-kiosk"),
    ],
)
def test_a_link_that_leads_nowhere_gets_an_accessible_neutral_page(
    phone_page, check, address: Callable[[], str], heading: str, request
):
    response = phone_page.goto(address())
    assert response.status == 404
    check(heading, request.node.callspec.id)


# --- Invitation link: form, errors, thank-you with a call-back promise, then the used link -----------


def test_an_invitation_form_its_errors_its_thank_you_page_and_the_used_link(phone_page, check):
    survey = feedback_services.survey_create_from_template(key="after-your-visit", active=True)
    survey.is_anonymous = False  # asks whether we may call back
    survey.save(update_fields=["is_anonymous"])
    invitation = InvitationFactory(survey=survey)

    phone_page.goto(invitation.get_absolute_url())
    check("After your visit", "invitation-form")

    phone_page.get_by_role("button", name="Send my answers").click()
    expect(phone_page.locator("#error-summary")).to_be_focused()
    check("After your visit", "invitation-errors")

    phone_page.get_by_role("group", name=FFT_TEXT).get_by_text("Very poor", exact=True).click()
    phone_page.get_by_label("We are sorry. What could we have done better?").fill(
        "Nobody told me the clinic was running late."
    )
    phone_page.get_by_label("I would like someone from the practice to contact me about my feedback").check()
    phone_page.get_by_label("Phone number").fill("07700 900123")
    check("After your visit", "invitation-filled")  # the question and contact boxes that appeared
    phone_page.get_by_role("button", name="Send my answers").click()

    expect(phone_page.get_by_role("heading", name="We are sorry we let you down")).to_be_visible()
    check("Thank you", "invitation-thanks")
    invitation.refresh_from_db()
    assert invitation.status == Invitation.Status.COMPLETED

    assert phone_page.goto(invitation.get_absolute_url()).status == 404
    check("This link cannot be used", "invitation-used")


# --- Opt-out -------------------------------------------------------------------------------------------


def test_a_patient_opts_out_of_survey_messages(phone_page, check):
    invitation = InvitationFactory()
    phone_page.goto(f"{invitation.get_absolute_url()}opt-out/")
    check("Stop survey messages?", "opt-out")

    phone_page.get_by_role("button", name="Yes, stop survey messages").click()
    check("You will get no more survey messages", "opted-out")
    invitation.refresh_from_db()
    assert invitation.opted_out_at is not None


# --- "Did we put it right?" ----------------------------------------------------------------------------


def test_did_we_put_it_right_each_answer_and_the_used_link(phone_page, check, mailoutbox):
    recovery_services.sla_policies_ensure_defaults()  # the browser tests start from a flushed database
    manager = UserFactory(manager=True)
    link = ""
    for button, says in [
        ("Yes, you put it right", "We are glad it is put right."),
        ("No, not yet", "We are sorry it is still not right."),
        ("Please don't contact me about this again", "We will not contact you about this again"),
    ]:
        incident = drive_to(
            Incident.Status.RESOLVED,
            by=manager,
            patient_consented=True,
            patient_name="Ada",
            patient_email="ada@example.org",
        )
        recovery_services.loop_link_send(incident=incident, by=manager, now=timezone.now())
        link = re.search(r"/recovery/r/[\w-]+/", mailoutbox[-1].body).group(0)

        phone_page.goto(link)
        check("Did we put it right?", "put-right")
        phone_page.get_by_role("button", name=button).click()
        expect(phone_page.get_by_text(says)).to_be_visible()
        check("Thank you", f"put-right-answered-{button}")

    assert phone_page.goto(link).status == 404
    check("This link is not available", "put-right-used")


# --- Too many answers, too many requests ---------------------------------------------------------------


def test_a_busy_kiosk_pauses_with_an_accessible_page(phone_page, check, settings, rate_limits):
    settings.FEEDBACK_MIN_FILL_SECONDS = 0
    # One post a day: no window boundary between the two posts.
    settings.RATE_LIMITS = {**rate_limits, "patient:kiosk": {**rate_limits["public"], "POST": "1/d"}}
    phone_page.goto(f"/k/{_kiosk_survey().slug}/")
    _send_very_good(phone_page)
    phone_page.get_by_role("link", name="Start again for the next person").click()

    _send_very_good(phone_page)  # the next person, over this device's limit
    check("Please try again in a few minutes", "kiosk-paused")


def test_a_flood_of_requests_gets_the_accessible_429_page(phone_page, check, settings, rate_limits):
    settings.RATE_LIMITS = {**rate_limits, "patient:invitation": {"GET": "1/d"}}
    link = InvitationFactory().get_absolute_url()
    phone_page.goto(link)
    assert phone_page.goto(link).status == 429
    check("Please wait a moment", "rate-limited")


# --- When the server fails -------------------------------------------------------------------------------


def test_a_database_outage_gives_the_accessible_503_page(phone_page, check):
    with database_refused():
        response = phone_page.goto(f"/f/{FORGED_TOKEN}/")
    assert response.status == 503
    check("We're back in a moment", "database-down")


def test_an_unexpected_error_gives_the_accessible_500_page(phone_page, check, monkeypatch):
    def broken(*args, **kwargs):
        raise RuntimeError("a bug")

    slug = _kiosk_survey().slug
    monkeypatch.setattr(answer, "survey_page", broken)
    assert phone_page.goto(f"/k/{slug}/").status == 500
    check("Sorry, something went wrong", "server-error")
