"""Patients who do not use a mouse, or read Spanish, can still finish a survey."""

from playwright.sync_api import Page, expect

from feedback import services
from feedback.models import Invitation, Response
from tests.factories import InvitationFactory


def _tab_to(page: Page, locator, *, limit: int = 40) -> None:
    """Press Tab until ``locator`` has the focus, as a keyboard user would."""
    for _ in range(limit):
        page.keyboard.press("Tab")
        if locator.evaluate("element => element === document.activeElement"):
            return
    raise AssertionError(f"{locator} never received the keyboard focus")


def test_a_patient_completes_the_kiosk_form_with_the_keyboard_only(page, settings, shot):
    settings.FEEDBACK_MIN_FILL_SECONDS = 1
    survey = services.survey_create_from_template(key="waiting-room-kiosk", active=True)
    page.goto(f"/k/{survey.slug}/")

    _tab_to(page, page.get_by_role("radio", name="Very good"))
    page.keyboard.press("ArrowDown")  # arrow keys move through a radio group and choose
    expect(page.get_by_role("radio", name="Good", exact=True)).to_be_checked()
    page.keyboard.press("Tab")
    expect(page.get_by_label("Please can you tell us why you gave that answer?")).to_be_focused()
    page.keyboard.type("Quick and friendly at the desk, thank you.")
    shot(page, "keyboard-filled")
    page.wait_for_timeout(1100)  # a person takes longer than the minimum fill time
    _tab_to(page, page.get_by_role("button", name="Send my answers"))
    page.keyboard.press("Enter")

    expect(page.get_by_role("heading", level=1)).to_have_text("Thank you")
    shot(page, "keyboard-thanks")
    response = Response.objects.get()
    assert not response.is_negative
    assert response.answers.filter(text__icontains="Quick and friendly").exists()


def test_a_patient_answers_an_invitation_in_spanish_on_a_phone(phone_page, settings, assert_accessible, shot):
    settings.FEEDBACK_MIN_FILL_SECONDS = 0
    survey = services.survey_create_from_template(key="waiting-room-kiosk", active=True)
    invitation = InvitationFactory(survey=survey, language="es")

    phone_page.goto(invitation.get_absolute_url())
    expect(phone_page.locator("html")).to_have_attribute("lang", "es")
    group = phone_page.get_by_role("group", name="En general, ¿cómo fue su experiencia con nuestro servicio?")
    group.get_by_text("Buena", exact=True).click()
    assert_accessible(phone_page)
    shot(phone_page, "invitation-es")
    phone_page.get_by_role("button", name="Enviar mis respuestas").click()

    expect(phone_page.get_by_role("heading", level=1)).to_have_text("Gracias")
    invitation.refresh_from_db()
    assert invitation.status == Invitation.Status.COMPLETED
    assert Response.objects.get().invitation == invitation
    # The link works once: a second visit gets the neutral page.
    phone_page.goto(invitation.get_absolute_url())
    expect(phone_page.get_by_role("button", name="Enviar mis respuestas")).to_have_count(0)
