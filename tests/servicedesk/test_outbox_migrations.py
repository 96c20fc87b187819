"""Delivery receipts added columns to the outbox: every message queued or sent before keeps its
row and its values."""

from __future__ import annotations

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone

from servicedesk.models import OutboxMessage

pytestmark = pytest.mark.django_db(transaction=True)

COLUMNS = ("pk", "key", "channel", "to", "status", "provider_id", "sent_at")


def test_messages_from_before_delivery_receipts_keep_every_row():
    target = [("servicedesk", "0011_staff_need_to_know")]
    executor = MigrationExecutor(connection)
    executor.migrate(target)
    old = executor.loader.project_state(target).apps.get_model("servicedesk", "OutboxMessage")
    now = timezone.now()
    try:
        old.objects.create(key="welcome:1", kind="welcome", to="a@x.example", next_attempt_at=now)
        old.objects.create(
            key="invite:2", kind="survey_invitation", channel="sms", to="+447700900123",
            next_attempt_at=now, status="sent", sent_at=now, provider_id="SM42",
        )  # fmt: skip
        before = list(old.objects.order_by("pk").values_list(*COLUMNS))
    finally:
        executor = MigrationExecutor(connection)
        executor.migrate(executor.loader.graph.leaf_nodes())

    assert list(OutboxMessage.objects.order_by("pk").values_list(*COLUMNS)) == before
    assert list(OutboxMessage.objects.values_list("delivered_at", flat=True)) == [None, None]
