import pytest
from django.urls import reverse

from feedback.models import Question, Survey, Theme
from tests.factories import AnswerFactory, QuestionFactory, ResponseFactory, SurveyFactory, ThemeFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def survey():
    survey = SurveyFactory(slug="visit")
    QuestionFactory(survey=survey, kind="fft", text="Overall?")
    return survey


def _manager_pages(survey):
    question = survey.questions.first()
    return [
        reverse("feedback:survey_list"),
        reverse("feedback:survey_create"),
        reverse("feedback:survey_from_template"),
        reverse("feedback:survey_builder", args=[survey.pk]),
        reverse("feedback:survey_update", args=[survey.pk]),
        reverse("feedback:survey_preview", args=[survey.pk]),
        reverse("feedback:survey_poster", args=[survey.pk]),
        reverse("feedback:question_create", args=[survey.pk]),
        reverse("feedback:question_update", args=[question.pk]),
        reverse("feedback:theme_list"),
        reverse("feedback:theme_create"),
        reverse("feedback:survey_results", args=[survey.pk]),
        reverse("feedback:survey_export", args=[survey.pk]),
        reverse("feedback:response_list"),
        reverse("feedback:response_detail", args=[ResponseFactory(survey=survey).pk]),
    ]


def _manager_actions(survey):
    question = survey.questions.first()
    return [
        reverse("feedback:survey_set_active", args=[survey.pk]),
        reverse("feedback:question_move", args=[question.pk]),
        reverse("feedback:question_remove", args=[question.pk]),
    ]


def test_anonymous_visitors_are_sent_to_log_in_for_every_manager_page(client, survey):
    for url in _manager_pages(survey) + _manager_actions(survey):
        response = client.post(url) if url in _manager_actions(survey) else client.get(url)
        assert response.status_code == 302, url
        assert response["Location"].startswith(reverse("login")), url


def test_staff_are_refused_every_manager_page(staff_client, survey):
    for url in _manager_pages(survey):
        assert staff_client.get(url).status_code == 403, url
    for url in _manager_actions(survey):
        assert staff_client.post(url).status_code == 403, url
    assert Question.objects.filter(survey=survey).count() == 1  # nothing was removed


def test_managers_can_open_every_manager_page(manager_client, survey):
    for url in _manager_pages(survey):
        assert manager_client.get(url).status_code == 200, url


def test_a_manager_creates_a_survey_from_a_ready_made_one(manager_client):
    response = manager_client.post(
        reverse("feedback:survey_from_template"), {"template": "waiting-room-kiosk"}
    )
    survey = Survey.objects.get(slug="waiting-room-kiosk")
    assert response["Location"] == reverse("feedback:survey_builder", args=[survey.pk])
    assert survey.questions.count() == 2


def test_an_unknown_template_is_a_form_error(manager_client):
    response = manager_client.post(reverse("feedback:survey_from_template"), {"template": "nope"})
    assert response.status_code == 400
    assert not Survey.objects.exists()


def test_a_manager_creates_a_blank_survey_and_its_address_comes_from_the_title(manager_client):
    response = manager_client.post(
        reverse("feedback:survey_create"),
        {"title": "Flu clinic", "audience": "patient", "languages": ["en", "es"], "contact_within_days": 2},
    )
    survey = Survey.objects.get()
    assert response.status_code == 302
    assert survey.slug == "flu-clinic"
    assert not survey.is_active


def test_a_survey_address_already_in_use_is_refused(manager_client, survey):
    response = manager_client.post(
        reverse("feedback:survey_create"),
        {
            "title": "Again",
            "slug": "visit",
            "audience": "patient",
            "languages": ["en"],
            "contact_within_days": 2,
        },
    )
    assert response.status_code == 400
    assert "already uses this short address" in response.content.decode()


def test_a_staff_pulse_is_always_anonymous(manager_client):
    manager_client.post(
        reverse("feedback:survey_create"),
        {"title": "Pulse", "audience": "staff", "languages": ["en"], "contact_within_days": 2},
    )
    assert Survey.objects.get().is_anonymous


def test_a_manager_adds_a_choice_question_with_spanish_labels(manager_client, survey):
    response = manager_client.post(
        reverse("feedback:question_create", args=[survey.pk]),
        {
            "kind": "single_choice",
            "text": "How often?",
            "text_es": "¿Con qué frecuencia?",
            "choices_text": "Always | Siempre\nNever | Nunca",
        },
    )
    assert response.status_code == 302
    question = survey.questions.get(text="How often?")
    assert question.choices == [
        {"value": "always", "label": "Always", "label_es": "Siempre"},
        {"value": "never", "label": "Never", "label_es": "Nunca"},
    ]
    assert question.position == survey.questions.get(text="Overall?").position + 1


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"kind": "single_choice", "text": "Pick", "choices_text": "Only one"}, "choices_text"),
        ({"kind": "single_choice", "text": "Pick", "choices_text": "Same\nsame"}, "choices_text"),
        ({"kind": "text", "text": ""}, "text"),
        ({"kind": "sideways", "text": "What?"}, "kind"),
        ({"kind": "text", "text": "Why?", "show_if_question": "PARENT"}, "show_if_min"),
        ({"kind": "text", "text": "Why?", "show_if_question": "PARENT", "show_if_min": "0"}, "show_if_min"),
        (
            {
                "kind": "text",
                "text": "Why?",
                "show_if_question": "PARENT",
                "show_if_min": "4",
                "show_if_max": "2",
            },
            "show_if_max",
        ),
    ],
)
def test_a_bad_question_is_explained_on_the_form(manager_client, survey, data, field):
    parent = survey.questions.get()
    data = {k: (str(parent.pk) if v == "PARENT" else v) for k, v in data.items()}
    response = manager_client.post(reverse("feedback:question_create", args=[survey.pk]), data)
    assert response.status_code == 400
    assert field in response.context["form"].errors
    assert survey.questions.count() == 1


def test_skip_logic_can_only_point_at_an_earlier_numeric_question(manager_client, survey):
    text = QuestionFactory(survey=survey, kind="text", text="Comment")
    response = manager_client.post(
        reverse("feedback:question_create", args=[survey.pk]),
        {"kind": "text", "text": "Why?", "show_if_question": text.pk, "show_if_min": "1"},
    )
    assert response.status_code == 400
    assert "show_if_question" in response.context["form"].errors


def test_the_kind_of_an_answered_question_cannot_change(manager_client, survey):
    question = survey.questions.get()
    AnswerFactory(response=ResponseFactory(survey=survey), question=question)
    manager_client.post(
        reverse("feedback:question_update", args=[question.pk]),
        {"kind": "text", "text": "Overall, really?", "text_es": "¿En general, de verdad?"},
    )
    question.refresh_from_db()
    assert (question.kind, question.text) == ("fft", "Overall, really?")


def test_the_builder_archives_an_answered_question_instead_of_deleting_it(manager_client, survey):
    question = survey.questions.get()
    AnswerFactory(response=ResponseFactory(survey=survey), question=question)
    manager_client.post(reverse("feedback:question_remove", args=[question.pk]), {"confirmed": "yes"})
    question.refresh_from_db()
    assert question.is_archived
    page = manager_client.get(reverse("feedback:survey_builder", args=[survey.pk])).content.decode()
    assert "Archived questions" in page


def test_switching_a_survey_off_takes_its_kiosk_page_down(manager_client, client, survey):
    manager_client.post(reverse("feedback:survey_set_active", args=[survey.pk]), {"active": "0"})
    survey.refresh_from_db()
    assert not survey.is_active
    client.logout()
    assert client.get("/k/visit/").status_code == 404


def test_the_preview_is_the_patient_page_and_saves_nothing(manager_client, survey):
    question = survey.questions.get()
    page = manager_client.get(reverse("feedback:survey_preview", args=[survey.pk]))
    assert "Overall?" in page.content.decode()
    assert "Preview" in page.content.decode()
    sent = manager_client.post(
        reverse("feedback:survey_preview", args=[survey.pk]), {f"q{question.pk}": "good"}
    )
    assert "would have been accepted" in sent.content.decode()
    bad = manager_client.post(
        reverse("feedback:survey_preview", args=[survey.pk]), {f"q{question.pk}": "great"}
    )
    assert bad.status_code == 400
    assert not survey.responses.exists()


def test_the_poster_has_a_qr_code_for_the_short_address(manager_client, survey, settings):
    settings.SITE_URL = "https://practice.example"
    page = manager_client.get(reverse("feedback:survey_poster", args=[survey.pk])).content.decode()
    assert "<svg" in page
    assert "<?xml" not in page
    assert "practice.example/k/visit/" in page


def test_managers_edit_the_theme_list(manager_client):
    response = manager_client.post(
        reverse("feedback:theme_create"),
        {"name": "Prescriptions", "keywords": "prescription*\n repeat \n", "is_active": "on"},
    )
    assert response.status_code == 302
    assert Theme.objects.get(name="Prescriptions").keyword_list() == ["prescription*", "repeat"]
    theme = ThemeFactory(name="Old")
    response = manager_client.post(
        reverse("feedback:theme_update", args=[theme.pk]), {"name": "Old", "keywords": "   "}
    )
    assert response.status_code == 400


def test_staff_find_the_pulse_on_my_work_and_answer_it_anonymously(staff_client, staff):
    pulse = SurveyFactory(slug="pulse", audience="staff", title="Staff pulse")
    question = QuestionFactory(survey=pulse, kind="rating", required=True)
    my_work = staff_client.get(reverse("my_work")).content.decode()
    assert reverse("feedback:pulse", args=["pulse"]) in my_work
    response = staff_client.post(reverse("feedback:pulse", args=["pulse"]), {f"q{question.pk}": "4"})
    assert response.status_code == 302
    stored = pulse.responses.get()
    assert (stored.channel, stored.location, stored.touchpoint) == ("staff", None, None)
    assert not any(f.related_model and f.related_model.__name__ == "User" for f in stored._meta.fields)
    assert staff_client.get(response["Location"]).status_code == 200


def test_anonymous_visitors_cannot_open_the_staff_pulse(client):
    SurveyFactory(slug="pulse", audience="staff")
    response = client.get(reverse("feedback:pulse", args=["pulse"]))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))
