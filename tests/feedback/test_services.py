import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from feedback import services
from feedback.forms import Answered
from feedback.library import READY_MADE
from feedback.models import Answer, Question
from feedback.services import Where, negative_reasons
from tests.factories import AnswerFactory, InvitationFactory, QuestionFactory, ResponseFactory, SurveyFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def survey():
    return SurveyFactory()


def _q(survey, kind):
    return QuestionFactory(survey=survey, kind=kind)


@pytest.mark.parametrize(
    ("kind", "answer", "negative"),
    [
        ("fft", {"choice": "very_poor", "value": 1}, True),
        ("fft", {"choice": "poor", "value": 2}, True),
        ("fft", {"choice": "neither", "value": 3}, False),
        ("fft", {"choice": "dont_know"}, False),
        ("nps", {"value": 6}, True),
        ("nps", {"value": 7}, False),
        ("rating", {"value": 2}, True),
        ("rating", {"value": 3}, False),
        ("yes_no", {"choice": "no", "value": 0}, False),
    ],
)
def test_the_default_negative_rules(survey, kind, answer, negative):
    reasons = negative_reasons(survey=survey, answers=[Answered(_q(survey, kind), **answer)], sentiment=None)
    assert bool(reasons) is negative


def test_strongly_negative_text_alone_makes_a_response_negative(survey):
    assert negative_reasons(survey=survey, answers=[], sentiment=-0.51) == ["text"]
    assert negative_reasons(survey=survey, answers=[], sentiment=-0.3) == []


def test_each_rule_can_be_switched_off_or_tuned_per_survey(survey):
    survey.negative_fft, survey.negative_nps_max, survey.negative_rating_max = False, 3, None
    survey.negative_sentiment_max = None
    answers = [
        Answered(_q(survey, "fft"), choice="very_poor", value=1),
        Answered(_q(survey, "nps"), value=5),
        Answered(_q(survey, "rating"), value=1),
    ]
    assert negative_reasons(survey=survey, answers=answers, sentiment=-0.9) == []
    survey.negative_nps_max = 5
    assert negative_reasons(survey=survey, answers=answers, sentiment=-0.9) == ["nps"]


def test_submitting_scores_comments_tags_themes_and_flags_negative(survey):
    text = _q(survey, "text")
    fft = _q(survey, "fft")
    response = services.response_submit(
        survey=survey,
        answers=[
            Answered(fft, choice="poor", value=2),
            Answered(text, text="Waited an hour and the receptionist was rude. Awful."),
        ],
        channel="kiosk",
        language="en",
        where=Where(),
        contact={"consent_to_contact": False},
        now=timezone.now(),
    )
    assert response.is_negative
    assert response.negative_reasons == ["fft", "text"]
    assert response.sentiment <= -0.5
    assert {"Wait time", "Staff attitude"} <= {t.name for t in response.themes.all()}
    assert response.answers.get(question=text).sentiment == response.sentiment


def test_a_response_without_text_has_no_sentiment(survey):
    response = services.response_submit(
        survey=survey,
        answers=[Answered(_q(survey, "fft"), choice="good", value=4)],
        channel="kiosk",
        language="en",
        where=Where(),
        contact={"consent_to_contact": False},
        now=timezone.now(),
    )
    assert response.sentiment is None
    assert not response.is_negative


def test_an_invitation_is_answered_once_the_second_submission_is_refused_and_stores_nothing(survey):
    """No unique constraint says it (the responses are partitioned by month): the claim does."""
    fft = _q(survey, "fft")
    invitation = InvitationFactory(survey=survey)

    def submit():
        return services.response_submit(
            survey=survey,
            answers=[Answered(fft, choice="good", value=4)],
            channel="link",
            language="en",
            where=Where(),
            contact={"consent_to_contact": False},
            now=timezone.now(),
            invitation=invitation,
        )

    first = submit()
    with pytest.raises(services.InvitationClosed):
        submit()

    assert list(invitation.responses.all()) == [first]
    assert Answer.objects.filter(response__invitation=invitation).count() == 1


@pytest.mark.parametrize("key", list(READY_MADE))
def test_ready_made_surveys_are_created_with_every_question_in_both_languages(key):
    survey = services.survey_create_from_template(key=key)
    spec = READY_MADE[key]
    questions = list(survey.questions.live())
    assert [q.text for q in questions] == [q.text for q in spec.questions]
    assert all(q.text_es for q in questions)
    assert not survey.is_active  # a manager checks it first


def test_the_after_your_visit_survey_asks_what_we_could_do_better_only_after_a_poor_answer():
    survey = services.survey_create_from_template(key="after-your-visit")
    better = survey.questions.get(text__startswith="We are sorry")
    assert better.show_if_question.kind == "fft"
    assert (better.show_if_min, better.show_if_max) == (1, 2)


def test_a_second_survey_from_the_same_template_gets_its_own_address():
    first = services.survey_create_from_template(key="waiting-room-kiosk")
    second = services.survey_create_from_template(key="waiting-room-kiosk")
    assert (first.slug, second.slug) == ("waiting-room-kiosk", "waiting-room-kiosk-2")


def test_a_survey_cannot_be_switched_on_without_questions(survey):
    survey.is_active = False
    survey.save()
    with pytest.raises(ValidationError):
        services.survey_set_active(survey=survey, active=True)
    _q(survey, "fft")
    services.survey_set_active(survey=survey, active=True)
    survey.refresh_from_db()
    assert survey.is_active


def _data(question, **changes):
    data = {
        "kind": question.kind,
        "text": question.text,
        "text_es": question.text_es,
        "help_text": "",
        "help_text_es": "",
        "required": question.required,
        "touchpoint": None,
        "choices_text": list(question.choices),
        "show_if_question": None,
        "show_if_min": None,
        "show_if_max": None,
    }
    return {**data, **changes}


def test_removing_an_answered_question_archives_it_and_keeps_its_answers(survey):
    question = _q(survey, "fft")
    AnswerFactory(response=ResponseFactory(survey=survey), question=question)
    assert services.question_remove(question=question, now=timezone.now()) is True
    question.refresh_from_db()
    assert question.is_archived
    assert question.answers.count() == 1
    assert list(survey.questions.live()) == []


def test_removing_an_unanswered_question_deletes_it(survey):
    question = _q(survey, "fft")
    assert services.question_remove(question=question, now=timezone.now()) is False
    assert not Question.objects.filter(pk=question.pk).exists()


def test_a_question_another_depends_on_cannot_be_removed(survey):
    parent = _q(survey, "rating")
    QuestionFactory(survey=survey, kind="text", show_if_question=parent, show_if_max=2)
    with pytest.raises(ValidationError):
        services.question_remove(question=parent, now=timezone.now())


def test_rewording_an_answered_question_edits_it_in_place(survey):
    question = _q(survey, "single_choice")
    AnswerFactory(response=ResponseFactory(survey=survey), question=question, choice="always", value=None)
    saved = services.question_update(
        question=question, data=_data(question, text="Reworded"), now=timezone.now()
    )
    assert saved.pk == question.pk
    assert saved.text == "Reworded"


def test_dropping_an_answered_choice_archives_the_old_question_and_adds_a_new_version(survey):
    question = _q(survey, "single_choice")
    AnswerFactory(response=ResponseFactory(survey=survey), question=question, choice="always", value=None)
    new_choices = [
        {"value": "yes", "label": "Yes", "label_es": "Sí"},
        {"value": "no", "label": "No", "label_es": "No"},
    ]
    saved = services.question_update(
        question=question, data=_data(question, choices_text=new_choices), now=timezone.now()
    )
    question.refresh_from_db()
    assert saved.pk != question.pk
    assert question.is_archived
    assert question.answers.count() == 1
    assert question.choice_values() == ["always", "usually", "never"]
    assert saved.choice_values() == ["yes", "no"]
    assert saved.position == question.position


def test_dependants_follow_a_rating_question_to_its_new_version(survey):
    # kind cannot change once answered, so a numeric parent stays numeric; dependants keep working
    question = _q(survey, "rating")
    child = QuestionFactory(survey=survey, kind="text", show_if_question=question, show_if_max=2)
    saved = services.question_update(question=question, data=_data(question, text="New"), now=timezone.now())
    child.refresh_from_db()
    assert child.show_if_question == saved


def test_questions_move_up_and_down_but_never_above_the_one_they_depend_on(survey):
    first, second = _q(survey, "rating"), _q(survey, "fft")
    third = QuestionFactory(survey=survey, kind="text", show_if_question=second, show_if_max=2)
    services.question_move(question=second, up=True)
    assert list(survey.questions.live()) == [second, first, third]
    services.question_move(question=second, up=False)
    assert list(survey.questions.live()) == [first, second, third]
    with pytest.raises(ValidationError):
        services.question_move(question=third, up=True)
    services.question_move(question=first, up=True)  # already first: nothing happens
    assert list(survey.questions.live()) == [first, second, third]
