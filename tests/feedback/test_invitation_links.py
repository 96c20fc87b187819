from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from feedback.models import Invitation, Question, Response
from tests.concurrency import at_once
from tests.factories import InvitationFactory, QuestionFactory, SurveyFactory, TouchpointFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def invitation():
    survey = SurveyFactory(slug="after", is_anonymous=False)
    QuestionFactory(survey=survey, kind=Question.Kind.FFT, required=True, text="Overall?")
    touchpoint = TouchpointFactory()
    return InvitationFactory(
        survey=survey, touchpoint=touchpoint, location=touchpoint.location, language="es"
    )


def _answer(invitation, value="good"):
    return {f"q{invitation.survey.questions.get().pk}": value}


def test_the_invitation_link_opens_the_survey_in_the_patients_language(client, invitation):
    response = client.get(invitation.get_absolute_url())
    assert response.status_code == 200
    assert '<html lang="es">' in response.content.decode()
    assert response["Referrer-Policy"] == "no-referrer"
    assert response["Cache-Control"] == "no-store"


def test_answering_an_invitation_completes_it_and_records_the_visit(client, invitation):
    response = client.post(invitation.get_absolute_url(), _answer(invitation))
    assert response.status_code == 302
    assert invitation.token not in response["Location"]  # the thank-you page carries no token
    invitation.refresh_from_db()
    stored = Response.objects.get()
    assert invitation.status == Invitation.Status.COMPLETED
    assert invitation.completed_at is not None
    assert invitation.updated_at == invitation.completed_at  # stamped like every other status change
    assert (stored.invitation, stored.channel, stored.touchpoint) == (
        invitation,
        "link",
        invitation.touchpoint,
    )
    assert stored.location == invitation.location


def _neutral(client, url):
    response = client.get(url)
    return response.status_code, response.content.decode(), response["Referrer-Policy"]


def test_unknown_used_and_expired_links_get_the_same_neutral_page(client, invitation):
    now = timezone.now()
    used = InvitationFactory(survey=invitation.survey, status="completed", completed_at=now)
    expired = InvitationFactory(survey=invitation.survey, expires_at=now - timedelta(seconds=1))
    opted_out = InvitationFactory(survey=invitation.survey, status="opted_out")
    forged = invitation.token[:-2] + ("AA" if not invitation.token.endswith("AA") else "BB")
    pages = [
        _neutral(client, f"/f/{token}/")
        for token in ("nonsense", forged, used.token, expired.token, opted_out.token)
    ]
    assert len(set(pages)) == 1
    status, html, referrer = pages[0]
    assert status == 404
    assert referrer == "no-referrer"
    assert "This link cannot be used" in html


def test_a_second_answer_with_the_same_link_is_refused_with_the_neutral_page(client, invitation):
    url = invitation.get_absolute_url()
    assert client.post(url, _answer(invitation)).status_code == 302
    again = client.post(url, _answer(invitation, "very_poor"))
    assert again.status_code == 404
    assert Response.objects.count() == 1


def test_a_link_for_a_switched_off_survey_gets_the_neutral_page(client, invitation):
    invitation.survey.is_active = False
    invitation.survey.save()
    assert client.get(invitation.get_absolute_url()).status_code == 404


def test_a_link_whose_invitation_expires_while_the_form_is_open_is_refused(client, invitation, time_machine):
    url = invitation.get_absolute_url()
    client.get(url)
    time_machine.move_to(invitation.expires_at + timedelta(minutes=1))
    assert client.post(url, _answer(invitation)).status_code == 404
    assert Response.objects.count() == 0


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_posts_racing_with_one_link_store_exactly_one_response(postgres):
    survey = SurveyFactory(slug="race")
    question = QuestionFactory(survey=survey, kind=Question.Kind.FFT, required=True)
    invitation = InvitationFactory(survey=survey)
    url = invitation.get_absolute_url()

    def post() -> int:
        return Client().post(url, {f"q{question.pk}": "good"}).status_code

    assert sorted(at_once(post, post, post, post)) == [302, 404, 404, 404]
    assert Response.objects.filter(invitation=invitation).count() == 1


def test_the_form_can_be_sent_although_no_referrer_makes_the_browser_send_origin_null(invitation):
    browser = Client(enforce_csrf_checks=True)
    response = browser.post(invitation.get_absolute_url(), _answer(invitation), HTTP_ORIGIN="null")
    assert response.status_code == 302
    assert Response.objects.filter(invitation=invitation).exists()
