"""Every page a patient sees: one layout with the practice's name (never the product's), wording for
the device they are on, and their own language, the "Did we put it right?" loop included."""

from __future__ import annotations

import re

import pytest
from django.conf import settings
from django.utils import timezone

from recovery import services
from tests.feedback.test_kiosk import _post
from tests.recovery.conftest import resolved_for_patient

pytestmark = pytest.mark.django_db


def _thanks(client, kiosk_survey, **params) -> str:
    response = _post(client, kiosk_survey, {"Overall?": "very_good"}, **params)
    return client.get(response["Location"]).content.decode()


def test_the_kiosk_thanks_for_the_next_person_a_personal_phone_does_not(client, kiosk_survey):
    assert "Start again for the next person" in _thanks(client, kiosk_survey)
    on_a_phone = _thanks(client, kiosk_survey, src="qr")
    assert "Start again for the next person" not in on_a_phone
    assert "Thank you" in on_a_phone


def test_patient_pages_carry_the_practices_name_and_no_product_name_or_menu_script(client, kiosk_survey):
    for page in (client.get("/k/kiosk/").content.decode(), _thanks(client, kiosk_survey)):
        footer = re.search(r"<footer.*?</footer>", page, re.S).group(0)
        assert settings.PRACTICE_NAME in footer
        assert "Servicedesk" not in footer
        assert "bootstrap.bundle" not in page  # no menus on patient pages: no Bootstrap script


def test_an_unanswered_question_is_named_in_the_summary_without_gluing_it_to_the_message(
    client, kiosk_survey
):
    page = _post(client, kiosk_survey, {}).content.decode()
    summary = re.search(r'id="error-summary".*?</div>', page, re.S).group(0)
    assert "Overall?:" not in summary
    assert "Overall?" in summary


@pytest.fixture
def spanish_patient_incident(manager):
    return resolved_for_patient(by=manager, language="es", patient_email="ana@example.org")


def test_a_spanish_patient_is_asked_in_spanish_by_email_and_on_the_page(
    client, spanish_patient_incident, manager, mailoutbox
):
    services.loop_link_send(incident=spanish_patient_incident, by=manager, now=timezone.now())
    message = mailoutbox[-1]
    assert message.subject == f"{settings.PRACTICE_NAME}: ¿lo hemos solucionado?"
    assert "¿Lo hemos solucionado?" in message.body
    assert "Did we put it right?" not in message.body
    link = re.search(r"/recovery/r/\S+/", message.body).group(0)

    page = client.get(link).content.decode()
    assert '<html lang="es">' in page
    assert "¿Lo hemos solucionado?" in page
    for english in ("Did we put it right?", "Yes, you put it right", "No, not yet"):
        assert english not in page
    done = client.post(link, {"answer": "yes"}).content.decode()
    assert "Gracias" in done
    assert "Thank you" not in done


def test_a_spanish_patient_without_email_gets_the_text_message_in_spanish(manager, sms_outbox):
    incident = resolved_for_patient(by=manager, language="es", patient_phone="07700900123")
    services.loop_link_send(incident=incident, by=manager, now=timezone.now())
    assert "¿Lo hemos solucionado?" in sms_outbox[-1].body


def test_patients_read_a_heading_never_the_teams_name_for_the_survey(client):
    from tests.factories import QuestionFactory, SurveyFactory

    survey = SurveyFactory(slug="tablet", title="Waiting-room kiosk", title_es="Quiosco de la sala de espera")
    QuestionFactory(survey=survey)
    english = client.get("/k/tablet/").content.decode()
    spanish = client.get("/k/tablet/?lang=es").content.decode()
    assert "Waiting-room kiosk" not in english
    assert "Tell us how we did" in english
    assert "Quiosco de la sala de espera" not in spanish
    assert "Díganos qué tal lo hicimos" in spanish
    survey.heading, survey.heading_es = "How was your flu jab?", "¿Qué tal su vacuna de la gripe?"
    survey.save()
    assert "How was your flu jab?" in client.get("/k/tablet/").content.decode()
    assert "¿Qué tal su vacuna de la gripe?" in client.get("/k/tablet/?lang=es").content.decode()
