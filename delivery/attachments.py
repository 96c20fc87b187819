"""Delivery's records that carry photos: a checklist result (the photo of what failed), read by
whoever may look at its run (``ChecklistRun.objects.visible_to``)."""

from __future__ import annotations

from django.db.models import QuerySet

from delivery.models import ChecklistResult, ChecklistRun
from servicedesk.attachments.models import Attachment
from servicedesk.attachments.services import AttachmentOwner, attachment_owners
from servicedesk.models import User


def _on_results(user: User) -> QuerySet[Attachment]:
    results = ChecklistResult.objects.filter(
        run__in=ChecklistRun.objects.visible_to(user), attachment__isnull=False
    )
    return Attachment.objects.filter(pk__in=results.values("attachment_id"))


def register_all() -> None:
    attachment_owners.register(
        "delivery.checklistresult",
        AttachmentOwner(_on_results, lambda pk: f"the photo #{pk} on a checklist result"),
        order=10,
    )
