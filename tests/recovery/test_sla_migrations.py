"""Default policies move to opening hours (recovery 0009); a policy a manager edited is kept.
Policies per site (recovery 0015): every existing policy stays, as the group's."""

from __future__ import annotations

from datetime import timedelta

import pytest

from recovery.models import SlaPolicy
from tests.migrating import migrate, migrate_to_latest

pytestmark = pytest.mark.django_db(transaction=True)


def test_only_policies_still_holding_the_seeded_promise_count_opening_hours():
    old = migrate([("recovery", "0008_safety_category")])
    OldPolicy = old.get_model("recovery", "SlaPolicy")
    for severity, respond, resolve in (
        ("critical", timedelta(minutes=30), timedelta(days=1)),
        ("high", timedelta(hours=4), timedelta(days=3)),
        ("medium", timedelta(hours=2), timedelta(days=7)),  # a manager's own promise
        ("low", timedelta(days=3), timedelta(days=14)),
    ):
        OldPolicy.objects.update_or_create(
            severity=severity,
            defaults={"respond_within": respond, "resolve_within": resolve, "opening_hours_only": False},
        )
    migrate_to_latest()
    counted = dict(SlaPolicy.objects.values_list("severity", "opening_hours_only"))
    assert counted == {"critical": False, "high": True, "medium": False, "low": True}
    assert SlaPolicy.objects.count() == 4


def test_every_existing_policy_and_its_ladder_stays_as_the_groups():
    old = migrate([("recovery", "0014_site_manager_role")])
    OldPolicy = old.get_model("recovery", "SlaPolicy")
    OldStep = old.get_model("recovery", "EscalationStep")
    for n, severity in enumerate(("low", "medium", "high", "critical"), start=1):
        policy = OldPolicy.objects.create(
            severity=severity, respond_within=timedelta(hours=n), resolve_within=timedelta(days=n)
        )
        OldStep.objects.create(
            policy=policy, level=1, after=timedelta(minutes=15 * n), notify_role="Managers"
        )
    before = sorted(OldPolicy.objects.values_list("pk", "severity", "respond_within", "resolve_within"))
    assert len(before) == 4

    migrate_to_latest()
    after = sorted(
        SlaPolicy.objects.filter(location__isnull=True).values_list(
            "pk", "severity", "respond_within", "resolve_within"
        )
    )
    assert after == before
    assert SlaPolicy.objects.count() == 4
    high = SlaPolicy.objects.get(severity="high", location__isnull=True)
    assert [(s.level, s.after) for s in high.steps.all()] == [(1, timedelta(minutes=45))]
