"""Registering a metric for one test only."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from servicedesk import metrics
from servicedesk.metrics import Metric


@contextmanager
def registered(metric: Metric) -> Iterator[Metric]:
    """``metric`` is in the registry inside the block, and gone again after it (even on failure)."""
    metrics.register(metric)
    try:
        yield metric
    finally:
        metrics.registry._metrics.pop(metric.key)
