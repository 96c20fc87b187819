import csv
import io
from datetime import timedelta

import pytest
from django.conf import settings
from django.urls import reverse
from django.utils import timezone

from feedback.models import Theme
from feedback.results import ResponseFilter, nps_shown, survey_results
from servicedesk.spreadsheet import spreadsheet_safe as csv_safe
from tests.factories import (
    AnswerFactory,
    LocationFactory,
    QuestionFactory,
    ResponseFactory,
    SurveyFactory,
    TouchpointFactory,
)

pytestmark = pytest.mark.django_db

FFT_NUMBER = {"very_good": 5, "good": 4, "neither": 3, "poor": 2, "very_poor": 1, "dont_know": None}


@pytest.fixture
def survey():
    survey = SurveyFactory(slug="visit")
    QuestionFactory(survey=survey, position=0, kind="fft", text="Overall?")
    QuestionFactory(survey=survey, position=1, kind="nps", text="Recommend?")
    QuestionFactory(survey=survey, position=2, kind="text", text="Why?")
    QuestionFactory(survey=survey, position=3, kind="multi_choice", text="Which?")
    return survey


def respond(survey, fft=None, nps=None, text="", which=(), **fields):
    response = ResponseFactory(survey=survey, **fields)
    q = {question.kind: question for question in survey.questions.all()}
    if fft:
        AnswerFactory(response=response, question=q["fft"], choice=fft, value=FFT_NUMBER[fft])
    if nps is not None:
        AnswerFactory(response=response, question=q["nps"], choice="", value=nps)
    if text:
        AnswerFactory(response=response, question=q["text"], choice="", value=None, text=text, sentiment=-0.6)
    if which:
        AnswerFactory(
            response=response,
            question=q["multi_choice"],
            choice="",
            value=None,
            choices="|" + "|".join(which) + "|",
        )
    return response


def _results(survey, **scope):
    return survey_results(ResponseFilter(survey=survey, **scope), list(survey.questions.all()))


def test_fft_percentages_count_dont_know_in_the_denominator(survey):
    for answer in [
        "very_good",
        "very_good",
        "good",
        "neither",
        "poor",
        "very_poor",
        "dont_know",
        "good",
        "good",
        "good",
    ]:
        respond(survey, fft=answer)
    results = _results(survey)
    assert (results.fft_positive, results.fft_negative, results.fft_total) == (6, 2, 10)
    assert (results.fft_positive_pct, results.fft_negative_pct) == (60.0, 20.0)


def test_nps_is_percent_promoters_minus_percent_detractors():
    assert nps_shown({10: 5, 9: 1, 8: 2, 3: 2}) == 40
    assert nps_shown({0: 5}) == -100
    assert nps_shown({0: 4}) is None  # too few to show
    assert nps_shown({}) is None


def test_the_results_page_shows_the_headline_figures(manager_client, survey):
    for score in [10, 10, 9, 8, 2, 10]:
        respond(survey, fft="good", nps=score)
    page = manager_client.get(reverse("feedback:survey_results", args=[survey.pk]))
    html = page.content.decode()
    assert page.context["results"].nps == 50.0
    assert 'data-figure="nps">+50<' in html
    assert 'data-figure="fft-positive">100 %<' in html


def test_fewer_than_five_responses_are_too_few_to_show(manager_client, survey):
    for _ in range(4):
        respond(survey, fft="very_poor", nps=0)
    html = manager_client.get(reverse("feedback:survey_results", args=[survey.pk])).content.decode()
    assert "too few to show" in html
    assert 'data-figure="fft-positive"' not in html
    assert 'data-figure="nps"' not in html
    assert "chart-q" not in html  # no chart of four answers either
    respond(survey, fft="good", nps=10)
    html = manager_client.get(reverse("feedback:survey_results", args=[survey.pk])).content.decode()
    assert 'data-figure="fft-positive">20 %<' in html


def test_a_breakdown_row_with_fewer_than_five_answers_is_suppressed_while_others_show(survey):
    big, small = LocationFactory(name="Big"), LocationFactory(name="Small")
    for _ in range(5):
        respond(survey, fft="good", location=big)
    for _ in range(2):
        respond(survey, fft="very_poor", location=small)
    rows = {row.label: row for row in _results(survey).by_location}
    assert not rows["Big"].suppressed
    assert rows["Big"].positive_pct == 100.0
    assert rows["Small"].suppressed


def test_a_staff_pulse_hides_its_comments_until_five_people_have_answered(manager_client):
    pulse = SurveyFactory(slug="pulse", audience="staff")
    question = QuestionFactory(survey=pulse, kind="text")
    for _ in range(3):
        AnswerFactory(
            response=ResponseFactory(survey=pulse, channel="staff"),
            question=question,
            choice="",
            value=None,
            text="Rota is unfair",
        )
    html = manager_client.get(reverse("feedback:survey_results", args=[pulse.pk])).content.decode()
    assert "Rota is unfair" not in html
    assert "too few to show" in html


def test_multiple_choice_answers_are_counted_per_option(survey):
    for which in [("always",), ("always", "never"), ("never",), ("usually", "never"), ("always",)]:
        respond(survey, which=which)
    dist = next(d for d in _results(survey).distributions if d.question.kind == "multi_choice")
    assert {bar.label: bar.count for bar in dist.bars} == {"Always": 3, "Usually": 1, "Never": 3}
    assert dist.answered == 5


def test_results_can_be_narrowed_by_date_and_touchpoint(survey):
    desk = TouchpointFactory()
    respond(survey, fft="good", touchpoint=desk)
    respond(survey, fft="poor", submitted_at=timezone.now() - timedelta(days=40))
    today = timezone.localdate()
    assert _results(survey, date_from=today - timedelta(days=7)).fft_total == 1
    assert _results(survey, touchpoint_id=desk.pk).fft_counts == {"good": 1}
    everything = _results(survey)
    assert everything.fft_total == 2
    assert [(m["total"], m["counts"][1], m["counts"][3]) for m in everything.by_month][-1][0] == 1
    assert sum(m["total"] for m in everything.by_month) == 2


def test_results_are_recomputed_as_soon_as_a_response_arrives(manager_client, survey):
    url = reverse("feedback:survey_results", args=[survey.pk])
    for _ in range(5):
        respond(survey, fft="good")
    assert manager_client.get(url).context["results"].fft_total == 5
    assert manager_client.get(url).context["results"].fft_total == 5  # from the cache
    respond(survey, fft="poor")
    assert manager_client.get(url).context["results"].fft_total == 6


def test_the_results_page_defaults_to_the_last_90_days(manager_client, survey):
    respond(survey, fft="good", submitted_at=timezone.now() - timedelta(days=120))
    page = manager_client.get(reverse("feedback:survey_results", args=[survey.pk]))
    assert page.context["results"].total == 0


def test_comments_show_with_their_themes(manager_client, survey):
    response = respond(survey, fft="poor", text="The wait was far too long")
    response.themes.add(Theme.objects.get(name="Wait time"))
    html = manager_client.get(reverse("feedback:survey_results", args=[survey.pk])).content.decode()
    assert "The wait was far too long" in html
    assert "Wait time" in html


def test_an_invalid_filter_is_a_400_with_the_error_shown(manager_client, survey):
    page = manager_client.get(
        reverse("feedback:survey_results", args=[survey.pk]),
        {"date_from": "2026-05-01", "date_to": "2026-04-01"},
    )
    assert page.status_code == 400
    assert "The end date is before the start date." in page.content.decode()


@pytest.mark.parametrize(
    ("cell", "safe"),
    [
        ('=HYPERLINK("http://evil")', '\'=HYPERLINK("http://evil")'),
        ("+1+1", "'+1+1"),
        ("-2+3", "'-2+3"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\t=1", "'\t=1"),
        ("Lovely staff", "Lovely staff"),
        (-0.5, -0.5),
        (7, 7),
    ],
)
def test_csv_cells_that_a_spreadsheet_would_run_as_formulas_are_neutralised(cell, safe):
    assert csv_safe(cell) == safe


def test_the_export_neutralises_formulas_in_patients_comments_and_never_includes_contact_details(
    manager_client, survey
):
    respond(
        survey,
        fft="poor",
        nps=3,
        text='=cmd|" /C calc"!A0',
        consent_to_contact=True,
        contact_phone="07700 900123",
    )
    response = manager_client.get(reverse("feedback:survey_export", args=[survey.pk]))
    body = b"".join(response.streaming_content).decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(body)))
    header, row = rows[0], rows[1]
    assert row[header.index("Q3. Why?")] == '\'=cmd|" /C calc"!A0'
    assert row[header.index("Q2. Recommend?")] == "3"
    assert row[header.index("Q1. Overall?")] == "Poor"
    assert "07700 900123" not in body
    assert response["Content-Disposition"].startswith('attachment; filename="survey-')


def test_the_response_list_filters_by_theme_sentiment_and_negative(manager_client, survey):
    wait = Theme.objects.get(name="Wait time")
    tagged = respond(survey, fft="poor", text="Long wait", is_negative=True, sentiment=-0.6)
    tagged.themes.add(wait)
    respond(survey, fft="good", sentiment=0.7)
    url = reverse("feedback:response_list")
    assert list(manager_client.get(url, {"theme": wait.pk}).context["page"]) == [tagged]
    assert list(manager_client.get(url, {"negative": "on"}).context["page"]) == [tagged]
    assert list(manager_client.get(url, {"sentiment": "negative"}).context["page"]) == [tagged]
    assert len(manager_client.get(url, {"sentiment": "positive"}).context["page"]) == 1


def test_a_response_page_shows_contact_details_only_given_with_consent(manager_client, survey):
    with_consent = respond(survey, fft="poor", consent_to_contact=True, contact_phone="07700 900123")
    html = manager_client.get(reverse("feedback:response_detail", args=[with_consent.pk])).content.decode()
    assert "07700 900123" in html
    anonymous = respond(survey, fft="poor")
    html = manager_client.get(reverse("feedback:response_detail", args=[anonymous.pk])).content.decode()
    assert "Anonymous: no contact details were given." in html


def _fill(survey, n):
    location, touchpoint = LocationFactory(), TouchpointFactory()
    wait = Theme.objects.get(name="Wait time")
    for i in range(n):
        response = respond(
            survey,
            fft=["good", "poor", "very_good"][i % 3],
            nps=i % 11,
            text=f"Comment {i}",
            which=("always",),
            location=location,
            touchpoint=touchpoint,
        )
        response.themes.add(wait)


def _count_queries(client, url, django_assert_max_num_queries=None):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as queries:
        assert client.get(url).status_code == 200
    return len(queries)


def test_the_results_page_runs_the_same_number_of_queries_however_many_responses(manager_client, survey):
    url = reverse("feedback:survey_results", args=[survey.pk])
    _fill(survey, 6)
    few = _count_queries(manager_client, url)
    _fill(survey, 30)
    assert _count_queries(manager_client, url) == few
    session = 0 if "cache" in settings.SESSION_ENGINE else 1  # the embedded default reads it from its db
    assert few <= 18 + session


def test_the_response_list_runs_the_same_number_of_queries_however_many_responses(manager_client, survey):
    url = reverse("feedback:response_list")
    _fill(survey, 3)
    few = _count_queries(manager_client, url)
    _fill(survey, 30)
    assert _count_queries(manager_client, url) == few
    assert few <= 13  # includes the manager's second-factor device, loaded on every request


def test_comments_come_newest_first_twenty_to_a_page(manager_client, survey):
    now = timezone.now()
    for i in range(25):
        respond(survey, text=f"Comment number {i:02d}", submitted_at=now - timedelta(minutes=i))
    url = reverse("feedback:survey_results", args=[survey.pk])
    first = manager_client.get(url).context["comments"]
    assert [a.text for a in first.object_list][:2] == ["Comment number 00", "Comment number 01"]
    assert len(first.object_list) == 20
    assert first.has_next()
    second = manager_client.get(url, {"page": "2"})
    older = second.context["comments"]
    assert [a.text for a in older.object_list] == [f"Comment number {i}" for i in range(20, 25)]
    assert not older.has_next()
    assert 'href="?page=1#comments-heading">Newer</a>' in second.content.decode()
    assert manager_client.get(url, {"page": "nonsense"}).context["comments"].number == 1


def test_staff_pulse_answers_show_and_export_their_date_but_not_the_time_of_day(manager_client):
    pulse = SurveyFactory(slug="pulse", audience="staff")
    question = QuestionFactory(survey=pulse, kind="text", text="Suggestion?")
    when = timezone.now().replace(hour=7, minute=42)
    response = ResponseFactory(survey=pulse, channel="staff", submitted_at=when)
    AnswerFactory(response=response, question=question, choice="", value=None, text="More staff at 8am")
    local = timezone.localtime(when)
    detail = manager_client.get(reverse("feedback:response_detail", args=[response.pk])).content.decode()
    listed = manager_client.get(reverse("feedback:response_list")).content.decode()
    exported = b"".join(
        manager_client.get(reverse("feedback:survey_export", args=[pulse.pk])).streaming_content
    )
    for text in (detail, listed, exported.decode("utf-8-sig")):
        assert f"{local:%H:%M}" not in text
    assert local.date().isoformat() in exported.decode("utf-8-sig")
