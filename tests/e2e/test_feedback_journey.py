"""Feedback in a real browser: a patient answers the waiting-room kiosk on a phone, the manager reads it."""

import time

from playwright.sync_api import expect

from feedback import services
from feedback.models import Response
from tests.factories import ThemeFactory, UserFactory


def test_a_patient_completes_the_kiosk_survey_on_a_phone_and_the_manager_sees_it_with_sentiment_and_themes(
    phone_page, page, log_in, shot, assert_accessible, settings
):
    settings.FEEDBACK_MIN_FILL_SECONDS = 1
    # The starting themes come from a data migration, which a live-server test's flush removes.
    ThemeFactory(name="Wait time", keywords="wait*\nwaited")
    ThemeFactory(name="Staff attitude", keywords="rude*")
    survey = services.survey_create_from_template(key="waiting-room-kiosk", active=True)
    manager = UserFactory(manager=True)

    # The patient, on a phone: one page, large targets, no login.
    started = time.monotonic()
    phone_page.goto(f"/k/{survey.slug}/")
    # The team calls it "Waiting-room kiosk"; patients read its heading.
    expect(phone_page.get_by_role("heading", level=1)).to_have_text("How was your visit today?")
    assert_accessible(phone_page)
    shot(phone_page, "kiosk-form")

    # Sending without the required answer shows an error summary that takes focus and links to the field.
    phone_page.get_by_role("button", name="Send my answers").click()
    summary = phone_page.locator("#error-summary")
    expect(summary).to_be_focused()
    expect(summary).to_contain_text("Please answer this question.")
    assert_accessible(phone_page)
    shot(phone_page, "kiosk-error-summary")
    summary.get_by_role("link").first.click()

    phone_page.get_by_role("group", name="Overall, how was your experience of our service?").get_by_text(
        "Poor", exact=True
    ).click()
    phone_page.get_by_label("Please can you tell us why you gave that answer?").fill(
        "Waited over an hour past my appointment and the receptionist was rude. Awful."
    )
    phone_page.wait_for_timeout(1000)  # a person takes longer than the minimum fill time
    phone_page.get_by_role("button", name="Send my answers").click()
    expect(phone_page.get_by_role("heading", level=1)).to_have_text("Thank you")
    expect(phone_page.get_by_role("link", name="Start again for the next person")).to_be_visible()
    assert time.monotonic() - started < 60
    assert_accessible(phone_page)
    shot(phone_page, "kiosk-thanks")

    stored = Response.objects.get()
    assert stored.is_negative
    assert stored.channel == "kiosk"

    # The manager finds it on the survey's results page, with its sentiment and themes.
    log_in(page, manager)
    page.goto(f"/feedback/surveys/{survey.pk}/results/")
    comments = page.locator("#comments-heading").locator("..")
    expect(comments).to_contain_text("receptionist was rude")
    expect(comments).to_contain_text("negative")
    expect(comments).to_contain_text("Wait time")
    expect(comments).to_contain_text("Staff attitude")
    assert_accessible(page)
    shot(page, "manager-results")


def test_a_patient_switches_the_kiosk_to_spanish(phone_page, assert_accessible):
    survey = services.survey_create_from_template(key="waiting-room-kiosk", active=True)
    phone_page.goto(f"/k/{survey.slug}/")
    phone_page.get_by_role("link", name="Español").click()
    expect(phone_page.locator("html")).to_have_attribute("lang", "es")
    expect(phone_page.get_by_role("heading", level=1)).to_have_text("¿Qué tal su visita de hoy?")
    expect(
        phone_page.get_by_role("group", name="En general, ¿cómo fue su experiencia con nuestro servicio?")
    ).to_be_visible()
    assert_accessible(phone_page)
