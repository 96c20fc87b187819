"""The one audit log evolved the table the security app already had: every event recorded before
keeps its row, its values and its place in the log."""

from __future__ import annotations

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from servicedesk.audit import sentence
from servicedesk.security.models import AuditEvent

pytestmark = pytest.mark.django_db(transaction=True)

COLUMNS = ("action", "target_type", "target_id", "count", "actor_label", "outcome")


def _at(target: list[tuple[str, str]]):
    executor = MigrationExecutor(connection)
    executor.migrate(target)
    return executor.loader.project_state(target).apps.get_model("security", "AuditEvent")


def _forward() -> None:
    executor = MigrationExecutor(connection)
    executor.migrate(executor.loader.graph.leaf_nodes())


def test_events_recorded_before_the_one_audit_log_keep_every_row():
    old = _at([("security", "0001_initial")])
    try:
        old.objects.create(action="exported", target_type="feedback.invitation", count=12, actor_label="maya")
        old.objects.create(action="erased", target_type="feedback.response", target_id="7")
        old.objects.create(
            action="viewed", target_type="feedback.invitation", target_id="3", outcome="denied"
        )
        before = list(old.objects.order_by("pk").values_list("pk", "at", *COLUMNS))
    finally:
        _forward()

    assert list(AuditEvent.objects.order_by("pk").values_list("pk", "at", *COLUMNS)) == before
    assert list(AuditEvent.objects.order_by("pk").values_list("target_label", "data")) == [("", {})] * 3
    events = AuditEvent.objects.select_related("actor").order_by("pk")
    assert [sentence(event) for event in events] == [
        "maya exported invitations (patients' contact details) (12 records)",
        "The system erased patient response #7",
        "The system viewed invitation #3",
    ]


def test_events_with_labels_and_changes_keep_them_when_the_verbs_grow():
    old = _at([("security", "0002_one_audit_log")])
    try:
        old.objects.create(
            action="changed", target_type="recovery.slapolicy", target_id="2", actor_label="maya",
            target_label="SLA policy “High”", data={"respond within": ["2 h", "1 h"]},
        )  # fmt: skip
        old.objects.create(action="exported", target_type="feedback.survey", target_id="4", count=30,
                           target_label="Responses to “Kiosk” (CSV)")  # fmt: skip
        before = list(old.objects.order_by("pk").values_list("pk", "at", "target_label", "data", *COLUMNS))
    finally:
        _forward()

    after = AuditEvent.objects.order_by("pk")
    assert list(after.values_list("pk", "at", "target_label", "data", *COLUMNS)) == before
    assert [sentence(event) for event in after] == [
        "maya changed SLA policy “High”: respond within 2 h → 1 h",
        "The system exported responses to “Kiosk” (CSV) (30 records)",
    ]
    AuditEvent.objects.create(action="enabled", target_type="feedback.survey")  # a new verb is accepted
