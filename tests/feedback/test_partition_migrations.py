"""Answers partitioned by month (issue 19): the migration keeps every row, its id sequence, and the
names of the indexes and constraints later migrations will look for; it can be undone."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from django.db import connection, models

from servicedesk import partitions
from tests.migrating import migrate, migrate_to_latest

BEFORE = [("feedback", "0017_answer_month")]
WHEN = [
    datetime(2024, 1, 31, 23, 30, tzinfo=UTC),
    datetime(2024, 2, 1, 0, 0, tzinfo=UTC),  # the first instant of a month belongs to that month
    datetime(2025, 6, 15, 9, 0, tzinfo=UTC),
]
postgres_only = pytest.mark.skipif(connection.vendor != "postgresql", reason="partitioning is PostgreSQL's")


def _history() -> dict[int, tuple]:
    """Rows written through the schema before partitioning: three responses in three months, two
    answers each, one comment tagged with a theme. Returns each answer's fields by id."""
    old = migrate(BEFORE)
    Survey, Question = old.get_model("feedback", "Survey"), old.get_model("feedback", "Question")
    Response, Answer = old.get_model("feedback", "Response"), old.get_model("feedback", "Answer")
    Theme, ThemeMention = old.get_model("feedback", "Theme"), old.get_model("feedback", "ThemeMention")
    survey = Survey.objects.create(title="After your visit (partition test)", slug="partition-migration")
    fft = Question.objects.create(survey=survey, kind="fft", text="How was it?")
    comment = Question.objects.create(survey=survey, kind="text", text="Why?")
    theme = Theme.objects.create(name="Waiting (partition test)", keywords="wait")
    for when in WHEN:
        response = Response.objects.create(survey=survey, channel="kiosk", submitted_at=when)
        Answer.objects.create(response=response, question=fft, choice="good", value=4)
        text = Answer.objects.create(response=response, question=comment, text="A long wait", sentiment=-0.4)
        ThemeMention.objects.create(answer=text, response=response, theme=theme, start=2, end=11)
    return {
        a.pk: (a.response_id, a.question_id, a.choice, a.value, a.text, a.sentiment, a.response.submitted_at)
        for a in Answer.objects.filter(response__survey=survey).select_related("response")
    }


def _kept(before: dict[int, tuple]) -> None:
    from feedback.models import Answer

    after = {
        a.pk: (a.response_id, a.question_id, a.choice, a.value, a.text, a.sentiment, a.submitted_at)
        for a in Answer.objects.filter(pk__in=before)
    }
    assert after == before


@pytest.mark.django_db(transaction=True)
def test_every_answer_is_kept_with_its_responses_moment_when_answers_are_partitioned():
    before = _history()

    migrate_to_latest()

    from feedback.models import Answer, ThemeMention
    from tests.factories import AnswerFactory

    _kept(before)
    assert ThemeMention.objects.filter(answer_id__in=before).count() == len(WHEN)
    assert all(m.clause == "long wait" for m in ThemeMention.objects.filter(answer_id__in=before))
    newer = AnswerFactory()  # ids continue from the old sequence: none is handed out twice
    assert newer.pk > max(before)
    assert Answer.objects.filter(pk__in=before).count() == len(before)


@postgres_only
@pytest.mark.django_db(transaction=True)
def test_the_answers_table_is_partitioned_by_month_with_the_names_django_expects():
    before = _history()

    migrate_to_latest()

    table = "feedback_answer"
    assert partitions.is_partitioned(connection, table)
    have = partitions.months(connection, table)
    assert have[0] == partitions.Month(2024, 1)
    assert {partitions.Month(2024, 2), partitions.Month(2025, 6)} <= set(have)
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT tableoid::regclass::text, count(*) FROM feedback_answer WHERE id = ANY(%s) GROUP BY 1",
            [list(before)],
        )
        assert dict(cursor.fetchall()) == {
            "feedback_answer_y2024m01": 2,
            "feedback_answer_y2024m02": 2,
            "feedback_answer_y2025m06": 2,
        }
        cursor.execute("SELECT pg_get_serial_sequence('feedback_answer', 'id')")
        assert cursor.fetchone()[0] == "public.feedback_answer_id_seq"
        constraints = connection.introspection.get_constraints(cursor, table)
    assert constraints["feedback_answer_pkey"]["columns"] == ["id", "submitted_at"]
    assert constraints["answer_one_per_question"]["unique"]
    assert {"answer_question_value", "answer_question_choice"} <= set(constraints)
    assert not any(c["foreign_key"] == ("feedback_response", "id") for c in constraints.values())


@postgres_only
@pytest.mark.django_db(transaction=True)
def test_later_migrations_can_add_indexes_and_alter_fields_of_the_partitioned_answers():
    migrate_to_latest()
    from feedback.models import Answer
    from tests.factories import AnswerFactory

    index = models.Index(fields=["response", "submitted_at"], name="answer_partition_test")
    old_field = Answer._meta.get_field("choice")
    new_field = models.CharField(max_length=80, blank=True)
    new_field.set_attributes_from_name("choice")
    new_field.model = Answer
    try:
        with connection.schema_editor() as editor:  # what AddIndex and AlterField run
            editor.add_index(Answer, index)
            editor.alter_field(Answer, old_field, new_field)
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT count(*) FROM pg_indexes WHERE tablename = 'feedback_answer_default' "
                "AND indexdef LIKE '%%(response_id, submitted_at)%%'"
            )
            assert cursor.fetchone()[0] == 1  # the index spans the partitions
        AnswerFactory(choice="x" * 80)
    finally:
        with connection.schema_editor() as editor:
            editor.remove_index(Answer, index)
            Answer.objects.filter(choice="x" * 80).delete()
            editor.alter_field(Answer, new_field, old_field)


@postgres_only
@pytest.mark.django_db(transaction=True)
def test_the_partitioning_can_be_undone_keeping_every_answer():
    before = _history()
    migrate_to_latest()

    old = migrate(BEFORE)

    assert not partitions.is_partitioned(connection, "feedback_answer")
    Answer = old.get_model("feedback", "Answer")
    assert Answer.objects.filter(pk__in=before).count() == len(before)
    migrate_to_latest()
    _kept(before)
