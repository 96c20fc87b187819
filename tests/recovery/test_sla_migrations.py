"""Default policies move to opening hours (recovery 0009); a policy a manager edited is kept."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from recovery.models import SlaPolicy

pytestmark = pytest.mark.django_db(transaction=True)


def test_only_policies_still_holding_the_seeded_promise_count_opening_hours():
    executor = MigrationExecutor(connection)
    executor.migrate([("recovery", "0008_safety_category")])
    for severity, respond, resolve in (
        ("critical", timedelta(minutes=30), timedelta(days=1)),
        ("high", timedelta(hours=4), timedelta(days=3)),
        ("medium", timedelta(hours=2), timedelta(days=7)),  # a manager's own promise
        ("low", timedelta(days=3), timedelta(days=14)),
    ):
        SlaPolicy.objects.update_or_create(
            severity=severity,
            defaults={"respond_within": respond, "resolve_within": resolve, "opening_hours_only": False},
        )
    executor = MigrationExecutor(connection)
    executor.migrate(executor.loader.graph.leaf_nodes())
    counted = dict(SlaPolicy.objects.values_list("severity", "opening_hours_only"))
    assert counted == {"critical": False, "high": True, "medium": False, "low": True}
    assert SlaPolicy.objects.count() == 4
