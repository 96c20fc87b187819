"""Backups of the whole database, and restoring one: pg_dump/pg_restore, or SQLite's backup API.

The photos and files attached to incidents, checks and drills are not in the database: with the
default storage (a folder under var/) the backup writes them beside the dump, as
``<backup>.attachments.tar``, after the dump (so every row in the dump has its file, bar one erased
in the seconds between), and a restore unpacks it when it is there. A bucket (S3) is backed up by
the bucket's own versioning or replication, not here (see README).

A backup holds patients' contact details and words: it is written readable by its owner only
(0600). Keep copies off the machine, encrypted, and test a restore regularly (see README).
"""

from __future__ import annotations

import os
import re
import shutil
import sqlite3
import subprocess
import tarfile
from datetime import UTC, datetime
from pathlib import Path

import environ
from django.conf import settings
from django.core.files.storage import FileSystemStorage, storages
from django.db import connections

POSTGRES = "django.db.backends.postgresql"
SQLITE = "django.db.backends.sqlite3"


class BackupError(Exception):
    """A backup or restore that could not be done; the message says why in plain words."""


def database_config(url: str | None = None) -> dict:
    """The settings of the database to work on: the project's own, or the one ``url`` names."""
    config = environ.Env.db_url_config(url) if url else dict(settings.DATABASES["default"])
    if config["ENGINE"] not in (POSTGRES, SQLITE):
        raise BackupError(f"Cannot back up or restore {config['ENGINE']}: use PostgreSQL or SQLite.")
    return config


def default_destination(config: dict, *, now: datetime | None = None) -> Path:
    stamp = (now or datetime.now(tz=UTC)).strftime("%Y%m%d-%H%M%SZ")
    suffix = "dump" if config["ENGINE"] == POSTGRES else "sqlite3"
    return settings.VAR_DIR / "backups" / f"servicedesk-{stamp}.{suffix}"


def backup(*, destination: Path, url: str | None = None) -> Path:
    """Write a consistent snapshot of the database to ``destination`` (taken while it runs)."""
    config = database_config(url)
    destination.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    partial = destination.with_name(destination.name + ".partial")
    partial.touch(mode=0o600, exist_ok=True)
    partial.chmod(0o600)
    try:
        if config["ENGINE"] == POSTGRES:
            _run(["pg_dump", "--format=custom", "--no-owner", "--no-privileges", f"--file={partial}"], config)
            _run(["pg_restore", "--list", str(partial)], config)  # proves the archive is readable
        else:
            _sqlite_backup(config, partial, url=url)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    partial.replace(destination)  # a half-written file never carries the final name
    _backup_attachments(destination)
    return destination


def attachments_folder() -> Path | None:
    """The attachments' folder when they are kept on this machine (the default); None for a bucket."""
    storage = storages["attachments"]
    return Path(storage.location) if isinstance(storage, FileSystemStorage) else None


def attachments_archive(backup_file: Path) -> Path:
    return backup_file.with_name(backup_file.name + ".attachments.tar")


def _backup_attachments(destination: Path) -> Path | None:
    folder = attachments_folder()
    if folder is None:
        return None
    archive = attachments_archive(destination)
    partial = archive.with_name(archive.name + ".partial")
    partial.touch(mode=0o600, exist_ok=True)
    partial.chmod(0o600)
    try:
        with tarfile.open(partial, "w") as tar:
            if folder.is_dir():  # none attached yet: an empty archive, so a restore knows there were none
                tar.add(folder, arcname="attachments")
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    partial.replace(archive)
    return archive


def _restore_attachments(source: Path, folder: Path | None) -> None:
    archive = attachments_archive(source)
    if folder is None or not archive.is_file():
        return
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    with tarfile.open(archive) as tar:
        members = []
        for member in tar.getmembers():
            if member.name == "attachments" or not member.name.startswith("attachments/"):
                continue
            member.name = member.name.removeprefix("attachments/")
            members.append(member)
        tar.extractall(folder, members=members, filter="data")  # refuses absolute paths and ../


def restore(
    *, source: Path, url: str | None = None, replace: bool = False, attachments_to: Path | None = None
) -> None:
    """Load the backup ``source`` into the database (the project's own, or the one ``url`` names),
    and its attachments archive, when there is one, into ``attachments_to`` (default: the
    configured folder).

    Refuses a database that already holds Servicedesk data unless ``replace`` is given, so a
    restore cannot overwrite a live practice by accident.
    """
    if not source.is_file():
        raise BackupError(f"No backup file at {source}.")
    config = database_config(url)
    if not replace and _has_data(config, url=url):
        raise BackupError(
            "That database already holds Servicedesk data. Restore into an empty database, "
            "or pass --replace to overwrite it (everything in it now will be lost)."
        )
    if config["ENGINE"] == POSTGRES:
        if replace:
            # pg_restore --clean cannot drop a monthly partition's inherited constraints (issue 19):
            # the partitioned tables go first, with their partitions, then the rest is cleaned.
            _run(["psql", f"--dbname={config['NAME']}", "--quiet", "--command", _DROP_PARTITIONED], config)
        _run(
            [
                "pg_restore",
                "--clean",
                "--if-exists",
                "--no-owner",
                "--no-privileges",
                "--single-transaction",
                "--exit-on-error",
                f"--dbname={config['NAME']}",
                str(source),
            ],
            config,
        )
    else:
        if url is None:
            connections["default"].close()
        with sqlite3.connect(source) as src, sqlite3.connect(config["NAME"]) as dst:
            src.backup(dst)
    _restore_attachments(source, attachments_to or attachments_folder())


_DROP_PARTITIONED = (
    "DO $$ DECLARE t regclass; BEGIN FOR t IN SELECT oid::regclass FROM pg_class WHERE relkind = 'p' "
    "AND relnamespace = 'public'::regnamespace AND NOT relispartition LOOP "
    "EXECUTE format('DROP TABLE %s CASCADE', t); END LOOP; END $$"
)


def _run(command: list[str], config: dict) -> None:
    if shutil.which(command[0]) is None:
        raise BackupError(f"{command[0]} is not installed (Debian: apt-get install postgresql-client).")
    env = {**os.environ, "PGPASSWORD": str(config.get("PASSWORD") or "")}
    args = [command[0]]
    for flag, key in (("--host", "HOST"), ("--port", "PORT"), ("--username", "USER")):
        if config.get(key):
            args.append(f"{flag}={config[key]}")
    if command[0] == "pg_dump":
        args.append(f"--dbname={config['NAME']}")
    if command[0] == "pg_restore" and "--list" in command:
        args = [command[0]]  # reading an archive's table of contents needs no server
    result = subprocess.run(  # noqa: S603 - fixed programs, arguments are not shell-parsed
        args + command[1:], env=env, capture_output=True, text=True, timeout=3600, check=False
    )
    if result.returncode != 0:
        raise BackupError(f"{command[0]} failed: {result.stderr.strip()[-2000:]}")


def _sqlite_regexp(pattern: str | None, value: object) -> bool:
    """SQL's REGEXP as Django gives it to its SQLite connections (a CHECK constraint uses it)."""
    return pattern is not None and value is not None and re.search(pattern, str(value)) is not None


def _sqlite_backup(config: dict, destination: Path, *, url: str | None) -> None:
    with sqlite3.connect(destination) as target:
        # The integrity check evaluates CHECK constraints, one of which (the accent colour) is a
        # regular expression: a plain sqlite3 connection needs the function Django would add.
        target.create_function("REGEXP", 2, _sqlite_regexp, deterministic=True)
        if url is None:
            # Through Django's own connection: works for a file and for the test suite's in-memory db.
            connections["default"].ensure_connection()
            connections["default"].connection.backup(target)
        else:
            with sqlite3.connect(config["NAME"]) as source:
                source.backup(target)
        if target.execute("PRAGMA integrity_check").fetchone()[0] != "ok":
            raise BackupError("The SQLite copy failed its integrity check.")


def _has_data(config: dict, *, url: str | None) -> bool:
    """Whether the database has Servicedesk's tables (its migrations were applied)."""
    if url is None:
        with connections["default"].cursor() as cursor:
            return "django_migrations" in connections["default"].introspection.table_names(cursor)
    if config["ENGINE"] == SQLITE:
        if not Path(config["NAME"]).exists():
            return False
        with sqlite3.connect(config["NAME"]) as db:
            found = db.execute("SELECT 1 FROM sqlite_master WHERE name = 'django_migrations'").fetchone()
        return found is not None
    import psycopg2

    params = {
        "dbname": config["NAME"],
        "user": config.get("USER") or None,
        "password": config.get("PASSWORD"),
    }
    params |= {"host": config.get("HOST") or None, "port": config.get("PORT") or None, "connect_timeout": 5}
    with psycopg2.connect(**{k: v for k, v in params.items() if v}) as db, db.cursor() as cursor:
        cursor.execute("SELECT to_regclass('public.django_migrations') IS NOT NULL")
        return cursor.fetchone()[0]
