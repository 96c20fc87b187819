"""Delivery's metrics, as goals and the dashboard read them through the registry."""

from datetime import UTC, datetime, timedelta

import pytest

from delivery import services
from servicedesk.metrics import Filters, Period, registry
from tests.factories import (
    ChecklistItemFactory,
    ChecklistResultFactory,
    ChecklistRunFactory,
    ChecklistTemplateFactory,
    LocationFactory,
    TouchpointFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db
NOW = datetime(2026, 6, 30, 12, tzinfo=UTC)
JUNE = Period(start=datetime(2026, 6, 1, tzinfo=UTC), end=NOW)


def run(status, *, template=None, days_ago=1, **kwargs):
    due = NOW - timedelta(days=days_ago)
    extra = {"completed_at": due - timedelta(hours=1)} if status == "completed" else {}
    return ChecklistRunFactory(
        template=template or ChecklistTemplateFactory(),
        status=status,
        due_at=due,
        period_start=due.date(),
        **extra,
        **kwargs,
    )


def value(key, period=JUNE, **filters):
    params = filters.pop("params", {})
    return registry.value(key, period=period, filters=Filters(**filters).with_params(**params))


def test_every_delivery_metric_is_registered():
    keys = {m.key for m in registry if m.key.startswith("delivery.")}
    assert keys == {
        "delivery.checklist_completion_pct",
        "delivery.missed_runs",
        "delivery.failed_critical_items",
        "delivery.training_compliance_pct",
        "delivery.protocols_overdue_review",
    }


def test_completion_is_completed_out_of_closed_runs_cut_by_dimension_place_and_touchpoint():
    site, desk = LocationFactory(), TouchpointFactory()
    place = ChecklistTemplateFactory(dimension="place", location=site, touchpoint=desk)
    process = ChecklistTemplateFactory(dimension="process")
    for days_ago, status in enumerate(("completed", "completed", "completed", "missed"), start=1):
        run(status, template=place, days_ago=days_ago)
    run("missed", template=process)
    run("due", template=process, days_ago=0)  # still open: not counted yet
    run("completed", template=process, days_ago=60)  # outside the period
    assert value("delivery.checklist_completion_pct") == 60.0
    assert value("delivery.checklist_completion_pct", params={"dimension": "place"}) == 75.0
    assert value("delivery.checklist_completion_pct", params={"dimension": "process"}) == 0.0
    assert value("delivery.checklist_completion_pct", location_id=site.pk) == 75.0
    assert value("delivery.checklist_completion_pct", touchpoint_id=desk.pk) == 75.0
    assert value("delivery.checklist_completion_pct", params={"dimension": "people"}) is None
    assert value("delivery.missed_runs") == 2
    assert value("delivery.missed_runs", location_id=site.pk) == 1


def test_failed_critical_items_count_only_critical_failures_in_the_period():
    site = LocationFactory()
    template = ChecklistTemplateFactory(location=site)
    critical = ChecklistItemFactory(template=template, is_critical=True)
    minor = ChecklistItemFactory(template=template)
    inside = run("completed", template=template)
    ChecklistResultFactory(run=inside, item=critical, outcome="fail", recorded_at=NOW - timedelta(days=1))
    ChecklistResultFactory(run=inside, item=minor, outcome="fail", recorded_at=NOW - timedelta(days=1))
    earlier = run("completed", template=template, days_ago=40)
    ChecklistResultFactory(run=earlier, item=critical, outcome="fail", recorded_at=NOW - timedelta(days=40))
    assert value("delivery.failed_critical_items") == 1
    assert value("delivery.failed_critical_items", location_id=LocationFactory().pk) == 0


def test_training_compliance_is_measured_at_the_end_of_the_period():
    template = ChecklistTemplateFactory(dimension="people", per_person=True, location=None)
    person = UserFactory()
    ChecklistRunFactory(
        template=template, subject=person, due_at=NOW - timedelta(days=1), period_start=JUNE.start.date()
    )
    assert value("delivery.training_compliance_pct") == 0.0
    assert (
        value("delivery.training_compliance_pct", period=Period(JUNE.start, NOW - timedelta(days=2))) == 100.0
    )


def test_protocols_overdue_review_counts_active_protocols_past_their_date(manager):
    desk = TouchpointFactory()
    for title, review_by, active, touchpoint in [
        ("Overdue", NOW.date() - timedelta(days=1), True, desk),
        ("Also overdue", NOW.date() - timedelta(days=30), True, None),
        ("Retired", NOW.date() - timedelta(days=30), False, None),
        ("Fine", NOW.date() + timedelta(days=30), True, None),
    ]:
        services.protocol_create(
            title=title,
            body="x",
            by=manager,
            owner=manager,
            review_by=review_by,
            is_active=active,
            touchpoint=touchpoint,
        )
    assert value("delivery.protocols_overdue_review") == 2
    assert value("delivery.protocols_overdue_review", touchpoint_id=desk.pk) == 1


def test_completion_can_be_cut_to_one_checklist_by_its_short_name():
    spot_check = ChecklistTemplateFactory(slug="phone-answering-spot-check")
    run("completed", template=spot_check, days_ago=1)
    run("missed", template=spot_check, days_ago=2)
    run("missed")
    assert (
        value("delivery.checklist_completion_pct", params={"checklist": "phone-answering-spot-check"}) == 50.0
    )
