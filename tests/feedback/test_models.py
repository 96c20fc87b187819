from datetime import timedelta

import pytest
from django.conf import settings
from django.db import IntegrityError, transaction
from django.test import override_settings
from django.utils import timezone

from feedback.models import Invitation, Question, Response, localized
from tests.factories import (
    AnswerFactory,
    InvitationFactory,
    QuestionFactory,
    ResponseFactory,
    SurveyFactory,
)

pytestmark = pytest.mark.django_db


def test_an_invitation_token_finds_its_invitation():
    invitation = InvitationFactory()
    assert Invitation.objects.by_token(invitation.token, timezone.now()) == invitation


def test_an_invitation_token_carries_at_least_128_random_bits_and_stores_no_secret():
    invitation = InvitationFactory()
    selector, mac = invitation.token.split(".")
    assert len(selector) >= 22  # 16 random bytes, base64
    assert mac not in {str(v) for v in Invitation.objects.filter(pk=invitation.pk).values().get().values()}


@pytest.mark.parametrize(
    "tamper",
    [
        lambda t: t[:-1] + ("A" if t[-1] != "A" else "B"),  # forged MAC
        lambda t: t.split(".")[0],  # selector alone
        lambda t: "nonsense",
        lambda t: "",
        lambda t: "x" * 5000,
    ],
)
def test_a_forged_or_malformed_token_finds_nothing(tamper):
    invitation = InvitationFactory()
    assert Invitation.objects.by_token(tamper(invitation.token), timezone.now()) is None


def test_used_and_expired_invitations_are_not_found_by_their_token():
    now = timezone.now()
    used = InvitationFactory(status=Invitation.Status.COMPLETED, completed_at=now)
    expired = InvitationFactory(expires_at=now - timedelta(minutes=1))
    opted_out = InvitationFactory(status=Invitation.Status.OPTED_OUT)
    for invitation in (used, expired, opted_out):
        assert Invitation.objects.by_token(invitation.token, now) is None


def test_tokens_issued_before_a_secret_key_rotation_keep_working():
    invitation = InvitationFactory()
    old_token = invitation.token
    with override_settings(SECRET_KEY="n" * 60, SECRET_KEY_FALLBACKS=[settings.SECRET_KEY]):
        assert Invitation.objects.by_token(old_token, timezone.now()) == invitation


def test_contact_details_cannot_be_stored_without_consent():
    with pytest.raises(IntegrityError), transaction.atomic():
        ResponseFactory(consent_to_contact=False, contact_phone="07700 900123")
    assert ResponseFactory(consent_to_contact=True, contact_phone="07700 900123").has_contact


def test_an_answer_per_question_per_response():
    answer = AnswerFactory()
    with pytest.raises(IntegrityError), transaction.atomic():
        AnswerFactory(response=answer.response, question=answer.question)


@pytest.mark.parametrize(
    ("low", "high", "value", "shown"),
    [
        (1, 2, 1, True),
        (1, 2, 2, True),
        (1, 2, 3, False),
        (None, 6, 0, True),
        (9, None, 8, False),
        (1, 2, None, False),
    ],
)
def test_a_conditional_question_shows_only_when_the_earlier_answer_is_in_range(low, high, value, shown):
    rating = QuestionFactory(kind=Question.Kind.RATING)
    follow_up = QuestionFactory(
        survey=rating.survey,
        kind=Question.Kind.TEXT,
        show_if_question=rating,
        show_if_min=low,
        show_if_max=high,
    )
    assert follow_up.shows_for(value) is shown


def test_a_condition_without_a_range_is_refused_by_the_database():
    rating = QuestionFactory(kind=Question.Kind.RATING)
    with pytest.raises(IntegrityError), transaction.atomic():
        QuestionFactory(survey=rating.survey, kind=Question.Kind.TEXT, show_if_question=rating)


def test_texts_fall_back_to_english_when_a_translation_is_missing():
    question = QuestionFactory(text="How was it?", text_es="")
    assert localized(question, "text", "es") == "How was it?"
    question.text_es = "¿Qué tal?"
    assert localized(question, "text", "es") == "¿Qué tal?"
    assert localized(question, "text", "en") == "How was it?"


def test_sentiment_scores_fall_into_positive_neutral_and_negative():
    assert Response.sentiment_label(0.6) == "positive"
    assert Response.sentiment_label(0.0) == "neutral"
    assert Response.sentiment_label(-0.3) == "negative"
    assert Response.sentiment_label(None) is None


def test_archived_questions_are_hidden_from_the_live_form_but_keep_their_answers():
    survey = SurveyFactory()
    kept, archived = QuestionFactory(survey=survey), QuestionFactory(survey=survey)
    answer = AnswerFactory(response=ResponseFactory(survey=survey), question=archived)
    archived.archived_at = timezone.now()
    archived.save()
    assert list(survey.questions.live()) == [kept]
    assert answer.question.answers.count() == 1
