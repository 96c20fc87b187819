"""A real streaming standby for the replica tests (``bin/replica-standby start``: 127.0.0.1:5433).

The test database is created on the primary by pytest-django and the standby replays it, as it
replays the whole cluster: the ``replica`` alias here names the standby's port and the same test
database. (``TEST["MIRROR"]`` is set only so that Django never tries to create or flush a database
on a read-only server; the connection itself goes to the standby, which ``standby_is_not_primary``
proves.) The alias, the router and the middleware exist only while these tests run: the rest of
the suite runs with no replica at all, as a deployment without ``DATABASE_REPLICA_URL`` does.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator

import psycopg2
import pytest
from django.conf import settings
from django.db import connections
from django.test import override_settings

from servicedesk import replica
from tests.conftest import require

STANDBY_PORT = int(os.environ.get("SERVICEDESK_STANDBY_PORT", "5433"))
STANDBY_HOST = "127.0.0.1"


def standby_sql(sql: str, params: tuple = ()) -> object:
    """One value from the standby, on a connection of its own (not the app's)."""
    conn = psycopg2.connect(
        host=STANDBY_HOST, port=STANDBY_PORT, user="postgres", dbname="postgres", connect_timeout=2
    )
    try:
        conn.autocommit = True
        with conn.cursor() as cursor:
            cursor.execute(sql, params)
            row = cursor.fetchone()
    finally:
        conn.close()
    return row[0] if row else None


def primary_sql(sql: str, params: tuple = ()) -> object:
    with connections["default"].cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchone()[0]


def wait_until_replayed(timeout: float = 10) -> None:
    """Until the standby has replayed everything the primary has written so far."""
    target = primary_sql("SELECT pg_current_wal_lsn()::text")
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        behind = standby_sql("SELECT pg_wal_lsn_diff(%s::pg_lsn, pg_last_wal_replay_lsn())", (target,))
        if behind is not None and behind <= 0:
            return
        time.sleep(0.05)
    raise AssertionError(f"the standby did not replay up to {target} within {timeout} s")


def _standby_has(dbname: str) -> bool:
    try:
        if standby_sql("SELECT pg_is_in_recovery()") is not True:
            return False
        # The test database was created on the primary a moment ago: let the standby replay it.
        deadline = time.monotonic() + 10
        while standby_sql("SELECT count(*) FROM pg_database WHERE datname = %s", (dbname,)) == 0:
            if time.monotonic() > deadline:
                return False
            time.sleep(0.1)
        return True
    except psycopg2.OperationalError:
        return False


@pytest.fixture(scope="session")
def _standby_available(django_db_setup) -> str:
    primary = connections["default"].settings_dict
    require(primary["ENGINE"] == replica.POSTGRESQL, "PostgreSQL (DATABASE_URL) for the replica tests")
    require(
        _standby_has(primary["NAME"]),
        f"A streaming standby on {STANDBY_HOST}:{STANDBY_PORT} (bin/replica-standby start)",
    )
    return primary["NAME"]


@pytest.fixture(scope="module", autouse=True)
def standby(_standby_available) -> Iterator[None]:
    """The ``replica`` alias on the standby, with the router and the middleware, for this module."""
    primary = connections["default"].settings_dict
    alias = {
        **primary,
        "HOST": STANDBY_HOST,
        "PORT": STANDBY_PORT,
        "NAME": primary["NAME"],  # the test database, as replayed on the standby
        "CONN_MAX_AGE": 0,
        "OPTIONS": {**primary.get("OPTIONS", {}), "connect_timeout": 2},
        "TEST": {**primary["TEST"], "MIRROR": "default"},
    }
    previous = connections.settings.get(replica.REPLICA)  # a run with DATABASE_REPLICA_URL set: a mirror
    _drop_connection()
    connections.settings[replica.REPLICA] = alias
    middleware = list(settings.MIDDLEWARE)
    sessions = middleware.index("django.contrib.sessions.middleware.SessionMiddleware")
    middleware.insert(sessions + 1, replica.MIDDLEWARE)
    with override_settings(
        DATABASE_ROUTERS=[replica.ROUTER],
        MIDDLEWARE=middleware,
        REPLICA_STICKY_SECONDS=15,
        REPLICA_MAX_LAG_SECONDS=30,
    ):
        yield
    _drop_connection()
    if previous is None:
        del connections.settings[replica.REPLICA]
    else:
        connections.settings[replica.REPLICA] = previous
    replica.forget_health()


def _drop_connection() -> None:
    """Close this thread's ``replica`` connection and forget it, so the next use reads the settings."""
    connection = getattr(connections._connections, replica.REPLICA, None)
    if connection is not None:
        connection.close()
        delattr(connections._connections, replica.REPLICA)


@pytest.fixture(autouse=True)
def _fresh_health_and_running_replay() -> Iterator[None]:
    """Each test asks the standby afresh, and leaves it replaying (a failed test may have paused it)."""
    replica.forget_health()
    yield
    replica.forget_health()
    standby_sql("SELECT pg_wal_replay_resume()")
