"""Security pages in a real browser: two-factor set-up and sign-in, lockout, and the CSP holding.

Also axe-core on the main staff and manager pages, with the Content-Security-Policy enforced:
any inline script or style that the policy blocks shows up as a console error and fails here.
"""

from __future__ import annotations

from base64 import b32decode

import pytest
from django.conf import settings
from django_otp.oath import TOTP
from playwright.sync_api import Page, expect

from tests.factories import AuditEventFactory, LocationFactory, TouchpointFactory, UserFactory

PASSWORD = "correct horse battery"


def _password(page: Page, username: str, password: str = PASSWORD) -> None:
    page.goto("/accounts/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Log in").click()


def test_a_new_manager_sets_up_two_factor_by_scanning_and_typing_a_code(
    page, shot, assert_accessible, csp_violations
):
    manager = UserFactory(manager=True, authenticator=False)
    _password(page, manager.username)

    expect(page.get_by_role("heading", name="Set up two-factor sign-in")).to_be_visible()
    expect(
        page.get_by_role("img", name="QR code to add Servicedesk to your authenticator app")
    ).to_be_visible()
    shot(page, "two-factor-setup")
    assert_accessible(page)

    secret = page.locator("code.secret-key").inner_text().replace(" ", "")
    key = b32decode(secret + "=" * (-len(secret) % 8))
    page.get_by_label("Six-digit code").fill(f"{TOTP(key).token():06d}")
    page.get_by_role("button", name="Turn on two-factor sign-in").click()

    expect(page.get_by_role("heading", name="Practice dashboard")).to_be_visible()
    expect(page.get_by_role("status")).to_contain_text("Two-factor sign-in is set up")
    shot(page, "dashboard-after-setup")
    assert not csp_violations


def test_a_manager_types_the_code_after_the_password(page, log_in, shot, assert_accessible, csp_violations):
    manager = UserFactory(manager=True)
    _password(page, manager.username)
    expect(page.get_by_role("heading", name="Two-factor sign-in")).to_be_visible()
    page.get_by_label("Six-digit code").fill("12345")
    page.get_by_role("button", name="Continue").click()
    expect(page.get_by_role("alert")).to_contain_text("six digits")
    shot(page, "two-factor-verify-error")
    assert_accessible(page)

    log_in(page, manager)  # the shared fixture completes the code step
    expect(page.get_by_role("heading", name="Practice dashboard")).to_be_visible()
    assert not csp_violations


def test_repeated_wrong_passwords_show_the_lockout_page(page, shot, assert_accessible):
    UserFactory(username="maya")
    for _ in range(settings.AXES_FAILURE_LIMIT):
        _password(page, "maya", "not the password")
    expect(page.get_by_role("heading", name="Too many attempts")).to_be_visible()
    expect(page.get_by_role("link", name="Reset your password")).to_be_visible()
    shot(page, "lockout")
    assert_accessible(page)


@pytest.mark.parametrize(
    ("path", "heading"),
    [
        ("/dashboard/", "Practice dashboard"),
        ("/team/", "Team"),
        ("/locations/", "Locations"),
        ("/touchpoints/", "Touchpoints"),
        ("/touchpoints/new/", None),
        ("/security/audit/", "Audit log"),
        ("/opening-hours/", "Opening hours"),
        ("/accounts/password_change/", None),
        # The other pillars' main pages (their own journeys go deeper).
        ("/recovery/incidents/", None),
        ("/design/goals/", None),
        ("/delivery/", None),
        ("/feedback/surveys/", None),
        ("/feedback/responses/", None),
        ("/feedback/invitations/", None),
    ],
)
def test_manager_pages_have_no_serious_accessibility_problems_and_obey_the_csp(
    page, log_in, assert_accessible, csp_violations, path, heading
):
    location = LocationFactory(name="Riverside Surgery")
    TouchpointFactory(name="Front desk — Riverside", location=location)
    AuditEventFactory()
    log_in(page, UserFactory(manager=True, location=location))
    page.goto(path)
    if heading:
        expect(page.get_by_role("heading", name=heading, exact=True)).to_be_visible()
    assert_accessible(page)
    assert not csp_violations


def test_staff_pages_have_no_serious_accessibility_problems_and_obey_the_csp(
    page, log_in, assert_accessible, csp_violations
):
    log_in(page, UserFactory(location=LocationFactory()))
    expect(page.get_by_role("heading", level=1)).to_be_visible()
    assert_accessible(page)
    for path in (
        "/recovery/incidents/new/",
        "/recovery/incidents/",
        "/design/goals/",
        "/accounts/password_reset/",
    ):
        page.goto(path)
        assert_accessible(page)
    assert not csp_violations


def test_an_injected_inline_script_would_not_run(page, live_server):
    """The policy is enforced by the browser, not just sent."""
    page.goto("/accounts/login/")
    page.evaluate(
        "() => { const s = document.createElement('script'); s.textContent = 'window.pwned = 1';"
        " document.body.appendChild(s); }"
    )
    assert page.evaluate("() => window.pwned === undefined")
