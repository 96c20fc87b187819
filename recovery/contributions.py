"""What recovery shows on pages it does not own (registries in ``servicedesk.registry``)."""

from __future__ import annotations

from django.urls import reverse

from recovery.models import SlaPolicy
from servicedesk import registry
from servicedesk.registry import Mention


def sla_policies_on_opening_hours() -> list[Mention]:
    policies = SlaPolicy.objects.filter(opening_hours_only=True).order_by("pk")
    return [
        Mention(
            label=str(policy.get_severity_display()), url=reverse("recovery:sla_edit", args=[policy.severity])
        )
        for policy in policies
    ]


def register_all() -> None:
    registry.opening_hours_users.register("recovery.sla_policies", sla_policies_on_opening_hours)
