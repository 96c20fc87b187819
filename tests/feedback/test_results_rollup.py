"""The survey results roll-up: the page shows exactly what counting every answer shows, at any hour,
across clock changes, after a back-dated import and a theme correction, in a fixed number of queries."""

from __future__ import annotations

import random
from collections import Counter
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.urls import reverse
from django.utils import timezone

from dashboard.summaries import feedback_days_all, feedback_days_refresh
from dashboard.tasks import refresh_feedback_summaries
from feedback import rollup
from feedback.library import FREQUENCY
from feedback.models import (
    Answer,
    AnswerDay,
    AnswerMonth,
    Response,
    ResultsDay,
    RollupDay,
    ThemeDay,
    ThemeMention,
)
from feedback.results import ResponseFilter, compute_results, survey_results
from feedback.services import answer_theme_set
from tests.factories import (
    LocationFactory,
    QuestionFactory,
    SurveyFactory,
    ThemeFactory,
    TouchpointFactory,
)

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("postgres")]

LONDON = ZoneInfo("Europe/London")
FFT = {"very_good": 5, "good": 4, "neither": 3, "poor": 2, "very_poor": 1, "dont_know": None}
# Late evening, just past midnight, and the days the clocks go forward and back (2026).
CLOCKS = [
    datetime(2026, 12, 4, 23, 30, tzinfo=LONDON),
    datetime(2026, 12, 5, 0, 30, tzinfo=LONDON),
    datetime(2026, 10, 25, 9, 15, tzinfo=LONDON),
    datetime(2026, 10, 26, 0, 30, tzinfo=LONDON),
    datetime(2026, 3, 29, 0, 30, tzinfo=LONDON),
    datetime(2026, 3, 30, 23, 30, tzinfo=LONDON),
]
# Times of day answers are given at: around midnight and around the clock changes' 01:00-02:00.
TIMES = [(0, 5), (0, 45), (1, 15), (1, 50), (2, 30), (9, 0), (13, 20), (22, 59), (23, 30), (23, 59)]


class Practice:
    """A survey with every kind of question, two places to give feedback, and themes."""

    def __init__(self) -> None:
        self.survey = SurveyFactory(slug="after-visit")
        self.other = SurveyFactory(slug="pulse")  # its answers must never reach the first survey's page
        kinds = ["fft", "nps", "rating", "yes_no", "single_choice", "single_choice", "multi_choice", "text"]
        self.questions = [
            QuestionFactory(survey=self.survey, position=i, kind=k) for i, k in enumerate(kinds)
        ]
        self.questions.append(
            QuestionFactory(survey=self.survey, position=9, kind="text", text="Anything else?")
        )
        frequency = self.questions[5]
        frequency.choices = [dict(c) for c in FREQUENCY]  # the top-box headline
        frequency.save()
        self.other_fft = QuestionFactory(survey=self.other, kind="fft")
        self.locations = [LocationFactory(), LocationFactory(), None]
        self.touchpoints = [TouchpointFactory(), TouchpointFactory(), None]
        self.themes = [ThemeFactory(name=name) for name in ("Waiting", "staff attitude", "Access", "Billing")]

    def respond(self, rng: random.Random, when: datetime, survey=None) -> Response:
        response = Response.objects.create(
            survey=survey or self.survey,
            channel=rng.choice(["kiosk", "link", "staff"]),
            submitted_at=when,
            location=rng.choice(self.locations),
            touchpoint=rng.choice(self.touchpoints),
            sentiment=rng.choice([None, None, 0.6, 0.01, -0.02, -0.7]),
            is_negative=rng.random() < 0.2,
        )
        if survey is not None:
            choice = rng.choice(list(FFT))
            Answer.objects.create(
                response=response,
                submitted_at=when,
                question=self.other_fft,
                choice=choice,
                value=FFT[choice],
            )
            return response
        answers = []
        for q in self.questions:
            if rng.random() < 0.15:
                continue  # a question left unanswered
            if q.kind == "fft":
                choice = rng.choice(list(FFT))
                answers.append(Answer(question=q, choice=choice, value=FFT[choice]))
            elif q.kind in ("nps", "rating"):
                answers.append(
                    Answer(question=q, value=rng.randint(0, 10) if q.kind == "nps" else rng.randint(1, 5))
                )
            elif q.kind == "yes_no":
                yes = rng.random() < 0.6
                answers.append(Answer(question=q, choice="yes" if yes else "no", value=int(yes)))
            elif q.kind == "single_choice":
                answers.append(Answer(question=q, choice=rng.choice(q.choice_values())))
            elif q.kind == "multi_choice":
                picked = [v for v in q.choice_values() if rng.random() < 0.5]
                answers.append(Answer(question=q, choices=Answer.encode_choices(picked)))
            else:
                answers.append(Answer(question=q, text="Waited, the staff were kind", sentiment=-0.3))
        for answer in answers:
            answer.response, answer.submitted_at = response, when
        Answer.objects.bulk_create(answers)
        for answer in (a for a in answers if a.text):
            for theme in rng.sample(self.themes, rng.randint(0, 2)):
                ThemeMention.objects.create(
                    answer=answer,
                    response=response,
                    theme=theme,
                    is_negative=rng.random() < 0.5,
                    removed=rng.random() < 0.2,
                )
        return response

    def fill(self, now: datetime, *, days: int = 40, seed: int = 16) -> None:
        """Responses on most of the last ``days`` local days, at the awkward times, and a few in the
        last minutes (after the roll-up of today stops counting)."""
        rng = random.Random(seed)
        today = timezone.localdate(now)
        for back in range(days):
            day = today - timedelta(days=back)
            for hour, minute in rng.sample(TIMES, rng.randint(0, 5)):
                when = datetime(day.year, day.month, day.day, hour, minute, tzinfo=LONDON)
                if when < now:
                    self.respond(rng, when)
            if back % 7 == 0:
                self.respond(rng, now - timedelta(days=back, hours=1), survey=self.other)
        for minutes in (1, 3, 20):
            self.respond(rng, now - timedelta(minutes=minutes))

    def scopes(self, now: datetime) -> list[ResponseFilter]:
        today = timezone.localdate(now)
        survey = self.survey
        return [
            ResponseFilter(survey=survey),
            ResponseFilter(survey=survey, date_from=today - timedelta(days=89), date_to=today),
            ResponseFilter(
                survey=survey, date_from=today - timedelta(days=20), date_to=today - timedelta(days=3)
            ),
            ResponseFilter(
                survey=survey, date_from=today - timedelta(days=1), date_to=today - timedelta(days=1)
            ),
            ResponseFilter(survey=survey, date_to=today - timedelta(days=2)),
            ResponseFilter(survey=survey, location_id=self.locations[0].pk),
            ResponseFilter(
                survey=survey, touchpoint_id=self.touchpoints[1].pk, date_from=today - timedelta(days=30)
            ),
            ResponseFilter(
                survey=survey,
                location_id=self.locations[1].pk,
                touchpoint_id=self.touchpoints[0].pk,
                date_from=today - timedelta(days=25),
                date_to=today,
            ),
        ]

    def results(self, scope: ResponseFilter, *, rolled_up: bool = True):
        return compute_results(scope, list(self.survey.questions.all()), rolled_up=rolled_up)


@pytest.fixture
def practice(db) -> Practice:
    return Practice()


def _roll_up(now: datetime) -> int:
    return feedback_days_refresh(days=feedback_days_all(now=now), now=now)


def _rolled_up(practice, time_machine, now: datetime, *, days: int) -> ResponseFilter:
    """``days`` of answers up to ``now`` (the clock pinned there), rolled up: the survey's scope."""
    time_machine.move_to(now, tick=False)
    practice.fill(now, days=days)
    _roll_up(now)
    return ResponseFilter(survey=practice.survey)


@pytest.mark.parametrize("now", CLOCKS, ids=[f"{c:%Y-%m-%d-%H%M}" for c in CLOCKS])
def test_results_from_the_roll_up_are_exactly_the_live_results(practice, time_machine, now):
    time_machine.move_to(now, tick=False)
    practice.fill(now)
    assert _roll_up(now) >= 30
    # A day the roll-up lost (a failed rebuild): read live, the rest still from the roll-up.
    gap = timezone.localdate(now) - timedelta(days=9)
    for model in (RollupDay, ResultsDay, AnswerDay, ThemeDay):
        model.objects.filter(day=gap).delete()
    rollup.month_store(gap.replace(day=1))  # its month as if the day had never been rolled up
    for scope in practice.scopes(now):
        live = practice.results(scope, rolled_up=False)
        assert practice.results(scope) == live, scope
    whole = practice.results(ResponseFilter(survey=practice.survey), rolled_up=False)
    assert whole.total > 50
    assert whole.themes
    assert whole.by_month
    assert whole.distributions[6].answered  # the multiple choice


def test_the_page_reads_the_roll_up_and_only_the_last_minutes_live(practice, time_machine):
    now = CLOCKS[0]
    time_machine.move_to(now, tick=False)
    practice.fill(now)
    _roll_up(now)
    scope = ResponseFilter(survey=practice.survey, date_from=timezone.localdate(now) - timedelta(days=89))
    first = RollupDay.objects.order_by("day").first()
    before_the_first_response = (scope.bounds()[0], datetime.combine(first.day, time.min, LONDON))
    spans = rollup.live_spans(scope.bounds(), rollup.coverage(scope))
    assert spans == [before_the_first_response, (now - rollup.SETTLE, None)]
    rolled = ResultsDay.objects.filter(survey=practice.survey, day__lt=timezone.localdate(now)).first()
    ResultsDay.objects.filter(pk=rolled.pk).update(responses=0)  # the page really reads this row
    assert practice.results(scope).total < practice.results(scope, rolled_up=False).total


def test_whole_months_are_read_from_the_month_sums_and_the_ends_from_the_days(practice, time_machine):
    now = CLOCKS[0]  # 4 December: the window below holds all of October and November
    scope = _rolled_up(practice, time_machine, now, days=70)
    window = ResponseFilter(survey=practice.survey, date_from=date(2026, 9, 20), date_to=date(2026, 12, 4))
    assert rollup.whole_months(window) == (date(2026, 10, 1), date(2026, 12, 1))
    assert rollup.whole_months(ResponseFilter(survey=practice.survey, date_from=date(2026, 11, 2))) == (
        date(2026, 12, 1),
        None,
    )
    assert rollup.whole_months(scope) == (None, None)
    assert (
        rollup.whole_months(
            ResponseFilter(survey=practice.survey, date_from=date(2026, 11, 2), date_to=date(2026, 11, 29))
        )
        is None
    )
    # Each month is the sum of its days.
    by_day = Counter()
    for row in AnswerDay.objects.values("day", "question_id", "choice", "value", "location_id", "answers"):
        by_day[
            (row["day"].replace(day=1), row["question_id"], row["choice"], row["value"], row["location_id"])
        ] += row["answers"]
    by_month = Counter()
    for row in AnswerMonth.objects.values("day", "question_id", "choice", "value", "location_id", "answers"):
        by_month[(row["day"], row["question_id"], row["choice"], row["value"], row["location_id"])] += row[
            "answers"
        ]
    assert by_month == by_day
    assert {day.month for day, *_ in by_month} == {9, 10, 11, 12}
    assert practice.results(window) == practice.results(window, rolled_up=False)
    # The page really reads the month rows for November, and days for the ends of the window.
    AnswerMonth.objects.filter(day=date(2026, 11, 1)).update(answers=0)
    assert practice.results(window) != practice.results(window, rolled_up=False)
    december = ResponseFilter(survey=practice.survey, date_from=date(2026, 11, 20), date_to=date(2026, 12, 4))
    assert practice.results(december) == practice.results(december, rolled_up=False)


def test_rebuilding_a_day_rewrites_its_month(practice, time_machine):
    now = CLOCKS[0]
    scope = _rolled_up(practice, time_machine, now, days=15)
    month = AnswerMonth.objects.filter(day=date(2026, 11, 1))
    before = sum(month.values_list("answers", flat=True))
    practice.respond(random.Random(3), datetime(2026, 11, 25, 10, 0, tzinfo=LONDON))
    time_machine.move_to(now + timedelta(minutes=5), tick=False)
    refresh_feedback_summaries()  # the sweep finds the stale day and rebuilds it, and its month
    assert sum(month.values_list("answers", flat=True)) > before
    assert practice.results(scope) == practice.results(scope, rolled_up=False)


def test_a_back_dated_response_is_counted_once_the_sweep_rebuilds_its_day(practice, time_machine):
    now = CLOCKS[0]
    scope = _rolled_up(practice, time_machine, now, days=15)
    practice.respond(random.Random(1), now - timedelta(days=10))  # an import of last week's forms
    assert practice.results(scope) != practice.results(scope, rolled_up=False)
    time_machine.move_to(now + timedelta(minutes=5), tick=False)
    refresh_feedback_summaries()
    assert practice.results(scope) == practice.results(scope, rolled_up=False)


def test_a_theme_correction_shows_at_once_through_the_cache(
    practice, time_machine, django_capture_on_commit_callbacks
):
    now = CLOCKS[1]
    scope = _rolled_up(practice, time_machine, now, days=15)
    questions = list(practice.survey.questions.all())
    before = survey_results(scope, questions)
    billing = practice.themes[3]
    about_billing = ThemeMention.objects.filter(theme=billing, removed=False).values("response_id")
    comment = (
        Answer.objects.filter(
            response__survey=practice.survey, response__submitted_at__lt=now - timedelta(days=5)
        )
        .exclude(text="")
        .exclude(response__in=about_billing)
        .first()
    )
    with django_capture_on_commit_callbacks(execute=True):
        assert answer_theme_set(answer=comment, theme=billing, present=True, by=None)
    after = survey_results(scope, questions)
    assert after.themes != before.themes
    assert after == practice.results(scope, rolled_up=False)


def test_a_new_response_shows_at_once_through_the_cache(practice, time_machine):
    now = CLOCKS[0]
    scope = _rolled_up(practice, time_machine, now, days=5)
    questions = list(practice.survey.questions.all())
    total = survey_results(scope, questions).total
    practice.respond(random.Random(2), now)
    assert survey_results(scope, questions).total == total + 1


def _page_queries(client, url) -> int:
    """The page's queries, the clock standing still while it is asked for: the session's "last seen"
    (written at most once a minute) must not add one when filling the practice took a minute."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client.get(url)  # warm: "last seen" written now if it is due
    with time_machine.travel(timezone.now(), tick=False), CaptureQueriesContext(connection) as queries:
        assert client.get(url).status_code == 200
    return len(queries)


def test_the_results_page_runs_the_same_queries_however_many_days_and_responses(practice, manager_client):
    now = timezone.now()
    url = reverse("feedback:survey_results", args=[practice.survey.pk])
    practice.fill(now, days=3, seed=1)
    _roll_up(now)
    few = _page_queries(manager_client, url)
    practice.fill(now - timedelta(days=3), days=80, seed=2)
    _roll_up(now)
    RollupDay.objects.filter(day=timezone.localdate(now) - timedelta(days=30)).delete()  # and a gap
    assert _page_queries(manager_client, url) == few
    assert few <= 24
