"""Append-only history partitioned by month with PostgreSQL's declarative partitioning (issue 19).

A partitioned table ``t`` has one partition per calendar month (UTC bounds), named
``t_y2026m12``, and a DEFAULT partition ``t_default`` so that no insert ever fails for want of a
month. The maintenance sweep creates the coming months ahead (moving any rows that landed in
DEFAULT into their month), and the retention policy drops whole months: one ``DROP TABLE``.

Only PostgreSQL partitions; on SQLite (the embedded development default) the tables stay plain
and every function here is a no-op. Table and column names come from model metadata, never from
input; dates are formatted by this module.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime

from django.db import connection as default_connection
from django.db import transaction
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.migrations.operations.base import Operation
from django.utils import timezone

MONTHS_AHEAD = 3  # months partitioned ahead of the current one


@dataclass(frozen=True, order=True)
class Month:
    year: int
    month: int

    @classmethod
    def of(cls, moment: datetime | date) -> Month:
        if isinstance(moment, datetime) and moment.tzinfo is not None:
            moment = moment.astimezone(UTC)
        return cls(moment.year, moment.month)

    def plus(self, months: int) -> Month:
        index = self.year * 12 + self.month - 1 + months
        return Month(index // 12, index % 12 + 1)

    @property
    def start(self) -> datetime:
        return datetime(self.year, self.month, 1, tzinfo=UTC)

    def partition(self, table: str) -> str:
        return f"{table}_y{self.year:04d}m{self.month:02d}"


def default_partition(table: str) -> str:
    return f"{table}_default"


def is_partitioned(connection: BaseDatabaseWrapper, table: str) -> bool:
    if connection.vendor != "postgresql":
        return False
    with connection.cursor() as cursor:
        cursor.execute("SELECT relkind = 'p' FROM pg_class WHERE oid = to_regclass(%s)", [table])
        row = cursor.fetchone()
    return bool(row and row[0])


def months(connection: BaseDatabaseWrapper, table: str) -> list[Month]:
    """The monthly partitions ``table`` has, oldest first (named ``<table>_yYYYYmMM``)."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
            "WHERE i.inhparent = to_regclass(%s)",
            [table],
        )
        names = [row[0] for row in cursor.fetchall()]
    pattern = re.compile(rf"^{re.escape(table)}_y(\d{{4}})m(\d{{2}})$")
    found = [pattern.match(name) for name in names]
    return sorted(Month(int(m[1]), int(m[2])) for m in found if m)


# --- Converting a plain table (migrations) ---------------------------------------------------------


def _q(connection: BaseDatabaseWrapper, name: str) -> str:
    return connection.ops.quote_name(name)


def _definitions(cursor, table: str) -> tuple[list[tuple[str, str]], list[str]]:
    """The table's constraints other than its primary key (name, definition) and the statements
    that recreate its other indexes, as PostgreSQL itself prints them."""
    cursor.execute(
        "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint "
        "WHERE conrelid = to_regclass(%s) AND contype IN ('u', 'f', 'c') AND conparentid = 0 "
        "ORDER BY conname",
        [table],
    )
    constraints = list(cursor.fetchall())
    cursor.execute(
        "SELECT pg_get_indexdef(x.indexrelid) FROM pg_index x "
        "WHERE x.indrelid = to_regclass(%s) AND NOT x.indisprimary "
        "AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = x.indexrelid) "
        "ORDER BY x.indexrelid",
        [table],
    )
    # A partitioned table's index prints as "ON ONLY t"; created on the table it spans every partition.
    indexes = [row[0].replace(" ON ONLY ", " ON ", 1) for row in cursor.fetchall()]
    return constraints, indexes


def _last_id(cursor, table: str) -> tuple[int, bool] | None:
    cursor.execute("SELECT pg_get_serial_sequence(%s, 'id')", [table])
    sequence = cursor.fetchone()[0]
    if sequence is None:
        return None
    cursor.execute(f"SELECT last_value, is_called FROM {sequence}")  # noqa: S608 (a catalogue name)
    return cursor.fetchone()


def _restore(cursor, connection, table: str, constraints, indexes) -> None:
    for name, definition in constraints:
        cursor.execute(
            f"ALTER TABLE {_q(connection, table)} ADD CONSTRAINT {_q(connection, name)} {definition}"
        )
    for statement in indexes:
        cursor.execute(statement)


def partition_by_month(
    schema_editor, *, table: str, column: str, columns: list[str], rows: str, first: Month, last: Month
) -> None:
    """Turn the plain ``table`` into one partitioned by month on ``column``, keeping every row.

    1. Create ``<table>__partitioned`` with the same columns, ``column`` NOT NULL, the primary
       key ``(id, column)`` (a partitioned table's unique keys must hold its partition key) and ids
       from a sequence (PostgreSQL 15 refuses identity columns on partitioned tables).
    2. Create a partition per month from ``first`` to ``last`` and the DEFAULT one.
    3. Copy the rows (``rows``: a SELECT of ``columns``, every column of the table).
    4. Drop the old table (refused if a foreign key still points at it), take its name, give the
       sequence its name, owner and the old sequence's current value.
    5. Recreate the other constraints and indexes under their own names, as partitioned ones, so
       later migrations find what Django expects.
    """
    connection = schema_editor.connection
    q = connection.ops.quote_name
    new, qt, qc = q(f"{table}__partitioned"), q(table), q(column)
    new_sequence, sequence = f"{table}__partitioned_id_seq", f"{table}_id_seq"
    with connection.cursor() as cursor:
        # Writers wait until the swap is committed: a row written meanwhile would be left behind.
        cursor.execute(f"LOCK TABLE {qt} IN SHARE MODE")
        constraints, indexes = _definitions(cursor, table)
        last_id = _last_id(cursor, table)
        statements = [
            f"CREATE TABLE {new} (LIKE {qt} INCLUDING DEFAULTS) PARTITION BY RANGE ({qc})",
            f"ALTER TABLE {new} ALTER COLUMN {qc} SET NOT NULL",
            f"CREATE SEQUENCE {q(new_sequence)}",
            f"ALTER TABLE {new} ALTER COLUMN id SET DEFAULT nextval('{new_sequence}')",
            f"ALTER TABLE {new} ADD CONSTRAINT {q(table + '__partitioned_pkey')} PRIMARY KEY (id, {qc})",
        ]
        month = first
        while month <= last:
            statements.append(_create_month(connection, f"{table}__partitioned", month, table))
            month = month.plus(1)
        statements += [
            f"CREATE TABLE {q(default_partition(table))} PARTITION OF {new} DEFAULT",
            f"INSERT INTO {new} ({', '.join(q(c) for c in columns)}) {rows}",
            f"DROP TABLE {qt}",
            f"ALTER TABLE {new} RENAME TO {qt}",
            f"ALTER TABLE {qt} RENAME CONSTRAINT {q(table + '__partitioned_pkey')} TO {q(table + '_pkey')}",
            f"ALTER SEQUENCE {q(new_sequence)} RENAME TO {q(sequence)}",
            f"ALTER SEQUENCE {q(sequence)} OWNED BY {qt}.id",
            f"ALTER TABLE {qt} ALTER COLUMN id SET DEFAULT nextval('{sequence}')",
        ]
        for statement in statements:
            cursor.execute(statement)
        if last_id is not None:
            cursor.execute("SELECT setval(%s, %s, %s)", [sequence, *last_id])
        _restore(cursor, connection, table, constraints, indexes)


def unpartition(schema_editor, *, table: str) -> None:
    """The reverse of :func:`partition_by_month`: one plain table again, with an identity ``id``
    that continues from the sequence, the primary key on ``id`` alone, the same constraints and
    indexes."""
    connection = schema_editor.connection
    new, qt = f"{table}__plain", _q(connection, table)
    with connection.cursor() as cursor:
        cursor.execute(f"LOCK TABLE {qt} IN SHARE MODE")
        constraints, indexes = _definitions(cursor, table)
        last_id = _last_id(cursor, table)
        for statement in (
            f"CREATE TABLE {_q(connection, new)} (LIKE {qt})",
            f"INSERT INTO {_q(connection, new)} SELECT * FROM {qt}",  # noqa: S608
            f"DROP TABLE {qt}",  # its partitions and its sequence too
            f"ALTER TABLE {_q(connection, new)} RENAME TO {qt}",
            f"ALTER TABLE {qt} ADD CONSTRAINT {_q(connection, table + '_pkey')} PRIMARY KEY (id)",
            f"ALTER TABLE {qt} ALTER COLUMN id ADD GENERATED BY DEFAULT AS IDENTITY",
        ):
            cursor.execute(statement)
        if last_id is not None:
            cursor.execute("SELECT setval(pg_get_serial_sequence(%s, 'id'), %s, %s)", [table, *last_id])
        _restore(cursor, connection, table, constraints, indexes)


def _literal(month: Month) -> str:
    return f"'{month.start.isoformat()}'::timestamptz"


def _create_month(connection, parent: str, month: Month, table: str | None = None) -> str:
    name = month.partition(table or parent)
    return (
        f"CREATE TABLE {_q(connection, name)} PARTITION OF {_q(connection, parent)} "
        f"FOR VALUES FROM ({_literal(month)}) TO ({_literal(month.plus(1))})"
    )


def model_by_month(app_label: str, model_name: str, column: str):
    """The forwards and backwards functions of a ``RunPython`` that partitions a model's whole table
    by month on ``column`` (PostgreSQL; nothing on SQLite): every row copied as it is, a partition per
    month from the oldest row's to ``MONTHS_AHEAD`` ahead. Nothing may still point at the table with
    a database constraint (see :func:`partition_by_month`)."""

    def forwards(apps, schema_editor) -> None:
        if schema_editor.connection.vendor != "postgresql":
            return
        model = apps.get_model(app_label, model_name)
        table, quote = model._meta.db_table, schema_editor.connection.ops.quote_name
        columns = [f.column for f in model._meta.local_concrete_fields]
        now = timezone.now()
        oldest = model.objects.order_by(column).values_list(column, flat=True).first() or now
        partition_by_month(
            schema_editor,
            table=table,
            column=column,
            columns=columns,
            rows=f"SELECT {', '.join(quote(c) for c in columns)} FROM {quote(table)}",  # noqa: S608
            first=Month.of(oldest),
            last=Month.of(now).plus(MONTHS_AHEAD),
        )

    def backwards(apps, schema_editor) -> None:
        if schema_editor.connection.vendor == "postgresql":
            unpartition(schema_editor, table=apps.get_model(app_label, model_name)._meta.db_table)

    return forwards, backwards


class UnlessPartitioned(Operation):
    """A migration operation applied to the database only where tables are not partitioned (SQLite):
    on PostgreSQL :func:`partition_by_month` already did it (or, backwards, must not undo it —
    a partition key column cannot lose NOT NULL)."""

    reversible = True

    def __init__(self, operation: Operation) -> None:
        self.operation = operation

    def deconstruct(self):
        return (self.__class__.__qualname__, [self.operation], {})

    def state_forwards(self, app_label, state):
        self.operation.state_forwards(app_label, state)

    def database_forwards(self, app_label, schema_editor, from_state, to_state):
        if schema_editor.connection.vendor != "postgresql":
            self.operation.database_forwards(app_label, schema_editor, from_state, to_state)

    def database_backwards(self, app_label, schema_editor, from_state, to_state):
        if schema_editor.connection.vendor != "postgresql":
            self.operation.database_backwards(app_label, schema_editor, from_state, to_state)

    def describe(self):
        return f"{self.operation.describe()} (partitioning does it on PostgreSQL)"


# --- Maintenance: months ahead, rows out of DEFAULT, retention ------------------------------------


def ensure_months(
    connection: BaseDatabaseWrapper, *, table: str, column: str, wanted: list[Month]
) -> list[Month]:
    """Create the ``wanted`` months that do not exist yet and every month that has rows waiting in
    the DEFAULT partition; return the months created. Safe to rerun: an existing month is left as
    it is. A month whose rows sit in DEFAULT is created beside the table, filled by moving those rows
    (one ``DELETE … RETURNING``), then attached — PostgreSQL refuses to create a partition whose
    rows the DEFAULT partition still holds."""
    if not is_partitioned(connection, table):
        return []
    have = set(months(connection, table))
    default, qt, qc = _q(connection, default_partition(table)), _q(connection, table), _q(connection, column)
    with transaction.atomic(using=connection.alias), connection.cursor() as cursor:
        # Until the months are made, no row joins DEFAULT (it is empty but for back-dated imports;
        # reads and writes to the monthly partitions carry on).
        cursor.execute(f"LOCK TABLE {default} IN EXCLUSIVE MODE")
        cursor.execute(
            f"SELECT DISTINCT date_trunc('month', {qc} AT TIME ZONE 'UTC') FROM {default}"  # noqa: S608
        )
        stranded = {Month.of(row[0]) for row in cursor.fetchall()}
        created = []
        for month in sorted((set(wanted) | stranded) - have):
            if month not in stranded:
                cursor.execute(_create_month(connection, table, month))
                created.append(month)
                continue
            name, start, end = (
                _q(connection, month.partition(table)),
                _literal(month),
                _literal(month.plus(1)),
            )
            cursor.execute(f"CREATE TABLE {name} (LIKE {qt} INCLUDING DEFAULTS INCLUDING CONSTRAINTS)")
            cursor.execute(
                f"WITH moved AS (DELETE FROM {default} WHERE {qc} >= {start} AND {qc} < {end} RETURNING *) "  # noqa: S608
                f"INSERT INTO {name} SELECT * FROM moved"
            )
            cursor.execute(f"ALTER TABLE {qt} ATTACH PARTITION {name} FOR VALUES FROM ({start}) TO ({end})")
            created.append(month)
    return created


def drop_month(connection: BaseDatabaseWrapper, *, table: str, month: Month) -> None:
    """Drop one month of history: one statement, whatever the number of rows."""
    with connection.cursor() as cursor:
        cursor.execute(f"DROP TABLE IF EXISTS {_q(connection, month.partition(table))}")


def drop_months_before(connection: BaseDatabaseWrapper, *, table: str, keep_from: Month) -> list[Month]:
    """Drop every monthly partition older than ``keep_from``; return the months dropped."""
    if not is_partitioned(connection, table):
        return []
    dropped = [month for month in months(connection, table) if month < keep_from]
    for month in dropped:
        drop_month(connection, table=table, month=month)
    return dropped


@dataclass
class PartitionsSwept:
    created: list[str] = field(default_factory=list)
    dropped: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, list[str]]:
        return {"created": self.created, "dropped": self.dropped}


def sweep_months(
    *,
    tables: Sequence[str],
    column: str,
    now: datetime,
    keep_from: Month | None = None,
    before_drop: Callable[[Month], None] | None = None,
) -> PartitionsSwept:
    """The hourly upkeep of tables partitioned together by month on ``column``: each gets this month
    and the ``MONTHS_AHEAD`` after it (and the month of any row waiting in DEFAULT); with
    ``keep_from``, the months before it are dropped, ``tables`` in order, after ``before_drop``
    (which clears what points at the rows going). One transaction; two sweeps of the same tables at
    once wait for each other on an advisory lock, and the second finds the months made."""
    swept = PartitionsSwept()
    if not all(is_partitioned(default_connection, table) for table in tables):
        return swept
    wanted = [Month.of(now).plus(n) for n in range(MONTHS_AHEAD + 1)]
    with transaction.atomic():
        with default_connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", [",".join(tables)])
        for table in tables:
            created = ensure_months(default_connection, table=table, column=column, wanted=wanted)
            swept.created += [month.partition(table) for month in created]
        if keep_from is not None:
            if before_drop is not None:
                before_drop(keep_from)
            for table in tables:
                dropped = drop_months_before(default_connection, table=table, keep_from=keep_from)
                swept.dropped += [month.partition(table) for month in dropped]
    return swept
