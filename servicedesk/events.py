"""How a pillar tells the others that something happened (DESIGN.md: pillars send signals and
never import their listeners): after the change commits, to every listener, whatever one does.

A listener's bug or outage is logged loudly and never becomes an error for the person whose
action has already been saved: a patient who sent their answers sees the thank-you page, a
receptionist who failed a check sees it recorded. Listeners are idempotent (a delivery may be
repeated), and the dashboard lists negative feedback that no incident is putting right, so a
failed listener is seen and caught up, not lost.
"""

from __future__ import annotations

import logging

from django.db import transaction
from django.dispatch import Signal

logger = logging.getLogger(__name__)


def send_on_commit(signal: Signal, name: str, *, sender: object, **ids: int | bool) -> None:
    """Send ``signal`` (called ``name`` in the log) once the current transaction commits.

    ``ids`` are the signal's keyword arguments: primary keys and flags only, since they are logged.
    """

    def send() -> None:
        for receiver, result in signal.send_robust(sender=sender, **ids):
            if isinstance(result, Exception):
                logger.error(
                    "%s receiver %s failed %s",
                    name,
                    getattr(receiver, "__qualname__", receiver),
                    ids,
                    exc_info=result,
                )
        logger.info("%s sent %s", name, ids)

    transaction.on_commit(send)
