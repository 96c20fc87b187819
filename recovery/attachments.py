"""Recovery's records that carry photos and files, and who may open them (the records' own rules).

A timeline entry's file is read by whoever may see its incident (``Incident.objects.visible_to``);
so is the photo of the failed check an incident was opened from, even by someone who could not
open that checklist run. A drill's file follows its plan: managers see every plan, staff the
active ones (as ``plan_list`` shows them).
"""

from __future__ import annotations

from django.db.models import QuerySet

from delivery.models import ChecklistResult
from recovery.models import Drill, FollowUp, Incident, RecoveryPlan
from servicedesk.attachments.models import Attachment
from servicedesk.attachments.services import AttachmentOwner, attachment_owners
from servicedesk.models import User


def _on_timelines(user: User) -> QuerySet[Attachment]:
    entries = FollowUp.objects.filter(
        incident__in=Incident.objects.visible_to(user), attachment__isnull=False
    )
    return Attachment.objects.filter(pk__in=entries.values("attachment_id"))


def _on_source_checks(user: User) -> QuerySet[Attachment]:
    checks = ChecklistResult.objects.filter(
        pk__in=Incident.objects.visible_to(user).filter(source_check__isnull=False).values("source_check_id"),
        attachment__isnull=False,
    )
    return Attachment.objects.filter(pk__in=checks.values("attachment_id"))


def _on_drills(user: User) -> QuerySet[Attachment]:
    plans = RecoveryPlan.objects.all() if user.is_manager else RecoveryPlan.objects.active()
    drills = Drill.objects.filter(plan__in=plans, attachment__isnull=False)
    return Attachment.objects.filter(pk__in=drills.values("attachment_id"))


def _timeline_label(pk: int) -> str:
    reference = (
        FollowUp.objects.filter(attachment_id=pk).values_list("incident__reference", flat=True).first()
    )
    return f"attachment #{pk} on incident {reference}" if reference else f"attachment #{pk}"


def _check_label(pk: int) -> str:
    reference = (
        Incident.objects.filter(source_check__attachment_id=pk).values_list("reference", flat=True).first()
    )
    return f"the failed check's photo #{pk} on incident {reference}" if reference else f"attachment #{pk}"


def register_all() -> None:
    attachment_owners.register("recovery.followup", AttachmentOwner(_on_timelines, _timeline_label), order=20)
    attachment_owners.register(
        "recovery.source_check", AttachmentOwner(_on_source_checks, _check_label), order=21
    )
    attachment_owners.register(
        "recovery.drill", AttachmentOwner(_on_drills, lambda pk: f"attachment #{pk} on a drill"), order=22
    )
