"""Access requests reach the practice-wide audit log: which records were read, exported, erased."""

from __future__ import annotations

import pytest
from django.urls import reverse

from servicedesk.security.models import AuditEvent
from tests.factories import ResponseFactory

pytestmark = pytest.mark.django_db


def test_finding_exporting_and_erasing_a_contact_names_each_record_and_none_of_its_data(
    manager_client, invite, manager
):
    _o, invitation = invite(email="ana.audit@example.org")
    response = ResponseFactory(
        survey=invitation.survey,
        invitation=invitation,
        channel="link",
        consent_to_contact=True,
        contact_email="ana.audit@example.org",
    )
    contact = {"contact": "ana.audit@example.org"}

    manager_client.post(reverse("contact_requests"), contact)
    manager_client.post(reverse("contact_export"), contact)
    manager_client.post(reverse("contact_erase"), {**contact, "confirm": "on"})

    events = list(
        AuditEvent.objects.order_by("pk").values_list("action", "target_type", "target_id", "actor")
    )
    expected = []
    for action in ("viewed", "exported", "erased"):
        expected += [
            (action, "feedback.invitation", str(invitation.pk), manager.pk),
            (action, "feedback.response", str(response.pk), manager.pk),
        ]
    assert events == expected
    stored = " ".join(str(v) for row in AuditEvent.objects.values() for v in row.values())
    assert "ana.audit" not in stored


def test_a_search_that_finds_nothing_records_nothing(manager_client):
    manager_client.post(reverse("contact_requests"), {"contact": "nobody@example.org"})
    assert not AuditEvent.objects.exists()
