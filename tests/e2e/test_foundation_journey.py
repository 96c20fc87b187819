"""A manager's first minutes: log in, see the practice, add a touchpoint."""

from playwright.sync_api import expect

from servicedesk.models import Touchpoint
from tests.factories import LocationFactory, UserFactory


def test_manager_logs_in_sees_the_dashboard_and_adds_a_touchpoint(page, log_in, shot):
    LocationFactory(name="Riverside Surgery")
    manager = UserFactory(manager=True)

    log_in(page, manager)
    expect(page.get_by_role("heading", name="Practice dashboard")).to_be_visible()
    shot(page, "dashboard")

    page.get_by_role("button", name="Practice").click()
    page.get_by_role("link", name="Touchpoints", exact=True).click()
    page.get_by_role("link", name="Add touchpoint").click()
    page.get_by_label("Name").fill("Front desk — Riverside")
    page.get_by_label("Channel").select_option(label="In person")
    page.get_by_label("Location").select_option(label="Riverside Surgery")
    shot(page, "touchpoint-form")
    page.get_by_role("button", name="Save").click()

    expect(page.get_by_role("status")).to_contain_text("Saved Front desk — Riverside")
    expect(page.get_by_role("cell", name="Front desk — Riverside", exact=True)).to_be_visible()
    shot(page, "touchpoint-list")
    assert Touchpoint.objects.get(name="Front desk — Riverside").location.name == "Riverside Surgery"


def test_a_wrong_password_is_refused_with_a_clear_message(page, log_in):
    staff = UserFactory()
    log_in(page, staff, password="not the password")
    expect(page.get_by_role("alert")).to_contain_text("Please enter a correct username and password")


def test_login_page_has_no_serious_accessibility_problems(page, assert_accessible):
    page.goto("/accounts/login/")
    assert_accessible(page)
