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

from servicedesk.partitions import model_by_month

partition_the_log, unpartition_the_log = model_by_month("security", "AuditEvent", "at")


class Migration(migrations.Migration):
    dependencies = [
        ("security", "0004_bounds_and_messages"),
    ]

    operations = [
        migrations.RunPython(partition_the_log, unpartition_the_log),
    ]
