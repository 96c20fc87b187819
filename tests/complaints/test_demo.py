"""The complaints demo: a complaint at every stage, one acknowledgement overdue, idempotent."""

from __future__ import annotations

import pytest
from django.utils import timezone

from complaints.models import Complaint, ComplaintExtension

pytestmark = pytest.mark.django_db


def seed() -> None:
    from complaints import demo
    from recovery import demo as recovery
    from servicedesk import demo as practice

    for module in (practice, recovery, demo):
        module.seed(options={"incidents": 0}, out=lambda line: None)


def test_the_demo_shows_complaints_at_every_stage_and_one_overdue_acknowledgement():
    seed()
    today = timezone.localdate()
    assert Complaint.objects.count() == 8
    assert Complaint.objects.acknowledgement_overdue(today).count() == 1
    assert Complaint.objects.filter(acknowledged_at__isnull=True).count() == 4
    emailed = Complaint.objects.get(incident__patient_email="sam.okafor@example.org")
    assert emailed.incident.timeline.filter(attachment__isnull=False).exists()  # the photo it came with
    assert ComplaintExtension.objects.count() == 1
    assert set(Complaint.objects.exclude(outcome="").values_list("outcome", flat=True)) == {
        "partly_upheld",
        "withdrawn",
    }
    assert set(Complaint.objects.values_list("received_by", flat=True)) == {
        "letter", "phone", "email", "in_person", "online",
    }  # fmt: skip


def test_seeding_twice_adds_nothing():
    seed()
    seed()
    assert Complaint.objects.count() == 8
