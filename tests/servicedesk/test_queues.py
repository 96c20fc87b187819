"""Queues by kind: every task has one queue, and an import or a report never waits in the queue that
escalation waits in (servicedesk/schedule.py); the compose file's workers consume every queue."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection
from kombu import Connection

from servicedesk import schedule
from servicedesk.celery import app

ROOT = Path(__file__).resolve().parents[2]
CELERY = ["celery", "-A", "servicedesk"]
ESCALATION = "recovery.tasks.escalate_overdue_incidents"


def registered_tasks() -> set[str]:
    app.loader.import_default_modules()  # every app's tasks module, as a worker's autodiscovery does
    return {name for name in app.tasks if not name.startswith("celery.")}


def queue_of(name: str) -> str:
    return app.amqp.router.route({}, name)["queue"].name


def test_every_registered_task_has_exactly_one_queue_and_no_route_names_a_missing_task():
    tasks = registered_tasks()
    assert tasks - set(schedule.TASK_QUEUE) == set(), "give each new task a queue in servicedesk/schedule.py"
    assert set(schedule.TASK_QUEUE) - tasks == set(), "a route names a task that no longer exists"
    assert set(schedule.TASK_QUEUE.values()) == set(schedule.QUEUES)


def test_celery_routes_each_task_to_the_queue_the_table_gives_it():
    assert {name: queue_of(name) for name in schedule.TASK_QUEUE} == schedule.TASK_QUEUE


def test_escalation_never_waits_behind_an_import_a_report_or_a_send():
    assert queue_of(ESCALATION) == schedule.SWEEPS
    for name in (
        "feedback.tasks.run_invitation_import",  # a 50,000-row visit list
        "feedback.tasks.check_invitation_import",
        "servicedesk.tasks.send_weekly_digests",  # a report to every manager
        "servicedesk.tasks.refresh_feedback_summaries",
        "design.tasks.measure_goals",
        "servicedesk.tasks.deliver_message",  # a slow mail server
    ):
        assert queue_of(name) != queue_of(ESCALATION), name


def test_every_scheduled_sweep_has_a_queue():
    assert {entry["task"] for entry in settings.CELERY_BEAT_SCHEDULE.values()} <= set(schedule.TASK_QUEUE)


def test_a_worker_started_without_a_queue_list_consumes_every_queue():
    """make run, bin/dev-server and the fault scripts start one worker with no -Q: it must do everything."""
    consumed = {queue.name for queue in app.amqp.queues.consume_from.values()}
    assert consumed >= set(schedule.QUEUES)
    assert settings.CELERY_TASK_DEFAULT_QUEUE in consumed


def compose_commands() -> dict[str, list[str]]:
    """Each compose service's command (the file writes them as JSON arrays: no YAML parser needed)."""
    commands: dict[str, list[str]] = {}
    service = ""
    for line in (ROOT / "docker-compose.yml").read_text().splitlines():
        if match := re.match(r"^  ([a-z][\w-]*):\s*$", line):
            service = match[1]
        elif match := re.match(r"^\s+command:\s*(\[.*\])\s*$", line):
            commands[service] = json.loads(match[1])
    return commands


def worker_queues(command: list[str]) -> set[str]:
    queues = command[command.index("-Q") + 1] if "-Q" in command else ",".join(schedule.QUEUES)
    return set(queues.split(","))


def test_the_compose_files_workers_together_consume_every_queue_and_escalation_has_its_own_worker():
    commands = compose_commands()
    workers = {name: cmd for name, cmd in commands.items() if cmd[:4] == [*CELERY, "worker"]}
    assert len(workers) >= len(schedule.QUEUES)
    consumed = [worker_queues(cmd) for cmd in workers.values()]
    assert set().union(*consumed) >= set(schedule.QUEUES)
    # The worker that takes sweeps takes nothing slow: an import or report never holds its slots.
    for queues in consumed:
        if schedule.SWEEPS in queues:
            assert queues == {schedule.SWEEPS}
    beats = [cmd for cmd in commands.values() if cmd[:4] == [*CELERY, "beat"]]
    assert len(beats) == 1


@pytest.mark.django_db(transaction=True)
def test_escalation_is_consumed_by_the_sweeps_worker_while_the_imports_queue_is_full(redis_url, postgres):
    """Real Redis, a real worker for the sweeps queue only: 200 imports queued (nobody free to take
    them) do not hold up the escalation sweep published after them."""
    from recovery.services import sla_policies_ensure_defaults
    from tests.factories import UserFactory
    from tests.recovery.conftest import drive_to

    with Connection(redis_url) as conn:
        for name in schedule.QUEUES:
            conn.SimpleQueue(name).clear()
    sla_policies_ensure_defaults()  # a transactional test starts from a flushed database
    manager = UserFactory(manager=True)
    # Opened long ago (the worker runs on the real clock): its first escalation step is due.
    incident = drive_to("new", by=manager, severity="high", now=datetime(2026, 3, 2, 9, 0, tzinfo=UTC))

    for _ in range(200):
        app.send_task("feedback.tasks.run_invitation_import", args=[0])
    app.send_task(ESCALATION)

    env = {**os.environ, "DATABASE_URL": _test_database_url(), "REDIS_URL": redis_url, "DEBUG": "1"}
    worker = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "servicedesk", "worker", "-Q", schedule.SWEEPS, "-c", "1",
         "--without-gossip", "--without-mingle", "--without-heartbeat", "-l", "WARNING"],
        cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            incident.refresh_from_db()
            if incident.escalation_level:
                break
            time.sleep(0.5)
    finally:
        worker.terminate()
        worker.wait(timeout=30)
    assert incident.escalation_level == 1
    with Connection(redis_url) as conn:
        assert conn.SimpleQueue(schedule.IMPORTS).qsize() == 200  # still waiting for the imports worker
        conn.SimpleQueue(schedule.IMPORTS).clear()


def _test_database_url() -> str:
    db = connection.settings_dict
    return f"postgres://{db['USER']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"
