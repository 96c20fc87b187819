"""Responses' and answers' months (issue 19): created ahead, and dropped whole once past retention.

On PostgreSQL the responses and the answers are partitioned by the month of ``submitted_at``
(``feedback_response_y2026m12``, ``feedback_answer_y2026m12``, plus a ``…_default`` partition each
so no insert ever fails; see ``servicedesk.partitions``). The hourly sweep ``feedback_partitions_sweep``:

1. creates the coming ``MONTHS_AHEAD`` months of both tables, and the month of any row that landed
   in a DEFAULT partition (a back-dated import), moving those rows into it — safe to rerun, and two
   runs at once wait for each other on an advisory lock;
2. when ``FEEDBACK_RETENTION_MONTHS`` is set, drops each month of answers and of responses older
   than that many whole months: one ``DROP TABLE`` per month and table, whatever its size. No
   database constraint ties anything to a partitioned row, so first, in the same transaction, what
   points at those responses is cleared as Django's ``on_delete`` would: their theme mentions and
   theme tags deleted, and the references other apps keep (``Incident.source_response``) set to
   NULL — the incident stays, without its source.

The dashboard's daily summaries (``FeedbackDay``) and the results roll-up (``AnswerDay``,
``AnswerMonth``) keep the expired months' figures: their stale checks start after the retention
boundary (``kept_since``), so a day whose responses were dropped is never recounted as empty.
On SQLite nothing is partitioned and nothing is dropped.
"""

from __future__ import annotations

from datetime import datetime

from django.conf import settings
from django.db import models

from feedback.models import Answer, Response, ThemeMention
from servicedesk.partitions import Month, PartitionsSwept, sweep_months

# Answers before their responses: each month goes whole, the rows that point at a response first.
TABLES = (Answer._meta.db_table, Response._meta.db_table)


def kept_since(*, now: datetime, keep_months: int | None = None) -> datetime | None:
    """The first moment whose responses the retention policy keeps (None: all are kept)."""
    keep_months = settings.FEEDBACK_RETENTION_MONTHS if keep_months is None else keep_months
    return Month.of(now).plus(-keep_months).start if keep_months > 0 else None


def feedback_partitions_sweep(*, now: datetime, keep_months: int | None = None) -> PartitionsSwept:
    """Create the coming months' partitions and drop the expired ones (see the module)."""
    since = kept_since(now=now, keep_months=keep_months)
    return sweep_months(
        tables=TABLES,
        column="submitted_at",
        now=now,
        keep_from=None if since is None else Month.of(since),
        before_drop=lambda keep_from: _clear_references(before=keep_from.start),
    )


def _clear_references(*, before: datetime) -> None:
    """What points at the responses submitted before ``before``, cleared as ``on_delete`` says.

    Feedback's own (mentions, tags) are deleted; another app's reference must be SET_NULL (a
    response's month is dropped whatever points at it), and one that is not stops the sweep."""
    expired = Response.objects.filter(submitted_at__lt=before).values("pk")
    ThemeMention.objects.filter(response__in=expired).delete()
    Response.themes.through.objects.filter(response__in=expired).delete()
    for relation in Response._meta.related_objects:
        if relation.related_model in (Answer, ThemeMention) or relation.many_to_many:
            continue  # the answers go with their own months; mentions and tags just went
        if relation.on_delete is not models.SET_NULL:
            where = f"{relation.related_model._meta.label}.{relation.field.name}"
            raise RuntimeError(f"{where} would stop a month of responses being dropped")
        relation.related_model._base_manager.filter(**{f"{relation.field.name}__in": expired}).update(
            **{relation.field.name: None}
        )
