"""Answers' months (issue 19): created ahead, and dropped whole once past the retention period.

On PostgreSQL the answers table is partitioned by the month of ``submitted_at``
(``feedback_answer_y2026m12``, plus ``feedback_answer_default`` so no insert ever fails; see
``servicedesk.partitions``). The hourly sweep ``answer_partitions_sweep``:

1. creates the coming ``MONTHS_AHEAD`` months, and the month of any row that landed in the DEFAULT
   partition (a back-dated import), moving those rows into it — safe to rerun, and two runs at
   once wait for each other on an advisory lock;
2. when ``FEEDBACK_RETENTION_MONTHS`` is set, drops each month of answers older than that many whole
   months: one ``DROP TABLE`` per month, whatever its size, after deleting the theme mentions of
   those answers (no database constraint ties a mention to its partitioned answer).

Responses are kept (not partitioned; recovery incidents and invitations point at them): with them
the dashboard's daily summaries (``FeedbackDay``) and the results roll-up (``AnswerDay``,
``AnswerMonth``) are never found stale for an expired day, so the history of figures survives the
answers it was counted from. On SQLite nothing is partitioned and nothing is dropped.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from django.conf import settings
from django.db import connection, transaction

from feedback.models import Answer, ThemeMention
from servicedesk.partitions import Month, drop_months_before, ensure_months, is_partitioned

MONTHS_AHEAD = 3


@dataclass
class PartitionsSwept:
    created: list[str] = field(default_factory=list)
    dropped: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, list[str]]:
        return {"created": self.created, "dropped": self.dropped}


def answer_partitions_sweep(*, now: datetime, keep_months: int | None = None) -> PartitionsSwept:
    """Create the coming months' partitions of answers and drop the expired ones (see the module)."""
    table = Answer._meta.db_table
    swept = PartitionsSwept()
    if not is_partitioned(connection, table):
        return swept
    keep_months = settings.FEEDBACK_RETENTION_MONTHS if keep_months is None else keep_months
    this_month = Month.of(now)
    with transaction.atomic():
        with connection.cursor() as cursor:  # one sweep at a time: the second finds the months made
            cursor.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", [table])
        wanted = [this_month.plus(n) for n in range(MONTHS_AHEAD + 1)]
        created = ensure_months(connection, table=table, column="submitted_at", wanted=wanted)
        swept.created = [month.partition(table) for month in created]
        if keep_months > 0:
            keep_from = this_month.plus(-keep_months)
            ThemeMention.objects.filter(answer__submitted_at__lt=keep_from.start).delete()
            dropped = drop_months_before(connection, table=table, keep_from=keep_from)
            swept.dropped = [month.partition(table) for month in dropped]
    return swept
