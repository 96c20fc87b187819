"""Shared test set-up: fast hashing, isolated caches and outboxes, role fixtures.

Services the suite needs for real (Redis, Chromium, PostgreSQL) are fixtures that
skip when absent on a developer's machine and fail under CI, where they must exist.
"""

from __future__ import annotations

import os
import shutil

import pytest
from django.conf import settings
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext

from servicedesk.notify import LocmemSmsBackend
from tests.factories import LocationFactory, UserFactory

IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}


def pytest_configure(config: pytest.Config) -> None:
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    settings.SMS_BACKEND = "servicedesk.notify.LocmemSmsBackend"
    if not settings.REDIS_URL:
        # No broker server on this machine: publish into memory instead of var/broker,
        # which the development worker would otherwise pick up.
        from servicedesk.celery import app

        app.conf.broker_url = "memory://"
        app.conf.broker_transport_options = {}


def require(available: bool, what: str) -> None:
    """Skip locally when a real service is missing; under CI that is a failure."""
    if not available:
        if IN_CI:
            pytest.fail(f"{what} is required in CI but is not available.")
        pytest.skip(f"{what} is not available here.")


@pytest.fixture(autouse=True)
def _isolated_outboxes():
    LocmemSmsBackend.outbox.clear()
    cache.clear()
    yield
    LocmemSmsBackend.outbox.clear()


@pytest.fixture
def sms_outbox() -> list:
    return LocmemSmsBackend.outbox


@pytest.fixture
def redis_url() -> str:
    require(bool(settings.REDIS_URL), "Redis (REDIS_URL)")
    return settings.REDIS_URL


@pytest.fixture
def postgres(db) -> None:
    from django.db import connection

    require(connection.vendor == "postgresql", "PostgreSQL (DATABASE_URL)")


@pytest.fixture
def chromium_path() -> str:
    path = shutil.which("chromium") or "/usr/bin/chromium"
    require(os.path.exists(path), "Chromium (/usr/bin/chromium)")
    return path


@pytest.fixture
def location(db):
    return LocationFactory()


@pytest.fixture
def manager(db):
    return UserFactory(manager=True, username="mgr")


@pytest.fixture
def staff(db):
    return UserFactory(username="staffer")


@pytest.fixture
def manager_client(client, manager):
    client.force_login(manager)
    return client


@pytest.fixture
def staff_client(client, staff):
    client.force_login(staff)
    return client


@pytest.fixture
def count_queries():
    """``count_queries(fn)``: how many SQL queries ``fn()`` runs. For "flat as data grows" tests."""

    def _count(fn) -> int:
        with CaptureQueriesContext(connection) as context:
            fn()
        return len(context.captured_queries)

    return _count
