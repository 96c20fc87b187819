"""Fixtures shared by the security tests."""

from __future__ import annotations

import io
import logging

import pytest


@pytest.fixture
def written_logs():
    """Everything the configured handlers write, on every logger, while the test runs."""
    buffer = io.StringIO()
    loggers = [
        logging.getLogger(),
        *(logging.getLogger(name) for name in list(logging.root.manager.loggerDict)),
    ]
    swapped = []
    for logger in loggers:
        for handler in getattr(logger, "handlers", []):
            is_console = type(handler) is logging.StreamHandler  # not a FileHandler subclass
            if is_console and handler.stream is not buffer:
                swapped.append((handler, handler.setStream(buffer)))
    yield buffer
    for handler, stream in reversed(swapped):
        handler.setStream(stream)
