"""Which reads go to the standby and which to the primary, against a real streaming standby
(``bin/replica-standby start``; see conftest.py). Data the standby must see is committed
(``transaction=True``) and waited for with ``wait_until_replayed``."""

from __future__ import annotations

import logging
from datetime import timedelta

import pytest
import time_machine
from django.db import connections
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from feedback.models import Survey
from servicedesk import replica
from tests.factories import AnswerFactory, SurveyFactory, UserFactory
from tests.replica.conftest import STANDBY_PORT, primary_sql, standby_sql, wait_until_replayed

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True, databases=["default", "replica"])]


def _manager_client(username: str) -> Client:
    client = Client()
    client.force_login(UserFactory(manager=True, username=username))
    return client


@pytest.fixture
def survey() -> Survey:
    survey = SurveyFactory(title="Kestrel")
    wait_until_replayed()
    return survey


@pytest.fixture
def replay_paused():
    standby_sql("SELECT pg_wal_replay_pause()")
    yield
    standby_sql("SELECT pg_wal_replay_resume()")


def _results(client: Client, survey: Survey, *, on_replica: bool) -> str:
    """The survey's results page (opted in), checking where its read of the survey went."""
    with CaptureQueriesContext(connections[replica.REPLICA]) as replica_queries:
        response = client.get(reverse("feedback:survey_results", args=[survey.pk]))
    assert response.status_code == 200
    read_replica = any('"feedback_survey"' in q["sql"] for q in replica_queries.captured_queries)
    assert read_replica is on_replica
    return response.content.decode()


def _retitle(client: Client, survey: Survey, title: str) -> None:
    """The writer renames the survey through the settings form: a POST that commits on the primary."""
    response = client.post(
        reverse("feedback:survey_update", args=[survey.pk]),
        {"title": title, "slug": survey.slug, "audience": "patient", "languages": ["en"],
         "contact_within_days": 2},
    )  # fmt: skip
    assert response.status_code == 302
    assert response.cookies[replica.STICKY_COOKIE]["max-age"] == 15


def test_the_replica_alias_is_the_standby_not_the_primary(standby):
    with connections[replica.REPLICA].cursor() as cursor:
        cursor.execute("SELECT pg_is_in_recovery(), current_database(), inet_server_port()")
        in_recovery, name, port = cursor.fetchone()
    assert in_recovery is True
    assert port == STANDBY_PORT
    assert name == connections["default"].settings_dict["NAME"]
    assert primary_sql("SELECT pg_is_in_recovery()") is False


def test_an_opted_in_page_reads_a_committed_row_from_the_replica_once_replayed(survey):
    assert "Kestrel" in _results(_manager_client("reader"), survey, on_replica=True)


def test_a_page_that_did_not_opt_in_reads_the_primary_even_while_the_replica_is_behind(survey, replay_paused):
    Survey.objects.filter(pk=survey.pk).update(title="Osprey")
    with CaptureQueriesContext(connections[replica.REPLICA]) as replica_queries:
        response = _manager_client("reader").get(reverse("feedback:survey_builder", args=[survey.pk]))
    assert "Osprey" in response.content.decode()
    assert replica_queries.captured_queries == []


def test_while_replay_is_paused_others_read_the_old_row_and_the_writer_his_own_write(survey, replay_paused):
    writer, reader = _manager_client("writer"), _manager_client("reader")
    _retitle(writer, survey, "Osprey")

    page = _results(reader, survey, on_replica=True)
    assert "Kestrel" in page
    assert "Osprey" not in page
    assert "Osprey" in _results(writer, survey, on_replica=False)


def test_the_writer_reads_the_replica_again_once_his_sticky_seconds_are_over(survey, replay_paused):
    writer = _manager_client("writer")
    _retitle(writer, survey, "Osprey")
    assert "Osprey" in _results(writer, survey, on_replica=False)

    with time_machine.travel(timezone.now() + timedelta(seconds=16)):
        assert "Kestrel" in _results(writer, survey, on_replica=True)


def test_a_replica_lagging_beyond_the_limit_is_not_read(survey, replay_paused, settings, caplog):
    settings.REPLICA_MAX_LAG_SECONDS = 0
    Survey.objects.filter(pk=survey.pk).update(title="Osprey")

    with caplog.at_level(logging.WARNING, logger="servicedesk.replica"):
        assert "Osprey" in _results(_manager_client("reader"), survey, on_replica=False)
    assert "over REPLICA_MAX_LAG_SECONDS=0" in caplog.text
    assert "Osprey" not in caplog.text  # no data in the log line


def test_a_replica_behind_an_idle_primary_but_within_the_limit_is_read(survey, replay_paused):
    Survey.objects.filter(pk=survey.pk).update(title="Osprey")
    assert "Kestrel" in _results(_manager_client("reader"), survey, on_replica=True)


def test_a_replica_that_refuses_connections_sends_reads_to_the_primary_and_the_page_comes(survey, caplog):
    connections[replica.REPLICA].close()
    connections[replica.REPLICA].settings_dict["PORT"] = 1  # nothing listens there
    try:
        with caplog.at_level(logging.WARNING, logger="servicedesk.replica"):
            response = _manager_client("reader").get(reverse("feedback:survey_results", args=[survey.pk]))
    finally:
        connections[replica.REPLICA].close()
        connections[replica.REPLICA].settings_dict["PORT"] = STANDBY_PORT
    assert response.status_code == 200
    assert "Kestrel" in response.content.decode()
    assert "cannot be reached" in caplog.text


def test_a_replica_that_dies_in_the_middle_of_a_page_is_retried_on_the_primary(survey, caplog):
    killed = []

    def die_on_the_survey_read(execute, sql, params, many, context):
        if '"feedback_survey"' in sql and not killed:
            pid = context["connection"].connection.get_backend_pid()
            killed.append(standby_sql("SELECT pg_terminate_backend(%s)", (pid,)))
        return execute(sql, params, many, context)

    reader = _manager_client("reader")
    with (
        connections[replica.REPLICA].execute_wrapper(die_on_the_survey_read),
        caplog.at_level(logging.WARNING, logger="servicedesk.replica"),
    ):
        response = reader.get(reverse("feedback:survey_results", args=[survey.pk]))

    assert killed == [True]
    assert response.status_code == 200
    assert "Kestrel" in response.content.decode()
    assert "the view ran again on the primary" in caplog.text
    assert replica.replica_usable() is False  # and the next pages go to the primary without trying


def test_a_streamed_export_reads_its_rows_from_the_replica_while_it_streams(survey):
    AnswerFactory(response__survey=survey, question__survey=survey)
    wait_until_replayed()
    manager = _manager_client("reader")

    response = manager.get(reverse("feedback:survey_export", args=[survey.pk]))
    with CaptureQueriesContext(connections[replica.REPLICA]) as replica_queries:
        body = b"".join(response.streaming_content).decode()
    assert body.count("\n") == 2  # the header and the one response
    assert any('"feedback_response"' in q["sql"] for q in replica_queries.captured_queries)
    # The export's audit row is a write on the primary: this manager now reads the primary a while.
    assert replica.STICKY_COOKIE in response.cookies


def test_writes_inside_an_opted_in_block_go_to_the_primary_and_later_reads_follow_them(survey, replay_paused):
    with replica.replica_reads():
        assert Survey.objects.get(pk=survey.pk).title == "Kestrel"  # from the replica
        Survey.objects.filter(pk=survey.pk).update(title="Osprey")
        assert Survey.objects.get(pk=survey.pk).title == "Osprey"  # own write: from the primary
    assert primary_sql("SELECT title FROM feedback_survey WHERE id = %s", (survey.pk,)) == "Osprey"


def test_nothing_reads_the_replica_outside_an_opted_in_block(survey):
    with CaptureQueriesContext(connections[replica.REPLICA]) as replica_queries:
        assert Survey.objects.get(pk=survey.pk).title == "Kestrel"
    assert replica_queries.captured_queries == []


def test_sessions_are_never_read_from_the_replica(survey):
    reader = _manager_client("reader")
    with replica.replica_reads(), CaptureQueriesContext(connections[replica.REPLICA]) as replica_queries:
        assert _session_exists(reader)
    assert replica_queries.captured_queries == []


def _session_exists(client: Client) -> bool:
    from django.contrib.sessions.models import Session

    return Session.objects.filter(session_key=client.session.session_key).exists()
