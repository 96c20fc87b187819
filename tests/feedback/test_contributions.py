"""What feedback counts for the dashboard (feedback.contributions): per day and place, from its own tables."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from django.utils import timezone

from feedback.contributions import (
    answered_invitations_per_day,
    daily_counts,
    daily_theme_counts,
    fft_categories,
    negative_comment_examples,
    response_days,
    responses_per_day,
)
from feedback.models import ThemeMention
from servicedesk.metrics import Filters, Period
from tests.factories import (
    AnswerFactory,
    InvitationFactory,
    LocationFactory,
    QuestionFactory,
    ResponseFactory,
    SurveyFactory,
    ThemeFactory,
)

pytestmark = pytest.mark.django_db


def _noon(days_ago: int = 1) -> datetime:
    day = timezone.localdate() - timedelta(days=days_ago)
    return timezone.make_aware(datetime.combine(day, datetime.min.time())) + timedelta(hours=12)


def _answered(choice: str, *, when: datetime, channel: str = "kiosk", **fields):
    response = ResponseFactory(
        submitted_at=when, channel=channel, is_negative=choice in ("poor", "very_poor"), **fields
    )
    AnswerFactory(response=response, question=QuestionFactory(survey=response.survey), choice=choice)
    return response


def _commented(response, text: str, *themes):
    """A comment on ``response`` tagged as a submission would tag it (per clause, own sentiment)."""
    from feedback.analysis import ThemeMatcher
    from feedback.services import theme_mentions

    answer = AnswerFactory(
        response=response,
        question=QuestionFactory(survey=response.survey, kind="text"),
        choice="",
        value=None,
        text=text,
    )
    matcher = ThemeMatcher.from_themes(themes)
    ThemeMention.objects.bulk_create(theme_mentions([answer], matcher))
    response.themes.add(*themes)
    return answer


def test_a_day_is_counted_per_place_and_the_staff_pulse_is_left_out():
    riverside = LocationFactory()
    when = _noon()
    _answered("very_good", when=when, location=riverside)
    _answered("poor", when=when, location=riverside)
    _answered("good", when=when)
    _answered("very_poor", when=when, channel="staff")  # the team's pulse, not a patient's experience
    counts = daily_counts(days=[when.date()])
    at_riverside = counts[(timezone.localdate(when), riverside.pk, None, None)]
    assert (at_riverside["responses"], at_riverside["negative"]) == (2, 1)
    assert (at_riverside["fft_very_good"], at_riverside["fft_poor"], at_riverside["fft_very_poor"]) == (
        1,
        1,
        0,
    )
    assert counts[(timezone.localdate(when), None, None, None)]["fft_good"] == 1
    assert responses_per_day(since=when.date(), until=timezone.localdate()) == {when.date(): 3}


def test_days_not_asked_for_are_not_counted():
    _answered("good", when=_noon(3))
    assert daily_counts(days=[timezone.localdate(_noon(1))]) == {}
    assert daily_counts(days=[]) == {}
    assert daily_theme_counts(days=[]) == []


def test_invitations_count_on_the_day_of_the_visit_once_they_reached_the_patient():
    survey = SurveyFactory()
    visit = _noon(2)
    InvitationFactory(survey=survey, visit_at=visit, status="completed")
    InvitationFactory(survey=survey, visit_at=visit, status="sent")
    InvitationFactory(survey=survey, visit_at=visit, status="failed")  # never reached them
    counts = daily_counts(days=[visit.date()])[(visit.date(), None, None, None)]
    assert (counts["invitations_delivered"], counts["invitations_answered"]) == (2, 1)
    assert answered_invitations_per_day(since=visit.date(), until=timezone.localdate()) == {visit.date(): 1}


def test_theme_mentions_are_counted_all_and_negative():
    waiting = ThemeFactory(name="Waiting", keywords="wait*")
    when = _noon()
    _commented(_answered("poor", when=when), "We waited an hour and nobody said sorry", waiting)
    _commented(_answered("very_good", when=when), "Hardly any wait, lovely", waiting)
    # An unhappy response whose waiting was fine: it mentions waiting, but not against it.
    _commented(_answered("poor", when=when), "The wait was short, but the doctor was rude", waiting)
    [row] = daily_theme_counts(days=[when.date()])
    assert (row["theme_id"], row["mentions"], row["negative_mentions"]) == (waiting.pk, 3, 1)


def test_the_response_days_span_the_first_and_last_patient_response():
    assert response_days() is None
    _answered("good", when=_noon(5))
    _answered("good", when=_noon(1))
    assert response_days() == (_noon(5).date(), _noon(1).date())


def test_example_comments_are_the_latest_negative_ones_of_each_theme_without_repeats():
    waiting = ThemeFactory(name="Waiting", keywords="wait*\nseat*\nold")
    for minutes, text in (
        (1, "Waited an hour"),
        (2, "Waited an hour"),
        (3, "Lovely nurse. The seats were filthy"),
        (4, "Too old, terrible"),
    ):
        _commented(_answered("poor", when=_noon() - timedelta(minutes=minutes)), text, waiting)
    _commented(_answered("very_good", when=_noon()), "Friendly staff and hardly any wait", waiting)
    period = Period(start=_noon(3), end=timezone.now())
    found = negative_comment_examples(theme_ids=[waiting.pk], period=period, filters=Filters(), examples=2)
    # The clause that mentions the theme, not the whole comment; never a kind one.
    assert found == {waiting.pk: ["Waited an hour", "The seats were filthy"]}
    assert negative_comment_examples(theme_ids=[], period=period, filters=Filters(), examples=2) == {}


def test_the_fft_categories_are_the_six_standard_ones_best_first():
    assert [name for name, _label in fft_categories()] == [
        "fft_very_good", "fft_good", "fft_neither", "fft_poor", "fft_very_poor", "fft_dont_know",
    ]  # fmt: skip
