"""Did the change work? Recurrence and FFT for the 30 days before and the 30 days from the change,
each window's edges counted in the practice's local days, and "too soon to tell" until it is over."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from feedback.models import AnswerDay
from learning.measures import change_effect
from learning.models import Change, LearningRules, Pattern
from tests.factories import QuestionFactory, SurveyFactory
from tests.learning.conftest import london

pytestmark = pytest.mark.django_db

MADE_ON = date(2026, 6, 15)  # before: 16 May … 14 Jun; after: 15 Jun … 14 Jul


@pytest.fixture
def change(pattern_with_change):
    # Three in the window that made the pattern (all "before"), one just inside each edge of each window.
    return pattern_with_change(
        made_on=MADE_ON,
        incidents_at=[
            london("2026-05-15 23:59"),  # the day before the before window: not counted
            london("2026-05-16 00:00"),  # the before window's first instant
            london("2026-06-14 23:59"),  # the before window's last minute
        ],
    )


def test_incidents_are_counted_from_their_windows_edges(change, similar):
    similar(london("2026-06-15 00:00"))  # the day of the change counts as after
    similar(london("2026-07-14 23:59"))  # the after window's last minute
    similar(london("2026-07-15 00:00"))  # past the after window
    effect = change_effect(change, now=london("2026-08-01 12:00"))
    assert (effect.before.first_day, effect.before.last_day) == (date(2026, 5, 16), date(2026, 6, 14))
    assert (effect.after.first_day, effect.after.last_day) == (date(2026, 6, 15), date(2026, 7, 14))
    assert (effect.before.incidents, effect.after.incidents) == (2, 2)
    assert effect.before.per_30_days == 2


def test_fewer_incidents_after_the_change_is_reported_as_working(change):
    effect = change_effect(change, now=london("2026-08-01 12:00"))
    assert not effect.too_soon
    assert (effect.before.incidents, effect.after.incidents) == (2, 0)
    assert effect.fewer_incidents
    assert effect.summary().startswith("2.0 → 0.0 incidents per 30 days")


def _fft_day(survey, question, touchpoint, day: date, choice: str, answers: int) -> None:
    AnswerDay.objects.create(
        day=day, survey=survey, question=question, touchpoint=touchpoint, choice=choice, answers=answers
    )


def test_fft_before_and_after_is_summed_from_the_day_roll_up_at_the_patterns_touchpoint(change, touchpoint):
    survey = SurveyFactory()
    question = QuestionFactory(survey=survey, kind="fft")
    staff = SurveyFactory(audience="staff")
    for day, choice, n in [
        (date(2026, 5, 15), "poor", 50),  # outside the before window
        (date(2026, 5, 16), "good", 3),
        (date(2026, 6, 14), "poor", 3),  # before: 3 of 6 positive
        (date(2026, 6, 15), "very_good", 8),
        (date(2026, 7, 14), "neither", 2),  # after: 8 of 10 positive
        (date(2026, 7, 15), "poor", 50),  # outside the after window
    ]:
        _fft_day(survey, question, touchpoint, day, choice, n)
    _fft_day(staff, QuestionFactory(survey=staff, kind="fft"), touchpoint, date(2026, 6, 20), "poor", 40)
    _fft_day(survey, question, None, date(2026, 6, 20), "poor", 40)  # another place
    effect = change_effect(change, now=london("2026-08-01 12:00"))
    assert (effect.before.fft_answers, effect.after.fft_answers) == (6, 10)
    assert effect.before.fft_positive == 50
    assert effect.after.fft_positive == 80


def test_fft_below_the_small_number_is_not_shown(change, touchpoint):
    survey = SurveyFactory()
    _fft_day(survey, QuestionFactory(survey=survey), touchpoint, date(2026, 6, 1), "good", 4)
    effect = change_effect(change, now=london("2026-08-01 12:00"))
    assert effect.before.fft_answers == 4
    assert effect.before.fft_positive is None


@pytest.mark.parametrize(
    ("now", "too_soon"),
    [
        ("2026-07-14 23:30", True),  # the after window's last day is still under way
        ("2026-07-15 00:30", False),  # 30 days have passed: 23:30 UTC, but the 15th in London
    ],
)
def test_too_soon_to_tell_until_the_after_window_is_over(change, now, too_soon):
    effect = change_effect(change, now=london(now))
    assert effect.too_soon is too_soon
    assert (effect.fewer_incidents is None) is too_soon
    assert ("too soon to tell" in effect.summary()) is too_soon


def test_a_longer_window_than_30_days_is_compared_over_its_own_length(change):
    LearningRules.objects.create(pk=1, threshold=3, window_days=45)
    effect = change_effect(Change.objects.get(), now=london("2026-07-29 23:30"))
    assert effect.days == 45
    assert effect.before.first_day == MADE_ON - timedelta(days=45)
    assert effect.too_soon  # the after window is 15 June … 29 July
    assert Pattern.objects.get().status == Pattern.Status.ANSWERED
