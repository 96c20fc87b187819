"""A month of the results roll-up (``AnswerMonth``) is exactly the sum of its days' ``AnswerDay``
rows, written in one statement whatever their number, on PostgreSQL and SQLite alike."""

from __future__ import annotations

import random
from collections import Counter
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from feedback.models import AnswerDay, AnswerMonth
from feedback.rollup import ANSWER_KEYS, month_store
from tests.factories import LocationFactory, QuestionFactory, SurveyFactory, TouchpointFactory

pytestmark = pytest.mark.django_db

MARCH = date(2026, 3, 1)
# The first and last days of the month and a few between; the days either side belong to other months.
DAYS = [date(2026, 3, d) for d in (1, 2, 15, 29, 31)]
OUTSIDE = [date(2026, 2, 28), date(2026, 4, 1)]


@pytest.fixture(autouse=True)
def _pinned_clock(time_machine) -> None:
    time_machine.move_to(datetime(2026, 4, 2, 9, 0, tzinfo=ZoneInfo("Europe/London")), tick=False)


class Answers:
    """Day rows of two surveys at places with and without a site and a touchpoint, for every kind
    of answer given: a key and its value, a number alone (0 as well as none), raw multiple-choice
    keys (none picked too) and a comment (no value at all)."""

    def __init__(self) -> None:
        surveys = [SurveyFactory(), SurveyFactory()]
        sites = [LocationFactory(), LocationFactory()]
        touchpoints = [TouchpointFactory(location=sites[0]), TouchpointFactory(location=sites[1])]
        self.places = [
            (surveys[0], sites[0], touchpoints[0]),
            (surveys[0], sites[0], None),
            (surveys[0], None, touchpoints[1]),
            (surveys[0], None, None),
            (surveys[1], sites[1], touchpoints[1]),
        ]
        fft, nps, multi, text = (
            QuestionFactory(survey=surveys[0], kind=kind) for kind in ("fft", "nps", "multi_choice", "text")
        )
        self.given = [
            (fft, {"choice": "very_good", "value": 5}),
            (fft, {"choice": "poor", "value": 2}),
            (fft, {"choice": "dont_know", "value": None}),
            (nps, {"value": 0}),
            (nps, {"value": 10}),
            (multi, {"choices": "|always|"}),
            (multi, {"choices": "|always|never|"}),
            (multi, {"choices": ""}),
            (text, {}),
        ]

    def add(self, days: list[date], *, rng: random.Random) -> None:
        """Each day, each place, most answers given (some on two rows of a day, as a rebuild that
        raced another could never leave but a sum must still add)."""
        rows = []
        for day in days:
            for survey, site, touchpoint in self.places:
                for question, answer in self.given:
                    for _ in range(rng.choice([0, 1, 1, 1, 2])):
                        rows.append(
                            AnswerDay(
                                day=day,
                                survey=survey,
                                location=site,
                                touchpoint=touchpoint,
                                question=question,
                                answers=rng.randint(1, 40),
                                **answer,
                            )
                        )
        AnswerDay.objects.bulk_create(rows)


def _summed_in_python(month: date) -> Counter:
    days = AnswerDay.objects.filter(day__gte=month, day__lt=date(2026, 4, 1))
    summed: Counter = Counter()
    for row in days.values(*ANSWER_KEYS, "answers"):
        summed[tuple(row[key] for key in ANSWER_KEYS)] += row["answers"]
    return summed


def _stored(month: date) -> list[tuple[tuple, int]]:
    rows = AnswerMonth.objects.filter(day=month).values_list(*ANSWER_KEYS, "answers")
    return [(tuple(row[:-1]), row[-1]) for row in rows]


def test_a_month_is_exactly_the_sum_of_its_days_at_every_place_and_answer():
    answers = Answers()
    answers.add(DAYS + OUTSIDE, rng=random.Random(19))
    february = AnswerMonth.objects.create(
        day=date(2026, 2, 1), survey=answers.places[0][0], question=answers.given[0][0], answers=7
    )
    AnswerMonth.objects.create(
        day=MARCH, survey=answers.places[0][0], question=answers.given[0][0], answers=999
    )

    month_store(MARCH)

    stored = _stored(MARCH)
    assert len(stored) == len({key for key, _ in stored}), "one row per place and answer given"
    assert dict(stored) == _summed_in_python(MARCH)
    keys = {key for key, _ in stored}
    assert any(key[1] is None and key[2] is None for key in keys)  # no site, no touchpoint
    assert any(key[1] is not None and key[2] is None for key in keys)
    assert any(key[5] is None and key[4] == "" for key in keys)  # a comment: no value, no key
    assert any(key[5] == 0 for key in keys)  # a 0 is not a missing value
    assert any(key[6] == "|always|never|" for key in keys)
    assert AnswerMonth.objects.filter(day=date(2026, 2, 1)).get() == february  # other months untouched
    assert not AnswerMonth.objects.exclude(day__in=[date(2026, 2, 1), MARCH]).exists()


def test_storing_a_month_again_gives_the_same_rows():
    answers = Answers()
    answers.add(DAYS, rng=random.Random(3))
    month_store(MARCH)
    first = sorted(_stored(MARCH), key=repr)
    month_store(MARCH)
    assert sorted(_stored(MARCH), key=repr) == first


def test_an_empty_month_has_no_rows():
    answers = Answers()
    answers.add(OUTSIDE, rng=random.Random(5))
    AnswerMonth.objects.create(
        day=MARCH, survey=answers.places[0][0], question=answers.given[0][0], answers=4
    )
    month_store(MARCH)
    assert not AnswerMonth.objects.filter(day=MARCH).exists()


def _queries_of_month_store() -> int:
    with CaptureQueriesContext(connection) as queries:
        month_store(MARCH)
    return len(queries)


def test_storing_a_month_runs_the_same_queries_however_many_rows_it_sums():
    answers = Answers()
    answers.add(DAYS[:1], rng=random.Random(7))
    few = _queries_of_month_store()
    answers.add([MARCH + timedelta(days=n) for n in range(31)], rng=random.Random(8))
    survey, site, touchpoint = answers.places[0]
    multi = answers.given[5][0]
    options = [f"option-{bit}" for bit in range(12)]
    AnswerDay.objects.bulk_create(  # the combinations picked of a long multiple choice
        AnswerDay(
            day=MARCH + timedelta(days=n % 31),
            survey=survey,
            location=site,
            touchpoint=touchpoint,
            question=multi,
            choices="".join(f"|{option}" for bit, option in enumerate(options) if n >> bit & 1) + "|",
            answers=1,
        )
        for n in range(1, 2 ** len(options))
    )
    assert _queries_of_month_store() == few
    assert AnswerMonth.objects.count() > 2000 * 2  # more than the old inserts' batches of 2,000
    # The month's lock (PostgreSQL), the delete and one INSERT … SELECT.
    assert few == (3 if connection.vendor == "postgresql" else 2)
