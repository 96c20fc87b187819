"""The audit log partitioned by month (issue 19): the migration keeps every event and can be undone,
the hourly sweep makes the coming months once and moves an event that landed in DEFAULT, an expired
month goes in one statement when a retention period is set, and the log's dated pages read only
their months."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest
from django.conf import settings
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from servicedesk.audit import audit_partitions_sweep
from servicedesk.partitions import MONTHS_AHEAD, Month, ensure_months, is_partitioned, months
from servicedesk.schedule import TASK_QUEUE
from servicedesk.security.models import AuditEvent
from tests.factories import AuditEventFactory
from tests.migrating import migrate, migrate_to_latest

TABLE = "security_auditevent"
postgres = pytest.mark.usefixtures("postgres")


def _partition_of(event: AuditEvent) -> str:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT tableoid::regclass::text FROM {TABLE} WHERE id = %s", [event.pk])  # noqa: S608
        return cursor.fetchone()[0]


def test_the_sweep_runs_hourly_with_the_other_long_sweeps():
    scheduled = {entry["task"]: entry["schedule"] for entry in settings.CELERY_BEAT_SCHEDULE.values()}
    assert scheduled["servicedesk.tasks.audit_partitions_sweep"] == 3600
    queue = TASK_QUEUE["servicedesk.tasks.audit_partitions_sweep"]
    assert queue == TASK_QUEUE["feedback.tasks.feedback_partitions_sweep"]
    assert settings.AUDIT_RETENTION_MONTHS == 0  # kept unless a practice decides otherwise


@postgres
def test_the_sweep_makes_the_coming_months_once_and_moves_an_event_that_landed_in_default():
    now = timezone.now()
    old = AuditEventFactory(at=datetime(2019, 3, 15, 10, tzinfo=UTC))
    assert _partition_of(old) == f"{TABLE}_default"  # no month for it: the write still worked

    first = audit_partitions_sweep(now=now)
    again = audit_partitions_sweep(now=now)

    assert {Month.of(now).plus(n) for n in range(MONTHS_AHEAD + 1)} <= set(months(connection, TABLE))
    assert f"{TABLE}_y2019m03" in first.created
    assert again.as_dict() == {"created": [], "dropped": []}
    assert _partition_of(old) == f"{TABLE}_y2019m03"
    assert AuditEvent.objects.get(pk=old.pk).target_id == old.target_id


@postgres
def test_an_expired_month_of_the_log_is_dropped_in_one_statement():
    now = timezone.now()
    expired = AuditEventFactory(at=Month.of(now).plus(-13).start.replace(day=14))
    kept = AuditEventFactory(at=Month.of(now).plus(-11).start.replace(day=14))
    audit_partitions_sweep(now=now)  # their months exist

    with CaptureQueriesContext(connection) as queries:
        swept = audit_partitions_sweep(now=now, keep_months=12)

    month = Month.of(expired.at).partition(TABLE)
    assert month in swept.dropped
    assert Month.of(kept.at).partition(TABLE) not in swept.dropped
    drops = [q["sql"] for q in queries if q["sql"].startswith("DROP")]
    assert f'DROP TABLE IF EXISTS "{month}"' in drops
    assert len(drops) == len(swept.dropped)
    assert list(AuditEvent.objects.filter(pk__in=[expired.pk, kept.pk])) == [kept]


@postgres
def test_the_log_filtered_by_dates_reads_only_those_months(manager_client):
    year = [Month(2025, m) for m in range(1, 13)]
    ensure_months(connection, table=TABLE, column="at", wanted=year)
    for month in year:
        AuditEventFactory(at=month.start.replace(day=11, hour=12))
    november = {"since": "2025-11-01", "until": "2025-11-30"}  # London is on UTC then: one month exactly
    with CaptureQueriesContext(connection) as queries:
        page = manager_client.get(reverse("security:audit_log"), november)
    assert page.status_code == 200
    read = []
    for query in (q["sql"] for q in queries if f'"{TABLE}"' in q["sql"]):
        with connection.cursor() as cursor:
            cursor.execute(f"EXPLAIN {query}")
            plan = "\n".join(row[0] for row in cursor.fetchall())
        read.append(set(re.findall(rf"\b{TABLE}_(y\d{{4}}m\d{{2}}|default)\b", plan)))
    assert read
    assert all(names == {"y2025m11"} for names in read), read


@pytest.mark.skipif(connection.vendor != "postgresql", reason="partitioning is PostgreSQL's")
@pytest.mark.django_db(transaction=True)
def test_the_migration_keeps_every_event_in_its_month_and_can_be_undone():
    before_partitioning = [("security", "0004_bounds_and_messages")]
    old = migrate(before_partitioning)
    Event = old.get_model("security", "AuditEvent")
    moments = [datetime(2024, 1, 31, 23, 30, tzinfo=UTC), datetime(2024, 2, 1, tzinfo=UTC)]
    written = {
        Event.objects.create(at=at, action="changed", target_type="design.servicegoal", target_id="7").pk: at
        for at in moments
    }

    migrate_to_latest()

    assert is_partitioned(connection, TABLE)
    assert dict(AuditEvent.objects.filter(pk__in=written).values_list("pk", "at")) == written
    assert {_partition_of(e) for e in AuditEvent.objects.filter(pk__in=written)} == {
        f"{TABLE}_y2024m01",
        f"{TABLE}_y2024m02",
    }
    assert AuditEventFactory().pk > max(written)  # ids continue from the old sequence

    old = migrate(before_partitioning)
    assert not is_partitioned(connection, TABLE)
    assert old.get_model("security", "AuditEvent").objects.filter(pk__in=written).count() == len(written)
    migrate_to_latest()
    assert is_partitioned(connection, TABLE)
