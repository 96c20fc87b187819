"""Enqueue background work without ever depending on the broker.

The database is the source of truth: a task is only a nudge to do sooner what the next
periodic sweep would do anyway. So publishing happens after the transaction commits
(a worker never looks for a row that does not exist yet), and a broker outage is logged
and otherwise ignored: the write stands and the sweep picks the work up.

After one refused publish, this process stops trying for ``BrokerBreaker.pause`` seconds:
a request that enqueues many tasks during an outage (a visit list posted by the API) would
otherwise pay a connection attempt and a retry for each of them.
"""

from __future__ import annotations

import logging
import time
from functools import partial

from celery import Signature, Task
from django.db import transaction

logger = logging.getLogger(__name__)


class BrokerBreaker:
    """Per process: after the broker refused once, skip publishing for a while."""

    pause = 30.0

    def __init__(self) -> None:
        self.closed_until = 0.0

    def is_open(self) -> bool:
        return time.monotonic() >= self.closed_until

    def trip(self) -> None:
        self.closed_until = time.monotonic() + self.pause

    def reset(self) -> None:
        self.closed_until = 0.0


broker = BrokerBreaker()


def task(name: str) -> Signature:
    """A task by its registered name, for services to enqueue without importing their app's tasks
    module (tasks import services, never the other way round)."""
    from servicedesk.celery import app

    return app.signature(name)


def enqueue(task: Task | Signature, *args: int | str) -> None:
    """Publish ``task(*args)`` once the current transaction commits. Args are ids, never patient data."""
    transaction.on_commit(partial(publish, task, *args))


def publish(task: Task | Signature, *args: int | str, probe: bool = False) -> bool:
    """Publish now; True when the broker took it. Never raises: the sweep is the fallback.

    Sweeps pass ``probe=True``: they are how work resumes after an outage, so they try the
    broker even while this process is pausing after a refusal.
    """
    if not probe and not broker.is_open():
        return False
    try:
        task.apply_async(args=args)
    except Exception as exc:  # kombu raises OperationalError and friends; none may reach the user
        broker.trip()
        logger.warning("broker unavailable, %s left for the next sweep (%s)", task.name, type(exc).__name__)
        return False
    broker.reset()
    return True
