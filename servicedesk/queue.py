"""Enqueue background work without ever depending on the broker.

The database is the source of truth: a task is only a nudge to do sooner what the next
periodic sweep would do anyway. So publishing happens after the transaction commits
(a worker never looks for a row that does not exist yet), and a broker outage is logged
and otherwise ignored: the write stands and the sweep picks the work up.
"""

from __future__ import annotations

import logging
from functools import partial

from celery import Task
from django.db import transaction

logger = logging.getLogger(__name__)


def enqueue(task: Task, *args: int | str) -> None:
    """Publish ``task(*args)`` once the current transaction commits. Args are ids, never patient data."""
    transaction.on_commit(partial(_publish, task, args))


def _publish(task: Task, args: tuple) -> None:
    try:
        task.apply_async(args=args)
    except Exception as exc:  # kombu raises OperationalError and friends; none may reach the user
        logger.warning("broker unavailable, %s left for the next sweep (%s)", task.name, type(exc).__name__)
