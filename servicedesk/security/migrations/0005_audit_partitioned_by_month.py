"""The audit log partitioned by month on PostgreSQL (issue 19), as the feedback history is.

Every manager's change and every read of patient data adds a row, for as long as the group keeps its
log: at 200 sites the largest table after the feedback. The table is rebuilt as
``PARTITION BY RANGE (at)``, a partition per month from the first event's month to three months
ahead plus a DEFAULT one, every row copied, the id sequence kept
(servicedesk.partitions.partition_by_month); nothing points at an audit row. The hourly
``audit_partitions_sweep`` makes the coming months and, with ``AUDIT_RETENTION_MONTHS`` set, drops
expired ones whole. On SQLite nothing changes.
"""

from django.db import migrations
from django.utils import timezone

from servicedesk.partitions import MONTHS_AHEAD, Month, partition_by_month, unpartition


def partition_the_log(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    AuditEvent = apps.get_model("security", "AuditEvent")
    table = AuditEvent._meta.db_table
    quote = schema_editor.connection.ops.quote_name
    columns = [f.column for f in AuditEvent._meta.local_concrete_fields]
    now = timezone.now()
    oldest = AuditEvent.objects.order_by("at").values_list("at", flat=True).first() or now
    partition_by_month(
        schema_editor,
        table=table,
        column="at",
        columns=columns,
        rows=f"SELECT {', '.join(quote(c) for c in columns)} FROM {quote(table)}",  # noqa: S608
        first=Month.of(oldest),
        last=Month.of(now).plus(MONTHS_AHEAD),
    )


def unpartition_the_log(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        unpartition(schema_editor, table=apps.get_model("security", "AuditEvent")._meta.db_table)


class Migration(migrations.Migration):
    dependencies = [
        ("security", "0004_bounds_and_messages"),
    ]

    operations = [
        migrations.RunPython(partition_the_log, unpartition_the_log),
    ]
