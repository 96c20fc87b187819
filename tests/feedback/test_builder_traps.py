"""The survey builder's defaults and checks: a new survey asks unhappy patients whether we may
contact them, speaks English until its Spanish is written, and cannot go live in a language whose
texts are missing."""

from __future__ import annotations

import pytest
from django.urls import reverse

from feedback.models import Survey
from tests.factories import QuestionFactory, SurveyFactory

pytestmark = pytest.mark.django_db


def _spanish_survey(**fields) -> Survey:
    survey = SurveyFactory(title="Waiting room", title_es="Sala de espera", is_active=False, **fields)
    QuestionFactory(survey=survey, text="How was your visit?", text_es="¿Qué tal su visita?", position=0)
    QuestionFactory(survey=survey, kind="text", text="Anything else?", text_es="", position=1)
    return survey


def test_a_new_survey_asks_for_consent_to_contact_and_speaks_english_only(manager_client):
    form = manager_client.get(reverse("feedback:survey_create")).context["form"]
    assert form["is_anonymous"].value() is False
    assert form["languages"].value() == ["en"]
    manager_client.post(
        reverse("feedback:survey_create"),
        {"title": "Flu clinic", "audience": "patient", "languages": ["en"], "contact_within_days": 2},
    )
    survey = Survey.objects.get(title="Flu clinic")
    assert (survey.is_anonymous, survey.languages, survey.asks_for_contact) == (False, ["en"], True)


def test_a_survey_cannot_go_live_in_spanish_with_a_question_in_english_only(manager_client):
    survey = _spanish_survey()
    response = manager_client.post(
        reverse("feedback:survey_set_active", args=[survey.pk]), {"active": "1"}, follow=True
    )
    page = response.content.decode()
    assert "Spanish is offered but has no text for: question 2, “Anything else?”" in page
    survey.refresh_from_db()
    assert not survey.is_active


def test_the_builder_says_what_is_missing_before_the_manager_tries(manager_client):
    survey = _spanish_survey()
    page = manager_client.get(reverse("feedback:survey_builder", args=[survey.pk])).content.decode()
    assert 'id="language-problems"' in page
    assert "question 2, “Anything else?”" in page
    survey.questions.filter(text="Anything else?").update(text_es="¿Algo más?")
    page = manager_client.get(reverse("feedback:survey_builder", args=[survey.pk])).content.decode()
    assert 'id="language-problems"' not in page
    manager_client.post(reverse("feedback:survey_set_active", args=[survey.pk]), {"active": "1"})
    survey.refresh_from_db()
    assert survey.is_active


def test_spanish_cannot_be_added_to_a_live_survey_whose_texts_are_missing(manager_client):
    survey = SurveyFactory(title="Phone line", title_es="", languages=["en"], is_active=True)
    QuestionFactory(survey=survey, text="How quickly did we answer?", text_es="")
    response = manager_client.post(
        reverse("feedback:survey_update", args=[survey.pk]),
        {
            "title": "Phone line",
            "slug": survey.slug,
            "audience": "patient",
            "languages": ["en", "es"],
            "contact_within_days": 2,
        },
    )
    assert response.status_code == 400
    assert "the title" in response.content.decode()
    survey.refresh_from_db()
    assert survey.languages == ["en"]


def test_a_question_added_to_a_live_spanish_survey_needs_its_spanish(manager_client):
    survey = SurveyFactory(is_active=True)
    response = manager_client.post(
        reverse("feedback:question_create", args=[survey.pk]), {"kind": "text", "text": "Anything else?"}
    )
    assert response.status_code == 400
    assert "give the question in Spanish too" in response.content.decode()
    assert not survey.questions.exists()


def test_a_ready_made_survey_with_a_title_of_ones_own_starts_in_english_only(manager_client):
    from feedback.services import survey_create_from_template

    keep = survey_create_from_template(key="waiting-room-kiosk")
    own = survey_create_from_template(key="waiting-room-kiosk", title="Riverside waiting room")
    assert keep.languages == ["en", "es"]
    assert own.languages == ["en"]
    assert own.language_problems() == []


def test_the_poster_comes_in_three_sizes_and_refuses_none_it_does_not_know(manager_client):
    survey = SurveyFactory()
    url = reverse("feedback:survey_poster", args=[survey.pk])
    for size, faces in (("a4", 1), ("a5", 1), ("card", 2)):
        page = manager_client.get(url, {"size": size}).content.decode()
        assert f"poster-{size}" in page
        assert page.count('class="poster-qr"') == faces
    assert "poster-a4" in manager_client.get(url, {"size": "billboard"}).content.decode()
