"""The recovery demo: every state, realistic timelines, idempotent, bulk volume on request."""

from __future__ import annotations

import pytest
from django.db.models import Count

from recovery.models import Drill, FollowUp, Incident, RecoveryPlan, SlaPolicy


def seed_practice_and_recovery() -> None:
    """The core practice, then recovery's demo (other apps' demos are theirs to test)."""
    from recovery import demo
    from servicedesk import demo as practice

    for module in (practice, demo):
        module.seed(options={"incidents": 0}, out=lambda line: None)


@pytest.mark.django_db
def test_the_demo_has_plans_policies_and_incidents_in_every_state():
    seed_practice_and_recovery()
    assert SlaPolicy.objects.count() == 4
    assert set(RecoveryPlan.objects.values_list("title", flat=True)) >= {
        "Ransomware or IT outage",
        "Phone system down",
        "Records-system downtime",
        "Staff shortage",
        "Power cut",
    }
    assert all(plan.steps.exists() for plan in RecoveryPlan.objects.all())
    assert Drill.objects.exists()
    statuses = set(Incident.objects.values_list("status", flat=True))
    assert statuses == set(Incident.Status.values)
    assert Incident.objects.filter(escalation_level__gt=0).exists()
    assert Incident.objects.filter(reopen_count__gt=0).exists()
    assert Incident.objects.exclude(patient_recovered=None).exists()
    # Timelines are spread over weeks, not all stamped with the moment of seeding.
    days = {row.at.date() for row in FollowUp.objects.all()}
    assert len(days) > 10

    counts = dict(Incident.objects.values_list("status").annotate(n=Count("pk")))
    seed_practice_and_recovery()
    assert dict(Incident.objects.values_list("status").annotate(n=Count("pk"))) == counts
    assert RecoveryPlan.objects.count() == 5


@pytest.mark.django_db
def test_incidents_n_tops_up_to_n_with_bulk_inserts():
    from django.utils import timezone

    from recovery.demo import bulk_incidents

    assert bulk_incidents(40, now=timezone.now(), open_share=0.5, due=5) == 40
    assert bulk_incidents(40, now=timezone.now(), open_share=0.5, due=5) == 0
    assert Incident.objects.count() == 40
    assert Incident.objects.open().count() == 20
    assert Incident.objects.due_for_escalation(timezone.now()).count() == 5
    references = sorted(Incident.objects.values_list("reference", flat=True))
    assert len(set(references)) == 40
