"""Service design in a real browser: a manager sets a goal on purpose, the team acknowledges it."""

import re
from datetime import timedelta

from django.utils import timezone
from playwright.sync_api import expect

from design.models import GoalAcknowledgement, GoalMeasurement, ServiceGoal
from tests.factories import ServiceGoalFactory, UserFactory

METRIC = re.compile(r"^\s*Metric\*?\s*$")  # crispy marks required fields with an asterisk


def _measured_goal_met() -> None:
    """Another goal already measured as met, so that design.goals_met_pct has a value (100 %)."""
    goal = ServiceGoalFactory(title="Patients rate the front desk positively")
    now = timezone.now()
    GoalMeasurement.objects.create(
        goal=goal,
        measured_on=timezone.localdate(now),
        measured_at=now,
        goal_version=1,
        period_start=now - timedelta(days=30),
        period_end=now,
        value=94.0,
        comparator="gte",
        target=90,
        status="met",
    )


def test_manager_sets_a_goal_staff_acknowledge_it_manager_sees_who_and_retires_it(
    page, browser, live_server, log_in, shot, assert_accessible
):
    _measured_goal_met()
    manager = UserFactory(manager=True, first_name="Maya", last_name="Patel")
    staff = UserFactory(first_name="Sam", last_name="Okafor")

    # The manager writes the goal; the metric picker shows the metric's unit and current value.
    log_in(page, manager)
    page.get_by_role("button", name="Goals").click()
    page.get_by_role("link", name="Service goals").click()
    page.get_by_role("link", name="Add goal").click()
    page.get_by_label("What we promise").fill("Most of our promises are kept")
    page.get_by_label("Why it matters").fill("The goals are only worth writing down if we keep them.")
    page.get_by_label(METRIC).select_option("design.goals_met_pct")
    preview = page.locator("#metric-preview")
    expect(preview).to_contain_text("Service goals met")
    expect(preview).to_contain_text("unit: %")
    expect(preview.locator("[data-preview=value]")).to_have_text("100 %")
    expect(page.get_by_label("Comparator")).to_have_value("gte")  # suggested: higher is better
    page.get_by_label("Target").fill("80")
    page.get_by_label("Review date").fill((timezone.localdate() + timedelta(days=90)).isoformat())
    shot(page, "goal-form")
    assert_accessible(page)
    page.get_by_role("button", name="Add goal").click()

    expect(page.get_by_role("heading", name="Most of our promises are kept")).to_be_visible()
    expect(page.get_by_role("status").first).to_contain_text("Goal added")
    expect(page.locator("#now-heading + p + div")).to_contain_text("Met")
    expect(page.get_by_test_id("goal-value")).to_have_text("100 %")
    shot(page, "goal-detail")
    assert_accessible(page)
    goal = ServiceGoal.objects.get(title="Most of our promises are kept")

    # A staff member finds it on My work, reads it and acknowledges it.
    staff_context = browser.new_context(base_url=live_server.url, viewport={"width": 390, "height": 844})
    staff_page = staff_context.new_page()
    log_in(staff_page, staff)
    staff_page.goto("/my-work/")
    goals_section = staff_page.get_by_role("region", name="Goals to acknowledge")
    expect(goals_section).to_contain_text("Most of our promises are kept")
    goals_section.get_by_role("link", name=re.compile("Read and acknowledge.*Most of our promises")).click()
    expect(staff_page.get_by_role("button", name="Edit goal")).to_have_count(0)
    staff_page.get_by_role("button", name="I have read and understood this goal").click()
    expect(staff_page.get_by_test_id("my-acknowledgement")).to_contain_text("You acknowledged version 1")
    shot(staff_page, "staff-acknowledged")
    staff_context.close()
    assert GoalAcknowledgement.objects.filter(goal=goal, user=staff, version=1).exists()

    # The manager sees who has acknowledged the current version, then retires the goal.
    page.reload()
    expect(page.get_by_test_id("acknowledged-list")).to_contain_text("Sam Okafor")
    page.get_by_role("button", name="Retire goal").click()
    # It asks first, saying what retiring does; the manager confirms.
    expect(
        page.get_by_role("heading", name="Retire the goal “Most of our promises are kept”?")
    ).to_be_visible()
    assert_accessible(page)
    page.get_by_role("button", name="Retire goal").click()
    expect(page.get_by_role("status").first).to_contain_text("is retired")
    expect(page.get_by_role("heading", name="Most of our promises are kept")).to_contain_text("Retired")
    shot(page, "goal-retired")
    page.get_by_role("navigation", name="Breadcrumb").get_by_role("link", name="Service goals").click()
    expect(page.get_by_role("link", name="Most of our promises are kept")).to_have_count(0)
    assert_accessible(page)
    goal.refresh_from_db()
    assert goal.status == ServiceGoal.Status.RETIRED


def test_goal_form_errors_are_clear_and_linked(page, log_in, assert_accessible):
    log_in(page, UserFactory(manager=True))
    page.goto("/design/goals/new/")
    page.get_by_label("What we promise").fill("Impossible promise")
    page.get_by_label(METRIC).select_option("design.goals_met_pct")
    page.get_by_label("Target").fill("150")
    page.get_by_label("Review date").fill("2020-01-01")
    page.get_by_role("button", name="Add goal").click()

    summary = page.locator("#error-summary")
    expect(summary).to_contain_text("cannot be above 100")
    expect(summary).to_contain_text("The review date is in the past")
    assert_accessible(page)
    assert not ServiceGoal.objects.exists()


def test_need_profiles_read_well_on_a_phone(phone_page, log_in, assert_accessible):
    from tests.factories import AccommodationFactory, PatientNeedFactory, PatientNeedProfileFactory

    profile = PatientNeedProfileFactory(name="Patients who need an interpreter")
    PatientNeedFactory(profile=profile, description="Interpreter booked before the appointment")
    AccommodationFactory(profile=profile, kind="interpreter", detail="Polish, Romanian")
    log_in(phone_page, UserFactory())
    phone_page.goto("/design/profiles/")
    phone_page.get_by_role("link", name="Patients who need an interpreter").click()
    expect(phone_page.get_by_role("heading", name="What they need")).to_be_visible()
    expect(phone_page.get_by_text("Interpreter booked before the appointment")).to_be_visible()
    assert_accessible(phone_page)
