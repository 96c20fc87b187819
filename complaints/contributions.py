"""What complaints contribute to pages they do not own: the dashboard's "Complaints not acknowledged
in time" list, beside recovery's overdue incidents (``servicedesk.panels``), and on an incident's
page the formal complaint it carries (``servicedesk.registry.follow_ons``)."""

from __future__ import annotations

from django.urls import reverse
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from complaints.models import Complaint
from recovery.models import Incident
from servicedesk import panels, registry
from servicedesk.clock import local_today
from servicedesk.panels import AttentionItem, AttentionList, Scope, attention_list, page_url
from servicedesk.registry import Mention


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


def complaint_of(obj: object) -> list[Mention]:
    """The formal complaint an incident carries, for the incident's page."""
    if not isinstance(obj, Incident) or not Complaint.objects.filter(incident=obj).exists():
        return []
    label = _("Formal complaint %(reference)s: its clocks, extensions and outcome") % {
        "reference": obj.reference
    }
    return [Mention(label=label, url=reverse("complaints:complaint_detail", args=[obj.reference]))]


def register_all() -> None:
    registry.follow_ons.register("complaints.complaint", complaint_of)
    key = "complaints_acknowledgement_overdue"
    # Just after recovery's overdue incidents (10) and before the unowned ones (20).
    panels.attention.register(
        key, panels.Attention(key=key, items=attention_acknowledgement_overdue), order=15
    )
