"""Answers partitioned by month on PostgreSQL (issue 19): the 10-million-row table.

Answer gains ``submitted_at`` (its response's moment, copied); on PostgreSQL the table is rebuilt
as ``PARTITION BY RANGE (submitted_at)`` with a partition per month from the first response's month
to three months ahead plus a DEFAULT one, every row copied, the id sequence kept (see
servicedesk.partitions.partition_by_month). On SQLite the column is filled in place.
"""

from django.db import migrations, models
from django.utils import timezone

from servicedesk.partitions import Month, UnlessPartitioned, partition_by_month, unpartition

MONTHS_AHEAD = 3


def partition_answers(apps, schema_editor):
    connection = schema_editor.connection
    Answer = apps.get_model("feedback", "Answer")
    Response = apps.get_model("feedback", "Response")
    answers, responses = Answer._meta.db_table, Response._meta.db_table
    if connection.vendor != "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(
                f"UPDATE {answers} SET submitted_at = (SELECT r.submitted_at FROM {responses} r "  # noqa: S608
                f"WHERE r.id = {answers}.response_id)"
            )
        return
    quote = connection.ops.quote_name
    columns = [f.column for f in Answer._meta.local_concrete_fields]
    picked = ", ".join("r.submitted_at" if c == "submitted_at" else f"a.{quote(c)}" for c in columns)
    now = timezone.now()
    oldest = Response.objects.order_by("submitted_at").values_list("submitted_at", flat=True).first() or now
    partition_by_month(
        schema_editor,
        table=answers,
        column="submitted_at",
        columns=columns,
        rows=f"SELECT {picked} FROM {answers} a JOIN {responses} r ON r.id = a.response_id",  # noqa: S608
        first=Month.of(oldest),
        last=Month.of(now).plus(MONTHS_AHEAD),
    )


def unpartition_answers(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        unpartition(schema_editor, table=apps.get_model("feedback", "Answer")._meta.db_table)


class Migration(migrations.Migration):
    dependencies = [
        ("feedback", "0017_answer_month"),
    ]

    operations = [
        migrations.AlterField(
            model_name="thememention",
            name="answer",
            field=models.ForeignKey(
                db_constraint=False,
                on_delete=models.deletion.CASCADE,
                related_name="theme_mentions",
                to="feedback.answer",
            ),
        ),
        migrations.RemoveConstraint(
            model_name="answer",
            name="answer_one_per_question",
        ),
        migrations.AddField(
            model_name="answer",
            name="submitted_at",
            field=models.DateTimeField(null=True, verbose_name="submitted"),
        ),
        migrations.RunPython(partition_answers, unpartition_answers),
        UnlessPartitioned(
            migrations.AlterField(
                model_name="answer",
                name="submitted_at",
                field=models.DateTimeField(verbose_name="submitted"),
            )
        ),
        migrations.AddConstraint(
            model_name="answer",
            constraint=models.UniqueConstraint(
                fields=("response", "question", "submitted_at"), name="answer_one_per_question"
            ),
        ),
    ]
