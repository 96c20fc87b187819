"""Running behind a connection pooler: ``DATABASE_POOLER=pgbouncer`` (transaction pooling).

In transaction mode pgbouncer lends a server connection for one transaction and takes it back, so
a client may run its next transaction on another server connection. What must not be relied on
between transactions, and how Servicedesk keeps to it:

1. Server-side cursors (``QuerySet.iterator()`` opens a named cursor that outlives its transaction
   in autocommit): off, ``DISABLE_SERVER_SIDE_CURSORS`` (Django's documented setting for this).
2. Session-level advisory locks, ``SET`` (without ``LOCAL``), ``LISTEN``, temporary tables: none in
   the code; the roll-up takes ``pg_advisory_xact_lock``, released with its transaction
   (tests/servicedesk/test_pgbouncer.py keeps it so).
3. Prepared statements: psycopg2 prepares none.
4. The time zone Django sets on a new connection: pgbouncer tracks ``TimeZone`` per client and
   sets it on whichever server connection it lends.

Persistent client connections (``CONN_MAX_AGE``) stay on: a connection to pgbouncer is cheap to
keep and holds no server connection between transactions, while opening one per request costs a
round trip and an authentication. Migrations should go straight to PostgreSQL (docker-compose.yml
runs them so): a long migration holds its server connection for its whole transaction anyway.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ImproperlyConfigured

POOLERS = ("pgbouncer",)


def configure(database: dict[str, Any], *, pooler: str) -> None:
    """Adjust one ``DATABASES`` entry for the pooler in front of it (none when ``pooler`` is empty)."""
    pooler = pooler.strip().lower()
    if not pooler:
        return
    if pooler not in POOLERS:
        raise ImproperlyConfigured(
            f"DATABASE_POOLER must be empty or one of {', '.join(POOLERS)}; got {pooler!r}."
        )
    if database.get("ENGINE") != "django.db.backends.postgresql":
        raise ImproperlyConfigured(
            "DATABASE_POOLER=pgbouncer needs DATABASE_URL=postgres://… (pgbouncer's address)."
        )
    database["DISABLE_SERVER_SIDE_CURSORS"] = True
