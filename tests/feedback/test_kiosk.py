import re
from datetime import timedelta

import pytest
import time_machine
from django.urls import reverse
from django.utils import timezone

from feedback.models import Question, Response
from feedback.signals import response_submitted
from tests.factories import LocationFactory, QuestionFactory, SurveyFactory, TouchpointFactory

pytestmark = pytest.mark.django_db


def _post(client, survey, data, **params):
    questions = {q.text: f"q{q.pk}" for q in survey.questions.live()}
    payload = {questions.get(k, k): v for k, v in data.items()}
    page = client.get(reverse("patient:kiosk", args=[survey.slug]), params)
    started = re.search(r'name="started" value="([^"]+)"', page.content.decode()).group(1)
    return client.post(
        reverse("patient:kiosk", args=[survey.slug]), {"started": started, **params, **payload}
    )


def test_a_patient_needs_no_login_to_see_the_kiosk_form(client, kiosk_survey):
    response = client.get("/k/kiosk/")
    html = response.content.decode()
    assert response.status_code == 200
    assert "<legend" in html
    assert "Overall?" in html
    assert 'name="website"' in html  # honeypot
    assert response["Cache-Control"] == "no-store"  # Back on a kiosk never shows the last answers


def test_a_kiosk_answer_is_stored_with_its_channel_and_place(client, kiosk_survey):
    touchpoint = TouchpointFactory()
    kiosk_survey.touchpoint = touchpoint
    kiosk_survey.save()
    response = _post(client, kiosk_survey, {"Overall?": "good", "Why?": "Friendly and quick."})
    assert response.status_code == 302
    stored = Response.objects.get()
    assert (stored.channel, stored.touchpoint, stored.location) == ("kiosk", touchpoint, touchpoint.location)
    assert {a.question.text: a.display() for a in stored.answers.all()} == {
        "Overall?": "Good",
        "Why?": "Friendly and quick.",
    }
    assert stored.sentiment > 0


def test_the_qr_poster_link_records_the_qr_channel(client, kiosk_survey):
    _post(client, kiosk_survey, {"Overall?": "very_good"}, src="qr")
    assert Response.objects.get().channel == "qr"


def test_an_inactive_or_staff_survey_is_not_reachable_as_a_kiosk(client):
    SurveyFactory(slug="off", is_active=False)
    SurveyFactory(slug="pulse", audience="staff")
    assert client.get("/k/off/").status_code == 404
    assert client.get("/k/pulse/").status_code == 404


def test_a_missing_required_answer_is_listed_in_an_error_summary_that_links_to_the_field(
    client, kiosk_survey
):
    response = _post(client, kiosk_survey, {"Why?": "no rating"})
    html = response.content.decode()
    fft = kiosk_survey.questions.get(kind="fft")
    assert response.status_code == 400
    assert 'id="error-summary"' in html
    assert f'href="#id_q{fft.pk}_0"' in html
    assert f'id="id_q{fft.pk}_0"' in html
    assert "Please answer this question." in html
    assert Response.objects.count() == 0


@pytest.mark.parametrize(
    ("kind", "bad"),
    [
        ("fft", "brilliant"),
        ("nps", "11"),
        ("nps", "-1"),
        ("nps", "seven"),
        ("rating", "0"),
        ("rating", "6"),
        ("yes_no", "maybe"),
        ("single_choice", "sometimes-ish"),
        ("multi_choice", "nope"),
        ("text", "x" * 2001),
    ],
)
def test_a_bad_value_for_each_kind_of_question_gives_a_field_error_not_a_500(client, kind, bad):
    survey = SurveyFactory(slug="s")
    question = QuestionFactory(survey=survey, kind=kind, text="The question")
    response = _post(client, survey, {"The question": bad})
    assert response.status_code == 400
    assert response.context["form"].errors[f"q{question.pk}"]
    assert Response.objects.count() == 0


@pytest.mark.parametrize(
    ("kind", "good", "stored"),
    [
        ("fft", "very_poor", {"choice": "very_poor", "value": 1}),
        ("nps", "0", {"value": 0}),
        ("nps", "10", {"value": 10}),
        ("rating", "3", {"value": 3}),
        ("yes_no", "no", {"choice": "no", "value": 0}),
        ("single_choice", "usually", {"choice": "usually"}),
        ("multi_choice", ["always", "never"], {"choices": "|always|never|"}),
        ("text", "  Fine  ", {"text": "Fine"}),
    ],
)
def test_a_good_value_for_each_kind_is_stored_as_its_key_and_number(client, kind, good, stored):
    survey = SurveyFactory(slug="s")
    QuestionFactory(survey=survey, kind=kind, text="The question")
    assert _post(client, survey, {"The question": good}).status_code == 302
    answer = Response.objects.get().answers.get()
    assert {k: getattr(answer, k) for k in stored} == stored


def test_a_follow_up_question_is_asked_only_after_a_poor_answer(client, kiosk_survey):
    fft = kiosk_survey.questions.get(kind="fft")
    QuestionFactory(
        survey=kiosk_survey,
        position=5,
        kind=Question.Kind.TEXT,
        text="What could we have done better?",
        required=True,
        show_if_question=fft,
        show_if_min=1,
        show_if_max=2,
    )
    # Not shown after "good": not required, and an answer typed into it anyway is dropped.
    response = _post(client, kiosk_survey, {"Overall?": "good", "What could we have done better?": "x"})
    assert response.status_code == 302
    assert not Response.objects.get().answers.filter(question__text__startswith="What could").exists()
    # Shown after "poor": now it is required.
    response = _post(client, kiosk_survey, {"Overall?": "poor"})
    assert response.status_code == 400
    assert "What could we have done better?" in str(response.context["form"].error_links())
    response = _post(
        client, kiosk_survey, {"Overall?": "poor", "What could we have done better?": "Be on time"}
    )
    assert response.status_code == 302


def test_the_follow_up_question_explains_when_it_applies_for_people_without_javascript(client, kiosk_survey):
    fft = kiosk_survey.questions.get(kind="fft")
    QuestionFactory(
        survey=kiosk_survey, kind="text", text="Better?", show_if_question=fft, show_if_min=1, show_if_max=2
    )
    html = client.get("/k/kiosk/").content.decode()
    assert "your answer to “Overall?” was Poor or Very poor." in html
    assert f'data-show-if="q{fft.pk}"' in html


def test_the_honeypot_turns_bots_away_silently(client, kiosk_survey):
    response = _post(client, kiosk_survey, {"Overall?": "good", "website": "http://spam.example"})
    assert response.status_code == 302  # a bot sees success and moves on
    assert Response.objects.count() == 0


def test_a_form_sent_back_faster_than_a_person_could_fill_it_is_not_stored(client, kiosk_survey, settings):
    settings.FEEDBACK_MIN_FILL_SECONDS = 30
    response = _post(client, kiosk_survey, {"Overall?": "good"})
    assert response.status_code == 400
    assert "quicker than we expected" in response.content.decode()
    assert Response.objects.count() == 0
    forged = client.post(
        "/k/kiosk/", {f"q{kiosk_survey.questions.get(kind='fft').pk}": "good", "started": "forged"}
    )
    assert forged.status_code == 400


def test_kiosk_posts_beyond_the_rate_limit_get_a_friendly_429(client, kiosk_survey, settings, rate_limits):
    settings.RATE_LIMITS = {**rate_limits, "patient:kiosk": {**rate_limits["public"], "POST": "3/d"}}
    for _ in range(3):
        assert _post(client, kiosk_survey, {"Overall?": "good"}).status_code == 302
    response = _post(client, kiosk_survey, {"Overall?": "good"})
    assert response.status_code == 429
    assert "Please try again in a few minutes" in response.content.decode()  # the kiosk's own page
    assert 0 < int(response["Retry-After"]) <= 24 * 3600
    assert Response.objects.count() == 3


def test_the_kiosk_limit_is_in_rate_limits_and_off_with_every_other_limit(client, kiosk_survey, settings):
    assert settings.RATE_LIMITS["patient:kiosk"]["POST"] == "20/10m"
    assert not hasattr(settings, "FEEDBACK_KIOSK_RATE_LIMIT")  # one setting for one thing
    settings.RATE_LIMIT_ENABLED = False  # as RATE_LIMIT_ENABLED=0 does, for benchmarks
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "patient:kiosk": {"*": "1/d"}}
    for _ in range(3):
        assert _post(client, kiosk_survey, {"Overall?": "good"}).status_code == 302
    assert Response.objects.count() == 3


def test_the_rate_limit_counts_each_device_separately(client, kiosk_survey, settings, rate_limits):
    settings.RATE_LIMITS = {**rate_limits, "patient:kiosk": {"POST": "1/d"}}
    fft = f"q{kiosk_survey.questions.get(kind='fft').pk}"
    assert (
        client.post("/k/kiosk/", {fft: "good", "started": _stamp()}, REMOTE_ADDR="10.0.0.1").status_code
        == 302
    )
    assert (
        client.post("/k/kiosk/", {fft: "good", "started": _stamp()}, REMOTE_ADDR="10.0.0.1").status_code
        == 429
    )
    assert (
        client.post("/k/kiosk/", {fft: "good", "started": _stamp()}, REMOTE_ADDR="10.0.0.2").status_code
        == 302
    )


def test_a_cache_outage_does_not_stop_patients_giving_feedback(
    client, kiosk_survey, monkeypatch, rate_limits
):
    from feedback.views import answer
    from servicedesk.security import ratelimit
    from tests.outages import DeadCache

    monkeypatch.setattr(ratelimit, "cache", DeadCache())
    monkeypatch.setattr(answer, "cache", DeadCache())  # nor can a form's single use be checked
    monkeypatch.setattr(ratelimit, "_cache_down_until", 0.0)
    assert _post(client, kiosk_survey, {"Overall?": "good"}).status_code == 302
    assert Response.objects.count() == 1


def test_a_kiosk_form_is_accepted_once(client, kiosk_survey):
    fft = f"q{kiosk_survey.questions.get(kind='fft').pk}"
    form = {fft: "good", "started": _stamp()}
    assert client.post("/k/kiosk/", form).status_code == 302
    replayed = client.post("/k/kiosk/", form)
    assert replayed.status_code == 400
    assert "These answers were already sent" in replayed.content.decode()
    assert Response.objects.count() == 1
    fresh = re.search(r'name="started" value="([^"]+)"', replayed.content.decode()).group(1)
    assert client.post("/k/kiosk/", {**form, "started": fresh}).status_code == 302  # a person resends


def test_a_kiosk_form_stamp_expires_after_minutes_not_a_day(client, kiosk_survey, settings):
    settings.FEEDBACK_FORM_MAX_MINUTES = 30
    fft = f"q{kiosk_survey.questions.get(kind='fft').pk}"
    shown = timezone.now()
    with time_machine.travel(shown, tick=False):
        stamp = _stamp()
    with time_machine.travel(shown + timedelta(minutes=31), tick=False):
        stale = client.post("/k/kiosk/", {fft: "good", "started": stamp})
    assert stale.status_code == 400
    assert "This page was open for a long time" in stale.content.decode()
    with time_machine.travel(shown + timedelta(minutes=29), tick=False):
        assert client.post("/k/kiosk/", {fft: "good", "started": stamp}).status_code == 302
    assert Response.objects.count() == 1


def test_a_poster_link_cannot_credit_another_sites_touchpoint(client, kiosk_survey):
    here, elsewhere = LocationFactory(name="Riverside"), LocationFactory(name="Hillside")
    own, practice_wide = TouchpointFactory(location=here), TouchpointFactory(location=None)
    other_site = TouchpointFactory(location=elsewhere)
    kiosk_survey.location = here
    kiosk_survey.save()
    for touchpoint, credited in ((own, own), (practice_wide, practice_wide), (other_site, None)):
        assert _post(client, kiosk_survey, {"Overall?": "good"}, tp=touchpoint.pk).status_code == 302
        stored = Response.objects.latest("pk")
        assert (stored.touchpoint, stored.location) == (credited, here)  # practice-wide: the survey's site


def _stamp():
    from feedback.forms import started_stamp

    return started_stamp()


def test_the_page_and_the_answers_switch_to_spanish(client, kiosk_survey):
    html = client.get("/k/kiosk/?lang=es").content.decode()
    assert '<html lang="es">' in html
    assert "¿En general?" in html
    assert "Díganos qué tal lo hicimos" in html  # the patients' heading, not the team's title
    assert 'hreflang="en"' in html  # the switch back to English
    _post(client, kiosk_survey, {"Overall?": "good", "lang": "es"})
    assert Response.objects.get().language == "es"


def test_a_language_the_survey_does_not_offer_falls_back_to_english(client, kiosk_survey):
    kiosk_survey.languages = ["en"]
    kiosk_survey.save()
    html = client.get("/k/kiosk/?lang=es", HTTP_ACCEPT_LANGUAGE="es").content.decode()
    assert '<html lang="en">' in html
    assert "¿En general?" not in html


def test_contact_details_are_dropped_without_consent(client, kiosk_survey):
    _post(client, kiosk_survey, {"Overall?": "poor", "contact_name": "Ann", "contact_phone": "07700 900123"})
    stored = Response.objects.get()
    assert (stored.consent_to_contact, stored.contact_name, stored.contact_phone) == (False, "", "")


def test_consent_without_a_phone_or_email_asks_for_one(client, kiosk_survey):
    response = _post(
        client, kiosk_survey, {"Overall?": "poor", "consent_to_contact": "on", "contact_name": "Ann"}
    )
    assert response.status_code == 400
    assert "phone number or an email address" in response.content.decode()


def test_after_a_negative_answer_with_consent_the_thank_you_page_says_when_we_will_call(client, kiosk_survey):
    response = _post(
        client,
        kiosk_survey,
        {"Overall?": "very_poor", "consent_to_contact": "on", "contact_phone": "07700 900123"},
    )
    page = client.get(response["Location"])
    assert "will contact you within 2 working days" in page.content.decode()
    assert Response.objects.get().contact_phone == "07700 900123"


def test_after_a_positive_answer_the_thank_you_page_promises_no_call(client, kiosk_survey):
    response = _post(
        client,
        kiosk_survey,
        {"Overall?": "very_good", "consent_to_contact": "on", "contact_phone": "07700 900123"},
    )
    page = client.get(response["Location"]).content.decode()
    assert "will contact you" not in page
    assert "Start again for the next person" in page  # the kiosk resets for the next patient


def test_a_tampered_thank_you_link_shows_a_plain_thank_you(client, kiosk_survey):
    page = client.get("/k/kiosk/thanks/?r=not-signed")
    assert page.status_code == 200
    assert "will contact you" not in page.content.decode()


def test_an_anonymous_survey_never_asks_for_contact_details(client):
    survey = SurveyFactory(slug="anon", is_anonymous=True)
    QuestionFactory(survey=survey, kind="fft")
    html = client.get("/k/anon/").content.decode()
    assert "contact_phone" not in html


def test_response_submitted_is_sent_after_commit_with_the_negative_flag(
    client, kiosk_survey, django_capture_on_commit_callbacks
):
    received = []

    def listener(sender, response_id, is_negative, **kwargs):
        received.append((response_id, is_negative))

    response_submitted.connect(listener)
    try:
        with django_capture_on_commit_callbacks(execute=False) as callbacks:
            _post(client, kiosk_survey, {"Overall?": "very_poor"})
        assert received == []  # nothing before the transaction commits
        for callback in callbacks:
            callback()
    finally:
        response_submitted.disconnect(listener)
    assert received == [(Response.objects.get().pk, True)]


def test_a_failing_listener_never_turns_a_stored_answer_into_an_error_page(
    client, kiosk_survey, django_capture_on_commit_callbacks, caplog
):
    def broken(sender, **kwargs):
        raise RuntimeError("recovery is down")

    response_submitted.connect(broken)
    try:
        with django_capture_on_commit_callbacks(execute=True):
            page = _post(client, kiosk_survey, {"Overall?": "very_poor"})
    finally:
        response_submitted.disconnect(broken)
    assert page.status_code == 302  # the thank-you page, not a 500
    assert Response.objects.count() == 1
    assert "response_submitted receiver" in caplog.text
    assert "RuntimeError" in caplog.text


def test_a_kiosk_answer_costs_a_few_queries_whatever_it_says(client, kiosk_survey, django_assert_num_queries):
    """The request path of a patient's tap: the survey with its place, whether the site has its own
    survey in its place (``feedback.sites.survey_in_force``), its questions, the response and its
    answers (plus the test's own savepoint pair); a comment adds the themes, its mentions and the
    response's tags. Nothing is looked up one row at a time."""
    kiosk_survey.touchpoint = TouchpointFactory()
    kiosk_survey.save()
    fields = {q.text: f"q{q.pk}" for q in kiosk_survey.questions.live()}
    for answers, queries in (
        ({"Overall?": "good"}, 7),
        ({"Overall?": "poor", "Why?": "We waited an hour."}, 10),
    ):
        data = {"started": _stamp(), **{fields[k]: v for k, v in answers.items()}}
        with django_assert_num_queries(queries):
            assert client.post("/k/kiosk/", data).status_code == 302
