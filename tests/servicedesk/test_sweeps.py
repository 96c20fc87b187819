"""Every periodic job is a sweep with the one retry policy, and services never import tasks."""

from __future__ import annotations

import ast
import importlib
import logging
from pathlib import Path

import pytest
from django.conf import settings
from django.db import OperationalError

from servicedesk.celery import app
from servicedesk.sweeps import RETRY

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize("entry", sorted(settings.CELERY_BEAT_SCHEDULE))
def test_every_scheduled_job_is_a_registered_sweep_with_the_one_retry_policy(entry):
    name = settings.CELERY_BEAT_SCHEDULE[entry]["task"]
    importlib.import_module(name.rpartition(".")[0])  # as the worker's autodiscovery does
    task = app.tasks[name]
    assert OperationalError in task.autoretry_for
    assert (task.max_retries, task.retry_backoff) == (RETRY["max_retries"], RETRY["retry_backoff"])


@pytest.mark.django_db
def test_a_sweep_says_how_it_went_in_one_line(caplog):
    from dashboard.tasks import refresh_feedback_summaries

    with caplog.at_level(logging.INFO, logger="servicedesk.sweeps"):
        refresh_feedback_summaries()
    assert "sweep refresh_feedback_summaries done" in caplog.text


def test_no_services_module_imports_a_tasks_module():
    """Tasks import services; services enqueue by task name (servicedesk.queue.task)."""
    offenders = []
    for path in ROOT.glob("*/**/*.py"):
        if ".venv" in path.parts or "tests" in path.parts:
            continue
        if path.stem != "services" and "services" not in path.parts and path.parent.name != "invitations":
            continue
        if path.parent.name == "invitations" and path.stem in {"views", "urls", "root_urls", "demo"}:
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and (node.module or "").endswith("tasks"):
                offenders.append(f"{path.relative_to(ROOT)}: from {node.module}")
    assert offenders == []
