"""Responses' and answers' monthly partitions (issue 19): the sweep makes the coming months once,
moves rows that landed in DEFAULT into their month, and drops an expired month in one statement a
table while the dashboard's history of that month survives and nothing points at what went."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from django.conf import settings
from django.db import connection, models
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from dashboard.models import FeedbackDay
from dashboard.summaries import feedback_days_refresh, feedback_days_stale
from feedback import retention
from feedback.models import Answer, Response, ThemeMention
from feedback.retention import TABLES
from feedback.tasks import feedback_partitions_sweep
from recovery.models import Incident
from servicedesk.partitions import MONTHS_AHEAD, Month, months
from tests.factories import AnswerFactory, ResponseFactory, ThemeFactory, open_incident


def _partition_of(answer: Answer) -> tuple[str, str]:
    """The partitions holding the answer's response and the answer."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT r.tableoid::regclass::text, a.tableoid::regclass::text "
            "FROM feedback_answer a JOIN feedback_response r ON r.id = a.response_id WHERE a.id = %s",
            [answer.pk],
        )
        return cursor.fetchone()


def _answer_at(when: datetime, **fields) -> Answer:
    return AnswerFactory(response=ResponseFactory(submitted_at=when, channel="link"), **fields)


def test_the_sweep_is_on_the_beat_schedule_hourly():
    scheduled = {entry["task"]: entry["schedule"] for entry in settings.CELERY_BEAT_SCHEDULE.values()}
    assert scheduled["feedback.tasks.feedback_partitions_sweep"] == 3600


def test_answers_are_kept_forever_unless_a_retention_period_is_set():
    assert settings.FEEDBACK_RETENTION_MONTHS == 0


@pytest.mark.usefixtures("postgres")
def test_the_sweep_creates_the_coming_months_once():
    now = timezone.now()

    first = feedback_partitions_sweep()
    again = feedback_partitions_sweep()

    wanted = {Month.of(now).plus(n) for n in range(MONTHS_AHEAD + 1)}
    for table in TABLES:
        assert wanted <= set(months(connection, table))
    assert again == {"created": [], "dropped": []}
    assert set(first["created"]) <= {m.partition(table) for m in wanted for table in TABLES}


@pytest.mark.usefixtures("postgres")
def test_rows_that_landed_in_the_default_partitions_are_moved_into_their_own_month():
    old = _answer_at(datetime(2019, 3, 15, 10, tzinfo=UTC))
    # No month for them: the inserts still worked.
    assert _partition_of(old) == ("feedback_response_default", "feedback_answer_default")

    swept = retention.feedback_partitions_sweep(now=timezone.now())

    assert {"feedback_response_y2019m03", "feedback_answer_y2019m03"} <= set(swept.created)
    assert _partition_of(old) == ("feedback_response_y2019m03", "feedback_answer_y2019m03")
    assert Answer.objects.get(pk=old.pk).response_id == old.response_id
    assert Response.objects.get(pk=old.response_id).answers.get() == old
    _answer_at(datetime(2019, 3, 20, tzinfo=UTC))  # and the month takes new ones
    assert Answer.objects.filter(submitted_at__year=2019).count() == 2


@pytest.mark.usefixtures("postgres")
def test_an_expired_month_is_dropped_in_one_statement_a_table_and_the_dashboard_keeps_its_history():
    now = timezone.now()
    expired_at = Month.of(now).plus(-25).start.replace(day=14, hour=12)
    kept_at = Month.of(now).plus(-23).start.replace(day=14, hour=12)
    expired = _answer_at(expired_at, choice="poor", value=2)
    comment = AnswerFactory(response=expired.response, text="A long wait", choice="", value=None)
    theme = ThemeFactory()
    ThemeMention.objects.create(answer=comment, response=expired.response, theme=theme, end=6)
    expired.response.themes.add(theme)
    incident = open_incident(title="Put right")
    Incident.objects.filter(pk=incident.pk).update(source_response=expired.response)
    kept = _answer_at(kept_at)
    kept.response.themes.add(theme)
    retention.feedback_partitions_sweep(now=now)  # their months exist
    expired_day = timezone.localdate(expired_at)
    feedback_days_refresh(days=[expired_day])
    summary = FeedbackDay.objects.filter(day=expired_day).values("responses", "fft_poor").get()

    with CaptureQueriesContext(connection) as queries:
        swept = retention.feedback_partitions_sweep(now=now, keep_months=24)

    months_gone = {Month.of(expired_at).partition(table) for table in TABLES}
    assert months_gone <= set(swept.dropped)
    assert not {Month.of(kept_at).partition(table) for table in TABLES} & set(swept.dropped)
    drops = [q["sql"] for q in queries if q["sql"].startswith("DROP")]
    assert {f'DROP TABLE IF EXISTS "{month}"' for month in months_gone} <= set(drops)
    assert len(drops) == len(swept.dropped)  # one statement a month and table, whatever its size
    assert not Answer.objects.filter(pk__in=[expired.pk, comment.pk]).exists()
    assert not Response.objects.filter(pk=expired.response_id).exists()
    # Nothing points at what went: no constraint would have said so.
    assert not ThemeMention.objects.filter(response_id=expired.response_id).exists()
    assert not Response.themes.through.objects.filter(response_id=expired.response_id).exists()
    incident.refresh_from_db()
    assert incident.source_response is None  # the incident stays, without its source
    assert list(Response.objects.get(pk=kept.response_id).themes.all()) == [theme]
    assert Answer.objects.filter(pk=kept.pk).exists()
    # The figures of the expired month are what remains of it: never recounted as empty.
    assert expired_day not in feedback_days_stale(now=now)
    assert FeedbackDay.objects.filter(day=expired_day).values("responses", "fft_poor").get() == summary


@pytest.mark.django_db
def test_the_stale_checks_start_after_the_first_kept_month(settings):
    now = timezone.now()
    settings.FEEDBACK_RETENTION_MONTHS = 1
    kept = retention.kept_since(now=now)
    assert kept == Month.of(now).plus(-1).start
    # The day the kept month starts on is partly in the month before (local time ahead of UTC):
    # only the whole days after it are checked.
    first_checked = timezone.localdate(kept) + timedelta(days=1)
    assert min(feedback_days_stale(now=now)) >= first_checked
    ResponseFactory(submitted_at=kept - timedelta(days=3), channel="link")  # a leftover, say on SQLite
    assert timezone.localdate(kept - timedelta(days=3)) not in feedback_days_stale(now=now)
    settings.FEEDBACK_RETENTION_MONTHS = 0
    assert retention.kept_since(now=now) is None
    assert timezone.localdate(kept - timedelta(days=3)) in feedback_days_stale(now=now)


@pytest.mark.django_db
def test_a_reference_the_sweep_cannot_clear_stops_it_before_anything_is_dropped(monkeypatch):
    relation = Incident._meta.get_field("source_response").remote_field
    monkeypatch.setattr(relation, "on_delete", models.PROTECT)
    with pytest.raises(RuntimeError, match=r"recovery\.Incident\.source_response"):
        retention._clear_references(before=timezone.now())


@pytest.mark.usefixtures("postgres")
def test_nothing_is_dropped_while_answers_are_kept_forever():
    old = _answer_at(Month.of(timezone.now()).plus(-60).start)
    retention.feedback_partitions_sweep(now=timezone.now())

    swept = retention.feedback_partitions_sweep(now=timezone.now())

    assert swept.dropped == []
    assert Answer.objects.filter(pk=old.pk).exists()
    assert Response.objects.filter(pk=old.response_id).exists()
