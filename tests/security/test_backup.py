"""Backup and restore: a dump restored into an empty database holds the practice's data."""

from __future__ import annotations

import secrets
import sqlite3
import stat

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection

from servicedesk.security import backup
from tests.factories import LocationFactory


@pytest.fixture
def practice_data(transactional_db):
    """Committed rows (a dump is taken by another process or connection, it sees only committed data)."""
    return LocationFactory(name="Canary Surgery", address="7 Restore Road")


def _sqlite_rows(path, sql: str) -> list[tuple]:
    with sqlite3.connect(path) as db:
        return db.execute(sql).fetchall()


@pytest.fixture
def scratch_postgres():
    """An empty PostgreSQL database of our own, named after the test database, dropped afterwards."""
    import psycopg2

    settings_dict = connection.settings_dict
    name = f"{settings_dict['NAME']}_restore_{secrets.token_hex(4)}"
    params = {
        "dbname": "postgres",
        "user": settings_dict["USER"] or None,
        "password": settings_dict["PASSWORD"] or None,
        "host": settings_dict["HOST"] or None,
        "port": settings_dict["PORT"] or None,
    }
    params = {k: v for k, v in params.items() if v}
    admin = psycopg2.connect(**params)
    admin.autocommit = True
    with admin.cursor() as cursor:
        cursor.execute(f'CREATE DATABASE "{name}"')
    user = settings_dict["USER"] or "postgres"
    password = f":{settings_dict['PASSWORD']}" if settings_dict["PASSWORD"] else ""
    host = settings_dict["HOST"] or "127.0.0.1"
    yield f"postgres://{user}{password}@{host}:{settings_dict['PORT'] or 5432}/{name}"
    with admin.cursor() as cursor:
        cursor.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    admin.close()


@pytest.mark.skipif(connection.vendor != "sqlite", reason="the SQLite procedure")
def test_a_sqlite_backup_restores_into_an_empty_file_with_the_data(practice_data, tmp_path):
    dump = tmp_path / "practice.sqlite3"
    call_command("backup", output=dump)
    restored = tmp_path / "restored.sqlite3"

    call_command("restore", str(dump), database_url=f"sqlite:///{restored}")

    rows = _sqlite_rows(restored, "SELECT name, address FROM servicedesk_location")
    assert ("Canary Surgery", "7 Restore Road") in rows
    assert _sqlite_rows(restored, "SELECT count(*) FROM django_migrations")[0][0] > 0


def test_a_postgres_dump_restores_into_an_empty_database_with_the_data(
    postgres, practice_data, tmp_path, scratch_postgres
):
    import psycopg2

    dump = tmp_path / "practice.dump"
    call_command("backup", output=dump)

    call_command("restore", str(dump), database_url=scratch_postgres)

    with psycopg2.connect(scratch_postgres.replace("postgres://", "postgresql://")) as db, db.cursor() as cur:
        cur.execute("SELECT name, address FROM servicedesk_location")
        assert ("Canary Surgery", "7 Restore Road") in cur.fetchall()
        cur.execute("SELECT count(*) FROM django_migrations")
        assert cur.fetchone()[0] > 0


def test_a_postgres_restore_refuses_a_database_that_has_data(
    postgres, practice_data, tmp_path, scratch_postgres
):
    dump = tmp_path / "practice.dump"
    call_command("backup", output=dump)
    call_command("restore", str(dump), database_url=scratch_postgres)
    with pytest.raises(CommandError, match="already holds Servicedesk data"):
        call_command("restore", str(dump), database_url=scratch_postgres)
    call_command("restore", str(dump), database_url=scratch_postgres, replace=True)


def test_a_backup_file_is_readable_by_its_owner_only(practice_data, tmp_path):
    dump = tmp_path / "backups" / "practice.bak"
    call_command("backup", output=dump)
    assert stat.S_IMODE(dump.stat().st_mode) == 0o600
    assert not list(dump.parent.glob("*.partial"))


@pytest.mark.skipif(connection.vendor != "sqlite", reason="the SQLite procedure")
def test_a_sqlite_restore_refuses_a_file_that_has_data(practice_data, tmp_path):
    dump = tmp_path / "practice.sqlite3"
    call_command("backup", output=dump)
    with pytest.raises(CommandError, match="already holds Servicedesk data"):
        call_command("restore", str(dump), database_url=f"sqlite:///{dump}")


def test_restoring_a_missing_file_says_so(db, tmp_path):
    with pytest.raises(CommandError, match="No backup file"):
        call_command("restore", str(tmp_path / "nope.dump"), database_url=f"sqlite:///{tmp_path / 'x.db'}")


def test_backups_are_named_by_time_under_var(settings):
    from datetime import UTC, datetime

    path = backup.default_destination(
        {"ENGINE": backup.POSTGRES}, now=datetime(2026, 3, 2, 9, 30, tzinfo=UTC)
    )
    assert path == settings.VAR_DIR / "backups" / "servicedesk-20260302-093000Z.dump"


def _table_digests(cursor) -> dict[str, tuple[int, str]]:
    """Every table of the cursor's database: its row count and an md5 of its rows in a fixed order."""
    from psycopg2 import sql

    cursor.execute("SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY tablename")
    digests = {}
    for (table,) in cursor.fetchall():
        rows = "SELECT count(*), md5(coalesce(string_agg(t::text, E'\\n' ORDER BY t::text), '')) FROM {} t"
        cursor.execute(sql.SQL(rows).format(sql.Identifier(table)))
        digests[table] = tuple(cursor.fetchone())
    return digests


def test_a_seeded_practice_restores_row_for_row_in_every_table(
    postgres, transactional_db, settings, tmp_path, scratch_postgres
):
    """The demo practice (every pillar's tables: surveys, responses, incidents and their timelines,
    checklists, goals, invitations, the outbox, the audit log…) backed up and restored into an empty
    database: the same tables, each with the same number of rows and the same rows to the byte."""
    import psycopg2

    settings.DEBUG = True
    call_command("seed_demo")
    dump = tmp_path / "practice.dump"
    call_command("backup", output=dump)

    call_command("restore", str(dump), database_url=scratch_postgres)

    with connection.cursor() as cursor:
        original = _table_digests(cursor.cursor)
    with (
        psycopg2.connect(scratch_postgres.replace("postgres://", "postgresql://")) as db,
        db.cursor() as cursor,
    ):
        restored = _table_digests(cursor)
    assert restored == original
    assert len(original) > 40
    held = {table for table, (rows, _) in original.items() if rows}
    assert {"feedback_response", "recovery_incident", "recovery_followup", "delivery_checklistrun"} <= held
