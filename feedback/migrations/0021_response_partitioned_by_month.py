"""Responses partitioned by month on PostgreSQL (issue 19), as the answers are (0018).

The table is rebuilt as ``PARTITION BY RANGE (submitted_at)`` with a partition per month from the
first response's month to three months ahead plus a DEFAULT one, every row copied, the id sequence
kept (servicedesk.partitions.partition_by_month). What points at a response lost its database
constraint first (0020 here, recovery 0016): PostgreSQL refuses to drop a table a foreign key still
names, and a partitioned table's keys must hold its month. On SQLite nothing changes.
"""

from django.db import migrations

from servicedesk.partitions import model_by_month

partition_responses, unpartition_responses = model_by_month("feedback", "Response", "submitted_at")


class Migration(migrations.Migration):
    dependencies = [
        ("feedback", "0020_response_references_without_constraints"),
        ("recovery", "0016_source_response_without_constraint"),
    ]

    operations = [
        migrations.RunPython(partition_responses, unpartition_responses),
    ]
