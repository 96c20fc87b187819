"""What complaints contribute to pages they do not own (``servicedesk.panels``): the dashboard's
"Complaints not acknowledged in time" list, beside recovery's overdue incidents."""

from __future__ import annotations

from django.utils.formats import date_format
from django.utils.translation import gettext as _

from complaints.models import Complaint
from servicedesk import panels
from servicedesk.clock import local_today
from servicedesk.panels import AttentionItem, AttentionList, Scope, attention_list, page_url


def attention_acknowledgement_overdue(scope: Scope, *, limit: int = 8) -> AttentionList:
    """Complaints past their 3 working days without an acknowledgement, the longest overdue first."""
    today = local_today(scope.now)
    at_place = scope.at_place(location="incident__location", touchpoint="incident__touchpoint")
    overdue = Complaint.objects.acknowledgement_overdue(today).filter(**at_place)
    return attention_list(
        overdue.select_related("incident").order_by("acknowledge_by", "pk"),
        lambda complaint: AttentionItem(
            label=f"{complaint.incident.reference} {complaint.incident.title}",
            detail=_("acknowledgement was due %(day)s")
            % {"day": date_format(complaint.acknowledge_by, "D j M")},
            url=page_url("complaints:complaint_detail", complaint.incident.reference),
            is_critical=True,
        ),
        key="complaints_acknowledgement_overdue",
        title=_("Complaints not acknowledged in time"),
        url=page_url("complaints:complaint_list", query={"clock": "ack_overdue"}),
        limit=limit,
    )


def register_all() -> None:
    key = "complaints_acknowledgement_overdue"
    # Just after recovery's overdue incidents (10) and before the unowned ones (20).
    panels.attention.register(
        key, panels.Attention(key=key, items=attention_acknowledgement_overdue), order=15
    )
