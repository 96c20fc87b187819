"""A complaint's personal fields are on the declared list: an access request shows them, an
erasure empties the address and removes each mention, and the complaint still counts by subject
area and outcome."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from complaints import services
from complaints.models import Complaint, ComplaintExtension
from servicedesk.privacy import MARKER, person_erase, person_export, person_find
from tests.complaints.conftest import record

pytestmark = pytest.mark.django_db


@pytest.fixture
def answered(staff):
    complaint = record(
        by=staff,
        patient_name="Florence Nightingale",
        patient_email="florence@example.org",
        patient_address="1 Lamp Street\nScutari",
        contact_preference="letter",
    )
    now = timezone.now()
    services.complaint_agree_response_date(complaint=complaint, on=timezone.localdate() + timedelta(days=5),
                                           by=staff, now=now)  # fmt: skip
    services.complaint_extend(
        complaint=complaint, new_date=timezone.localdate() + timedelta(days=9),
        reason="Florence Nightingale asked for time to send her notes.", by=staff, now=now,
    )  # fmt: skip
    services.complaint_respond(
        complaint=complaint, outcome="upheld", summary="We wrote to Florence Nightingale at 1 Lamp Street.",
        by=staff, now=now,
    )  # fmt: skip
    return complaint


def test_an_access_request_shows_the_complaint_with_its_address_and_extensions(answered):
    exported = person_export(person_find(email="florence@example.org"))
    [row] = exported["complaints"]
    assert row["postal_address"] == "1 Lamp Street\nScutari"
    assert row["outcome"] == "upheld"
    assert row["extensions"][0]["reason"].startswith("Florence Nightingale")


def test_an_erasure_empties_the_address_and_mentions_but_keeps_the_counts(answered):
    person = person_find(email="florence@example.org")
    person_erase(person=person, now=timezone.now())
    complaint = Complaint.objects.get()
    extension = ComplaintExtension.objects.get()
    assert complaint.patient_address == ""
    assert complaint.contact_preference == ""
    assert "Florence" not in complaint.response_summary
    assert MARKER in complaint.response_summary
    assert "Lamp Street" not in complaint.response_summary
    assert "Florence" not in extension.reason
    assert (complaint.subject_area, complaint.outcome) == ("appointments", "upheld")
