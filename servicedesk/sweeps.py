"""One retry policy for every periodic sweep (the beat schedule in settings names only sweeps).

A sweep derives what is due from the database and claims each row, so running it again is
always safe. What it may meet is a database that blinked (a failover, a restart, a dropped
connection): the sweep is then retried a few times, 10 s apart at first, before the next beat
runs it anyway. Per-message retries are the outbox's, not the sweep's.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar

from celery import shared_task
from django.db import InterfaceError, OperationalError

logger = logging.getLogger(__name__)

R = TypeVar("R")

RETRY = {
    "autoretry_for": (OperationalError, InterfaceError),
    "retry_backoff": 10,
    "retry_backoff_max": 120,
    "retry_jitter": True,
    "max_retries": 3,
}


def sweep(func: Callable[[], R] | None = None, *, name: str | None = None) -> Any:
    """Declare a periodic sweep: a Celery task with the one retry policy and one log line a run.

    ``@sweep`` registers it under its module's name; ``@sweep(name="…")`` keeps the name it had
    before its module moved, so the beat schedule and messages already queued still find it.
    """

    def declare(func: Callable[[], R]) -> Callable[[], R]:
        @wraps(func)
        def run() -> R:
            started = time.monotonic()
            result = func()
            logger.info("sweep %s done in %.2f s: %s", func.__name__, time.monotonic() - started, result)
            return result

        options = {**RETRY, "name": name} if name else RETRY
        return shared_task(**options)(run)

    return declare(func) if func is not None else declare
