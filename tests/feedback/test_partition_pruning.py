"""The hot queries over answers read only the months they ask for (issue 19): each filters on the
answer's own ``submitted_at``, the partition key, so PostgreSQL prunes the other months' partitions
(and DEFAULT) from the plan. Every query a hot function sends that reads answers is explained, and
its plan may name no other partition than June 2025's."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from feedback import contributions, metrics, results, rollup
from servicedesk.clock import local_midnight
from servicedesk.metrics import Filters, Period
from servicedesk.partitions import Month, ensure_months
from tests.factories import AnswerFactory, QuestionFactory, ResponseFactory, SurveyFactory, ThemeFactory

pytestmark = pytest.mark.usefixtures("postgres")

DAY = date(2025, 6, 11)
PARTITION = re.compile(r"\b(feedback_(?:answer|response))_(y\d{4}m\d{2}|default)\b")
TABLES = ("feedback_answer", "feedback_response")


@pytest.fixture
def history():
    """Answers in every month of 2025 (a partition each), and a negative comment on DAY."""
    year = [Month(2025, m) for m in range(1, 13)]
    for table in TABLES:
        ensure_months(connection, table=table, column="submitted_at", wanted=year)
    survey = SurveyFactory()
    fft = QuestionFactory(survey=survey, kind="fft")
    text = QuestionFactory(survey=survey, kind="text")
    theme = ThemeFactory()
    for month in range(1, 13):
        when = datetime(2025, month, 11, 12, tzinfo=UTC)
        response = ResponseFactory(survey=survey, channel="link", submitted_at=when)
        AnswerFactory(response=response, question=fft, choice="poor", value=2)
        comment = AnswerFactory(response=response, question=text, choice="", value=None, text="A long wait")
        comment.theme_mentions.create(response=response, theme=theme, end=6, is_negative=True)
        response.is_negative = True
        response.save(update_fields=["is_negative"])
    return survey, theme


def _partitions_read(run: Callable[[], object]) -> list[set[str]]:
    """The partitions (table, month) named in the plan of each query ``run`` sends that reads
    responses or answers."""
    with CaptureQueriesContext(connection) as queries:
        run()
    read = []
    for query in queries:
        if not re.search(r'"feedback_(answer|response)"', query["sql"]):
            continue
        with connection.cursor() as cursor:
            cursor.execute(f"EXPLAIN {query['sql']}")
            plan = "\n".join(row[0] for row in cursor.fetchall())
        read.append(set(PARTITION.findall(plan)))
    assert read, "no query read the responses or the answers"
    return read


def _only_june(read: list[set[tuple[str, str]]]) -> None:
    assert all(read), read
    assert all({month for _table, month in names} == {"y2025m06"} for names in read), read


def _period() -> Period:
    return Period(start=local_midnight(DAY), end=local_midnight(DAY + timedelta(days=1)))


def test_the_results_page_reads_only_the_months_of_its_dates(history):
    survey, _theme = history
    scope = results.ResponseFilter(survey=survey, date_from=DAY, date_to=DAY)
    questions = list(survey.questions.all())

    _only_june(_partitions_read(lambda: results.compute_results(scope, questions, rolled_up=False)))
    _only_june(_partitions_read(lambda: list(results.comments(scope)[:20])))


def test_the_daily_rollup_reads_only_the_days_month(history):
    later = datetime(2026, 1, 1, tzinfo=UTC)
    _only_june(_partitions_read(lambda: rollup.rollup_count(days=[DAY], now=later)))


def test_the_dashboard_figures_and_summaries_read_only_their_periods_month(history):
    _survey, theme = history
    _only_june(_partitions_read(lambda: metrics.fft_counts(period=_period(), filters=Filters())))
    _only_june(_partitions_read(lambda: metrics.nps_counts(period=_period(), filters=Filters())))
    _only_june(_partitions_read(lambda: contributions.daily_counts(days=[DAY])))
    examples = contributions.negative_comment_examples
    themes = [theme.pk]
    _only_june(
        _partitions_read(lambda: examples(theme_ids=themes, period=_period(), filters=Filters(), examples=3))
    )


def test_the_survey_export_reads_only_the_months_of_its_dates(history, client, manager):
    survey, _theme = history
    client.force_login(manager)
    url = reverse("feedback:survey_export", args=[survey.pk])

    def export() -> None:
        response = client.get(url, {"date_from": DAY.isoformat(), "date_to": DAY.isoformat()})
        assert response.status_code == 200
        b"".join(response.streaming_content)

    _only_june(_partitions_read(export))
