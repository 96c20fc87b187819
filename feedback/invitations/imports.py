"""Visit lists uploaded as CSV: checked first, imported only when a manager confirms, all or nothing.

1. Upload: the file must decode as UTF-8 and have the required columns (``read_visit_list``);
   otherwise the form says why and nothing is stored.
2. Check (``import_validate``): every row is parsed and resolved; the report lists row errors
   (which block the import), and the rows that will be skipped — duplicates, visits already
   received, opted-out contacts, contacts invited recently, visits too long ago.
3. Import (``import_run``): the rows are checked again against the database as it is now and
   inserted in one transaction, in batches, so a file imports completely or not at all.

Long files are checked and imported by a worker while the page shows progress; the minute
sweep resumes any that a broker outage or a dying worker left behind (``imports_resume``).
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.utils import timezone

from feedback.invitations.visits import BATCH, Decision, FileRejected, decide, read_visit_list
from feedback.models import (
    Invitation,
    InvitationImport,
    InvitationMessage,
    Survey,
)
from servicedesk.models import User
from servicedesk.queue import enqueue, task

CHECK_TASK = "feedback.tasks.check_invitation_import"
RUN_TASK = "feedback.tasks.run_invitation_import"

logger = logging.getLogger(__name__)
# The sweep resumes background checks and imports idle this long (a broker outage, a lost task).
RESUME_AFTER = timedelta(minutes=2)
STALE_IMPORT = timedelta(minutes=30)
# --- The import's life -----------------------------------------------------------------------------


@transaction.atomic
def import_start(*, survey: Survey, filename: str, content: bytes, by: User) -> InvitationImport:
    """Store an uploaded (readable) file. The caller checks it now or leaves it to a worker."""
    visit_list = read_visit_list(content)
    return InvitationImport.objects.create(
        created_by=by, survey=survey, filename=filename[:200], content=content, total_rows=visit_list.total
    )


def import_should_run_inline(job: InvitationImport) -> bool:
    return job.total_rows <= settings.INVITATION_IMPORT_INLINE_ROWS


def import_check_later(*, job: InvitationImport) -> None:
    enqueue(task(CHECK_TASK), job.pk)


def import_validate(*, import_id: int, now: datetime | None = None) -> str:
    """Check a stored file and write its report. Writes nothing but the report."""
    now = now or timezone.now()
    job = InvitationImport.objects.select_related("survey").filter(pk=import_id).first()
    if job is None or job.status != InvitationImport.Status.VALIDATING:
        return "skipped"
    InvitationImport.objects.filter(pk=job.pk).update(updated_at=now)
    try:
        visit_list = read_visit_list(bytes(job.content))
    except FileRejected as exc:
        InvitationImport.objects.filter(pk=job.pk, status=InvitationImport.Status.VALIDATING).update(
            status=InvitationImport.Status.REJECTED, failure=str(exc), content=b"", finished_at=now
        )
        return "rejected"

    def progress(done: int) -> None:
        InvitationImport.objects.filter(pk=job.pk).update(processed_rows=done, updated_at=timezone.now())

    decision = decide(visit_list, survey=job.survey, now=now, keep_prepared=False, progress=progress)
    status = InvitationImport.Status.REJECTED if decision.errors else InvitationImport.Status.VALIDATED
    InvitationImport.objects.filter(pk=job.pk, status=InvitationImport.Status.VALIDATING).update(
        status=status,
        counts=decision.counts,
        issues=decision.issues,
        processed_rows=visit_list.total,
        # A file with errors is never imported: keep no copy of its patients' details.
        content=b"" if decision.errors else job.content,
        updated_at=timezone.now(),
    )
    return status


@transaction.atomic
def import_confirm(*, job: InvitationImport, now: datetime) -> bool:
    """The manager's go-ahead. Returns False if the import is not (or no longer) ready."""
    confirmed = InvitationImport.objects.filter(pk=job.pk, status=InvitationImport.Status.VALIDATED).update(
        status=InvitationImport.Status.QUEUED, updated_at=now
    )
    if confirmed and not import_should_run_inline(job):
        enqueue(task(RUN_TASK), job.pk)
    return bool(confirmed)


@transaction.atomic
def import_discard(*, job: InvitationImport, now: datetime) -> bool:
    return bool(
        InvitationImport.objects.filter(
            pk=job.pk,
            status__in=(
                InvitationImport.Status.VALIDATED,
                InvitationImport.Status.REJECTED,
                InvitationImport.Status.FAILED,
            ),
        ).update(status=InvitationImport.Status.DISCARDED, content=b"", updated_at=now, finished_at=now)
    )


def progress_key(import_id: int) -> str:
    return f"feedback:invitation-import:{import_id}:done"


def import_run(*, import_id: int, now: datetime | None = None) -> str:
    """Import a confirmed file, all or nothing.

    1. Claim it (queued → importing, stamped with this run's time).
    2. In one transaction: check every row again (the database may have changed since the
       report: new opt-outs, visits posted by the API), insert invitations and their first
       messages in batches, and finish with a conditional UPDATE on this run's claim — so if
       a stale run was resumed by the sweep, only one of the two can commit.
    3. Any error rolls the whole file back; the import is marked failed with the reason.
    """
    now = now or timezone.now()
    claimed = InvitationImport.objects.filter(pk=import_id, status=InvitationImport.Status.QUEUED).update(
        status=InvitationImport.Status.IMPORTING, claimed_at=now, updated_at=now
    )
    if not claimed:
        return "skipped"
    job = InvitationImport.objects.select_related("survey").get(pk=import_id)
    try:
        with transaction.atomic():
            created = _insert(job, now=now)
            finished = InvitationImport.objects.filter(
                pk=job.pk, status=InvitationImport.Status.IMPORTING, claimed_at=now
            ).update(
                status=InvitationImport.Status.IMPORTED,
                counts=created.counts | {"created": created.counts.get("ready", 0)},
                issues=created.issues,
                content=b"",
                finished_at=timezone.now(),
                updated_at=timezone.now(),
            )
            if not finished:
                raise RuntimeError("another run of this import took over")
    except Exception as exc:  # everything is rolled back; tell the manager why
        logger.exception("invitation import %s failed", job.pk)
        InvitationImport.objects.filter(
            pk=job.pk, status=InvitationImport.Status.IMPORTING, claimed_at=now
        ).update(
            status=InvitationImport.Status.FAILED,
            failure=f"Nothing was imported: {type(exc).__name__}: {exc}"[:500],
            finished_at=timezone.now(),
            updated_at=timezone.now(),
        )
        return "failed"
    finally:
        cache.delete(progress_key(job.pk))
    logger.info("invitation import %s: %s invitations", job.pk, created.counts.get("ready", 0))
    return "imported"


def _insert(job: InvitationImport, *, now: datetime) -> Decision:
    visit_list = read_visit_list(bytes(job.content))
    decision = decide(visit_list, survey=job.survey, now=now, keep_prepared=True)
    if decision.errors:
        raise ValueError(f"{decision.errors} rows have errors now (was a location or profile removed?)")
    key = progress_key(job.pk)
    for start in range(0, len(decision.ready), BATCH):
        batch = decision.ready[start : start + BATCH]
        invitations = [p.invitation for p in batch]
        for invitation in invitations:
            invitation.import_job = job
        Invitation.objects.bulk_create(invitations)
        messages = []
        for prepared in batch:
            prepared.message.invitation = prepared.invitation
            messages.append(prepared.message)
        InvitationMessage.objects.bulk_create(messages)
        # The rows are invisible to others until commit, so progress goes through the cache.
        cache.set(key, start + len(batch), 3600)
    return decision


def import_progress(job: InvitationImport) -> int | None:
    """Percent done for the progress bar, or None when it cannot be known (import in a worker
    without a shared cache)."""
    if job.status == InvitationImport.Status.VALIDATING:
        return job.progress_pct
    if job.status == InvitationImport.Status.IMPORTING:
        done = cache.get(progress_key(job.pk))
        ready = job.counts.get("ready", 0)
        if done is None or not ready:
            return None
        return min(100, round(100 * done / ready))
    return 100 if job.status == InvitationImport.Status.IMPORTED else 0


def imports_resume(*, now: datetime) -> int:
    """The sweep's part: restart checks and imports that no worker has touched for a while."""
    Status = InvitationImport.Status
    InvitationImport.objects.filter(status=Status.IMPORTING, claimed_at__lt=now - STALE_IMPORT).update(
        status=Status.QUEUED, updated_at=now
    )
    idle = now - RESUME_AFTER
    resumed = 0
    for pk, status in InvitationImport.objects.filter(
        status__in=(Status.VALIDATING, Status.QUEUED), updated_at__lt=idle
    ).values_list("pk", "status")[:20]:
        InvitationImport.objects.filter(pk=pk, status=status, updated_at__lt=idle).update(updated_at=now)
        enqueue(task(CHECK_TASK if status == Status.VALIDATING else RUN_TASK), pk)
        resumed += 1
    return resumed
