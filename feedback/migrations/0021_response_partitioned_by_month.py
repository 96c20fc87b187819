"""Responses partitioned by month on PostgreSQL (issue 19), as the answers are (0018).

The table is rebuilt as ``PARTITION BY RANGE (submitted_at)`` with a partition per month from the
first response's month to three months ahead plus a DEFAULT one, every row copied, the id sequence
kept (servicedesk.partitions.partition_by_month). What points at a response lost its database
constraint first (0020 here, recovery 0016): PostgreSQL refuses to drop a table a foreign key still
names, and a partitioned table's keys must hold its month. On SQLite nothing changes.
"""

from django.db import migrations
from django.utils import timezone

from servicedesk.partitions import Month, partition_by_month, unpartition

MONTHS_AHEAD = 3


def partition_responses(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    Response = apps.get_model("feedback", "Response")
    table = Response._meta.db_table
    quote = schema_editor.connection.ops.quote_name
    columns = [f.column for f in Response._meta.local_concrete_fields]
    now = timezone.now()
    oldest = Response.objects.order_by("submitted_at").values_list("submitted_at", flat=True).first() or now
    partition_by_month(
        schema_editor,
        table=table,
        column="submitted_at",
        columns=columns,
        rows=f"SELECT {', '.join(quote(c) for c in columns)} FROM {quote(table)}",  # noqa: S608
        first=Month.of(oldest),
        last=Month.of(now).plus(MONTHS_AHEAD),
    )


def unpartition_responses(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        unpartition(schema_editor, table=apps.get_model("feedback", "Response")._meta.db_table)


class Migration(migrations.Migration):
    dependencies = [
        ("feedback", "0020_response_references_without_constraints"),
        ("recovery", "0016_source_response_without_constraint"),
    ]

    operations = [
        migrations.RunPython(partition_responses, unpartition_responses),
    ]
