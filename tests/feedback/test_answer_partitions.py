"""Answers' monthly partitions (issue 19): the sweep makes the coming months once, moves answers
that landed in DEFAULT into their month, and drops an expired month in one statement while the
dashboard's history of that month survives."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from django.conf import settings
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from dashboard.models import FeedbackDay
from dashboard.summaries import feedback_days_refresh, feedback_days_stale
from feedback import retention
from feedback.models import Answer, Response, ThemeMention
from feedback.tasks import answer_partitions_sweep
from servicedesk.partitions import Month, months
from tests.factories import AnswerFactory, ResponseFactory, ThemeFactory

TABLE = "feedback_answer"


def _partition_of(answer: Answer) -> str:
    with connection.cursor() as cursor:
        cursor.execute("SELECT tableoid::regclass::text FROM feedback_answer WHERE id = %s", [answer.pk])
        return cursor.fetchone()[0]


def _answer_at(when: datetime, **fields) -> Answer:
    return AnswerFactory(response=ResponseFactory(submitted_at=when, channel="link"), **fields)


def test_the_sweep_is_on_the_beat_schedule_hourly():
    scheduled = {entry["task"]: entry["schedule"] for entry in settings.CELERY_BEAT_SCHEDULE.values()}
    assert scheduled["feedback.tasks.answer_partitions_sweep"] == 3600


def test_answers_are_kept_forever_unless_a_retention_period_is_set():
    assert settings.FEEDBACK_RETENTION_MONTHS == 0


@pytest.mark.usefixtures("postgres")
def test_the_sweep_creates_the_coming_months_once():
    now = timezone.now()

    first = answer_partitions_sweep()
    again = answer_partitions_sweep()

    wanted = {Month.of(now).plus(n) for n in range(retention.MONTHS_AHEAD + 1)}
    assert wanted <= set(months(connection, TABLE))
    assert again == {"created": [], "dropped": []}
    assert set(first["created"]) <= {m.partition(TABLE) for m in wanted}


@pytest.mark.usefixtures("postgres")
def test_answers_that_landed_in_the_default_partition_are_moved_into_their_own_month():
    old = _answer_at(datetime(2019, 3, 15, 10, tzinfo=UTC))
    assert _partition_of(old) == "feedback_answer_default"  # no month for it: the insert still worked

    swept = retention.answer_partitions_sweep(now=timezone.now())

    assert "feedback_answer_y2019m03" in swept.created
    assert _partition_of(old) == "feedback_answer_y2019m03"
    assert Answer.objects.get(pk=old.pk).response_id == old.response_id
    _answer_at(datetime(2019, 3, 20, tzinfo=UTC))  # and the month takes new ones
    assert Answer.objects.filter(submitted_at__year=2019).count() == 2


@pytest.mark.usefixtures("postgres")
def test_an_expired_month_is_dropped_in_one_statement_and_the_dashboard_keeps_its_history():
    now = timezone.now()
    expired_at = Month.of(now).plus(-25).start.replace(day=14, hour=12)
    kept_at = Month.of(now).plus(-23).start.replace(day=14, hour=12)
    expired = _answer_at(expired_at, choice="poor", value=2)
    comment = AnswerFactory(response=expired.response, text="A long wait", choice="", value=None)
    ThemeMention.objects.create(answer=comment, response=expired.response, theme=ThemeFactory(), end=6)
    kept = _answer_at(kept_at)
    retention.answer_partitions_sweep(now=now)  # their months exist
    expired_day = timezone.localdate(expired_at)
    feedback_days_refresh(days=[expired_day])
    summary = FeedbackDay.objects.filter(day=expired_day).values("responses", "fft_poor").get()

    with CaptureQueriesContext(connection) as queries:
        swept = retention.answer_partitions_sweep(now=now, keep_months=24)

    month = Month.of(expired_at).partition(TABLE)
    assert month in swept.dropped
    assert Month.of(kept_at).partition(TABLE) not in swept.dropped
    drops = [q["sql"] for q in queries if q["sql"].startswith("DROP")]
    assert f'DROP TABLE IF EXISTS "{month}"' in drops
    assert len(drops) == len(swept.dropped)  # one statement a month, whatever its size
    assert not Answer.objects.filter(pk__in=[expired.pk, comment.pk]).exists()
    assert not ThemeMention.objects.filter(answer_id=comment.pk).exists()
    assert Answer.objects.filter(pk=kept.pk).exists()
    assert Response.objects.filter(pk=expired.response_id).exists()  # responses are kept
    assert expired_day not in feedback_days_stale(now=now)
    assert FeedbackDay.objects.filter(day=expired_day).values("responses", "fft_poor").get() == summary


@pytest.mark.usefixtures("postgres")
def test_nothing_is_dropped_while_answers_are_kept_forever():
    old = _answer_at(Month.of(timezone.now()).plus(-60).start)
    retention.answer_partitions_sweep(now=timezone.now())

    swept = retention.answer_partitions_sweep(now=timezone.now())

    assert swept.dropped == []
    assert Answer.objects.filter(pk=old.pk).exists()
