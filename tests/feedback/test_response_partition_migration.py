"""Responses partitioned by month (issue 19): the migration keeps every response with its answers,
tags and invitation, the id sequence and the names later migrations look for; what pointed at a
response has no database constraint left; it can be undone."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection

from servicedesk import partitions
from tests.migrating import migrate, migrate_to_latest

pytestmark = [
    pytest.mark.skipif(connection.vendor != "postgresql", reason="partitioning is PostgreSQL's"),
    pytest.mark.django_db(transaction=True),
]

BEFORE = [("feedback", "0019_answer_submitted_index"), ("recovery", "0015_sla_policy_per_site")]
WHEN = [
    datetime(2024, 1, 31, 23, 30, tzinfo=UTC),
    datetime(2024, 2, 1, 0, 0, tzinfo=UTC),  # the first instant of a month belongs to that month
    datetime(2025, 6, 15, 9, 0, tzinfo=UTC),
]
FIELDS = ("survey_id", "invitation_id", "channel", "submitted_at", "consent_to_contact", "contact_phone")


def _history() -> dict[int, tuple]:
    """Three responses in three months written through the schema before partitioning: one from an
    invitation with consent to contact, each with an answer and a theme tag. Returns their fields."""
    old = migrate(BEFORE)
    Survey, Question = old.get_model("feedback", "Survey"), old.get_model("feedback", "Question")
    Response, Answer = old.get_model("feedback", "Response"), old.get_model("feedback", "Answer")
    Theme, Invitation = old.get_model("feedback", "Theme"), old.get_model("feedback", "Invitation")
    survey = Survey.objects.create(title="After your visit (response partitions)", slug="response-partitions")
    fft = Question.objects.create(survey=survey, kind="fft", text="How was it?")
    theme = Theme.objects.create(name="Waiting (response partitions)", keywords="wait")
    invitation = Invitation.objects.create(
        survey=survey,
        email="patient@example.org",
        visit_at=WHEN[0] - timedelta(days=1),
        expires_at=WHEN[0] + timedelta(days=14),
        status="completed",
        completed_at=WHEN[0],
        selector="response-partitions",
    )
    for n, when in enumerate(WHEN):
        response = Response.objects.create(
            survey=survey,
            channel="link" if n == 0 else "kiosk",
            invitation=invitation if n == 0 else None,
            submitted_at=when,
            consent_to_contact=n == 0,
            contact_phone="07700 900123" if n == 0 else "",
        )
        Answer.objects.create(response=response, question=fft, choice="good", value=4, submitted_at=when)
        response.themes.add(theme)
    return {r.pk: tuple(getattr(r, f) for f in FIELDS) for r in Response.objects.filter(survey=survey)}


def _references_to_responses() -> list[str]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT conrelid::regclass::text FROM pg_constraint "
            "WHERE contype = 'f' AND confrelid = 'feedback_response'::regclass"
        )
        return [row[0] for row in cursor.fetchall()]


def test_every_response_is_kept_in_its_month_with_what_points_at_it():
    before = _history()

    migrate_to_latest()

    from feedback.models import Answer, Response
    from tests.factories import ResponseFactory

    after = {r.pk: tuple(getattr(r, f) for f in FIELDS) for r in Response.objects.filter(pk__in=before)}
    assert after == before
    assert Answer.objects.filter(response_id__in=before).count() == len(WHEN)
    assert all(r.themes.count() == 1 for r in Response.objects.filter(pk__in=before))
    table = "feedback_response"
    assert partitions.is_partitioned(connection, table)
    assert {partitions.Month(2024, 1), partitions.Month(2024, 2), partitions.Month(2025, 6)} <= set(
        partitions.months(connection, table)
    )
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT tableoid::regclass::text, count(*) FROM feedback_response WHERE id = ANY(%s) GROUP BY 1",
            [list(before)],
        )
        assert dict(cursor.fetchall()) == {
            "feedback_response_y2024m01": 1,
            "feedback_response_y2024m02": 1,
            "feedback_response_y2025m06": 1,
        }
        constraints = connection.introspection.get_constraints(cursor, table)
    assert constraints["feedback_response_pkey"]["columns"] == ["id", "submitted_at"]
    assert constraints["response_contact_only_with_consent"]["check"]
    assert {"response_survey_submitted", "response_negative_latest", "response_survey_latest"} <= set(
        constraints
    )
    assert _references_to_responses() == []  # answers, mentions, tags, incidents: none can be kept
    assert ResponseFactory().pk > max(before)  # ids continue from the old sequence


def test_the_partitioning_of_responses_can_be_undone_keeping_every_response():
    before = _history()
    migrate_to_latest()

    old = migrate(BEFORE)

    assert not partitions.is_partitioned(connection, "feedback_response")
    Response = old.get_model("feedback", "Response")
    assert {
        r.pk: tuple(getattr(r, f) for f in FIELDS) for r in Response.objects.filter(pk__in=before)
    } == before
    assert "feedback_answer" in _references_to_responses()  # the constraints are back
    migrate_to_latest()
    assert partitions.is_partitioned(connection, "feedback_response")
