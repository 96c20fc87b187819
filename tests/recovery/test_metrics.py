"""The recovery figures goals and the dashboard read through the metrics registry."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.db import connection
from django.db.models import F

from feedback.signals import response_submitted
from recovery import services
from recovery.metrics import median_hours, median_hours_of
from recovery.models import Incident
from servicedesk.metrics import Filters, Period, registry
from tests.factories import LocationFactory, ResponseFactory, TouchpointFactory, open_incident
from tests.recovery.conftest import drive_to

Status = Incident.Status
T0 = datetime(2026, 3, 2, 9, 0, tzinfo=ZoneInfo("Europe/London"))
MONTH = Period(start=T0 - timedelta(days=1), end=T0 + timedelta(days=29))


def value(key: str, period: Period = MONTH, **filters) -> float | None:
    return registry.value(f"recovery.{key}", period=period, filters=Filters(**filters))


def test_every_recovery_metric_is_registered():
    keys = {m.key for m in registry if m.key.startswith("recovery.")}
    assert keys == {
        "recovery.open_incidents",
        "recovery.overdue_incidents",
        "recovery.median_hours_to_first_response",
        "recovery.median_hours_to_resolve",
        "recovery.pct_resolved_within_sla",
        "recovery.reopen_rate",
        "recovery.recurrence_rate",
        "recovery.pct_negative_feedback_with_incident",
        "recovery.recovery_success_rate",
    }


@pytest.mark.django_db
def test_no_incidents_means_no_data_not_zero_percent():
    assert value("pct_resolved_within_sla") is None
    assert value("median_hours_to_resolve") is None
    assert value("reopen_rate") is None
    assert value("recovery_success_rate") is None
    assert value("open_incidents") == 0


@pytest.mark.django_db
def test_open_and_overdue_counts(manager):
    drive_to(Status.NEW, by=manager, severity="high", now=T0)  # respond by T0+4h: overdue at the end
    drive_to(Status.PAUSED, by=manager, severity="high", now=T0)  # paused: not overdue
    drive_to(Status.RESOLVED, by=manager, now=T0)
    assert value("open_incidents") == 2
    assert value("overdue_incidents") == 1


@pytest.mark.django_db
def test_medians_leave_out_time_waiting_on_the_patient(manager):
    touchpoint = TouchpointFactory()
    for ack_minutes, pause_hours, resolve_hours in [(30, 0, 10), (90, 5, 20), (60, 0, 30)]:
        incident = open_incident(now=T0, touchpoint=touchpoint)
        services.incident_acknowledge(incident=incident, by=manager, now=T0 + timedelta(minutes=ack_minutes))
        if pause_hours:
            services.incident_pause(
                incident=incident, by=manager, reason="Waiting", now=T0 + timedelta(hours=2)
            )
            services.incident_resume(incident=incident, by=manager, now=T0 + timedelta(hours=2 + pause_hours))
        services.incident_resolve(
            incident=incident,
            by=manager,
            summary="Done",
            root_cause="Cause",
            now=T0 + timedelta(hours=resolve_hours),
        )
    assert value("median_hours_to_first_response") == 1.0
    assert value("median_hours_to_resolve") == 15.0  # 10, 20 - 5, 30


@pytest.mark.django_db
def test_resolved_within_sla_and_reopen_rate(manager):
    drive_to(Status.RESOLVED, by=manager, severity="high", now=T0)  # on time
    late = drive_to(Status.IN_PROGRESS, by=manager, severity="high", now=T0)
    services.incident_resolve(
        incident=late, by=manager, summary="Done", root_cause="Cause", now=T0 + timedelta(days=4)
    )
    reopened = drive_to(Status.RESOLVED, by=manager, severity="high", now=T0)
    services.incident_reopen(incident=reopened, by=manager, reason="Again", now=T0 + timedelta(days=5))
    assert value("pct_resolved_within_sla") == 50.0  # the reopened one is not resolved any more
    assert value("reopen_rate") == 33.3


@pytest.mark.django_db
def test_recurrence_is_the_same_category_and_touchpoint_within_30_days():
    desk, phone = TouchpointFactory(), TouchpointFactory()
    open_incident(touchpoint=desk, category="waiting", now=T0)
    open_incident(touchpoint=desk, category="waiting", now=T0 + timedelta(days=10))  # recurs
    open_incident(touchpoint=phone, category="waiting", now=T0 + timedelta(days=11))  # other place
    open_incident(touchpoint=desk, category="attitude", now=T0 + timedelta(days=12))  # other category
    assert value("recurrence_rate") == 25.0
    assert value("recurrence_rate", touchpoint_id=desk.pk) == 33.3
    much_later = Period(start=T0 + timedelta(days=50), end=T0 + timedelta(days=80))
    open_incident(touchpoint=desk, category="waiting", now=T0 + timedelta(days=60))  # 50 days later
    assert value("recurrence_rate", much_later) == 0.0


@pytest.mark.django_db
def test_share_of_negative_feedback_that_opened_an_incident():
    for n in range(4):
        response = ResponseFactory(is_negative=True, submitted_at=T0 + timedelta(hours=n))
        if n < 3:
            response_submitted.send(sender=None, response_id=response.pk, is_negative=True)
    ResponseFactory(is_negative=False, submitted_at=T0)
    assert value("pct_negative_feedback_with_incident") == 75.0


@pytest.mark.django_db
def test_recovery_success_is_what_patients_answered(manager):
    for recovered in (True, True, False):
        incident = drive_to(
            Status.RESOLVED, by=manager, now=T0, patient_consented=True, patient_email="p@example.org"
        )
        Incident.objects.filter(pk=incident.pk).update(
            loop_sent_at=T0 + timedelta(days=1),
            loop_answered_at=T0 + timedelta(days=2),
            patient_recovered=recovered,
        )
    assert value("recovery_success_rate") == 66.7


@pytest.mark.django_db
def test_figures_can_be_cut_by_location(manager):
    here, there = TouchpointFactory(), TouchpointFactory()
    open_incident(touchpoint=here, now=T0)
    open_incident(touchpoint=there, now=T0)
    open_incident(touchpoint=there, now=T0)
    assert value("open_incidents", location_id=here.location_id) == 1
    assert value("open_incidents", touchpoint_id=there.pk) == 2


@pytest.mark.django_db
def test_recurrence_looks_back_before_the_period_and_past_the_place_filter():
    desk = TouchpointFactory()
    other_site = LocationFactory()
    # The first lies before the period, within 30 days of the second; it was logged at another
    # location (a touchpoint moved), which the location filter leaves out of the count, not the look-back.
    open_incident(
        touchpoint=desk, category="waiting", now=MONTH.start - timedelta(days=20), location=other_site
    )
    second = open_incident(touchpoint=desk, category="waiting", now=MONTH.start + timedelta(days=5))
    assert value("recurrence_rate") == 100.0
    assert value("recurrence_rate", location_id=second.location_id) == 100.0
    # 30 days (of real time: the clocks change on 29 March) is still a repeat; a second more is not.
    start = MONTH.start.astimezone(UTC)
    open_incident(touchpoint=desk, category="systems", now=start + timedelta(days=1))
    open_incident(touchpoint=desk, category="systems", now=start + timedelta(days=31))
    open_incident(touchpoint=desk, category="access", now=start)
    open_incident(touchpoint=desk, category="access", now=start + timedelta(days=30, seconds=1))
    assert value("recurrence_rate", Period(start=start, end=start + timedelta(days=40))) == 40.0


@pytest.mark.django_db
def test_the_database_median_is_the_median_of_the_durations_fetched(manager):
    """PostgreSQL computes the median (percentile_cont); it must equal ``median_hours`` over the
    rows, an even number of them included (the mean of the middle two), pauses left out."""
    hours = [3, 1, 8, 5, 13, 2]
    for n, taken in enumerate(hours):
        incident = open_incident(now=T0 + timedelta(hours=n))
        Incident.objects.filter(pk=incident.pk).update(
            resolved_at=incident.created_at + timedelta(hours=taken + 1), paused_for=timedelta(hours=1)
        )
    resolved = Incident.objects.all()
    duration = F("resolved_at") - F("created_at") - F("paused_for")
    fetched = [i.resolved_at - i.created_at - i.paused_for for i in resolved]
    assert median_hours_of(resolved, duration) == pytest.approx(median_hours(fetched)) == 4.0
    assert median_hours_of(resolved.none(), duration) is None
    first = resolved.order_by("created_at")[:1]
    assert median_hours_of(resolved.filter(pk__in=first), duration) == pytest.approx(3.0)


@pytest.mark.django_db
def test_an_incident_logged_back_dated_becomes_the_predecessor_of_the_next_one():
    desk = TouchpointFactory()
    later = open_incident(touchpoint=desk, category="waiting", now=T0 + timedelta(days=40))
    assert value("recurrence_rate", Period(start=T0 + timedelta(days=39), end=T0 + timedelta(days=41))) == 0.0
    back_dated = open_incident(touchpoint=desk, category="waiting", now=T0 + timedelta(days=20))
    later.refresh_from_db()
    assert later.similar_before_at == back_dated.created_at
    assert (
        value("recurrence_rate", Period(start=T0 + timedelta(days=39), end=T0 + timedelta(days=41))) == 100.0
    )


@pytest.mark.django_db
def test_each_figure_for_two_periods_in_one_query_equals_each_period_alone(
    manager, django_assert_num_queries
):
    """The dashboard asks for its period and the one before at once (``Metric.values``): the same
    figures as asking period by period, one query per figure instead of two."""
    desk = TouchpointFactory()
    before = Period(start=MONTH.start - timedelta(days=30), end=MONTH.start)
    for start, severity in (
        (T0 - timedelta(days=20), "high"),
        (T0, "medium"),
        (T0 + timedelta(days=3), "high"),
    ):
        for status in (Status.NEW, Status.PAUSED, Status.RESOLVED, Status.CLOSED):
            drive_to(status, by=manager, severity=severity, touchpoint=desk, category="waiting", now=start)
    reopened = drive_to(Status.RESOLVED, by=manager, touchpoint=desk, now=T0 - timedelta(days=10))
    services.incident_reopen(incident=reopened, by=manager, reason="Again", now=T0 - timedelta(days=9))
    batched = [m for m in registry if m.compute_each is not None and m.key.startswith("recovery.")]
    assert {m.key for m in batched} == {
        "recovery.open_incidents",
        "recovery.overdue_incidents",
        "recovery.median_hours_to_first_response",
        "recovery.median_hours_to_resolve",
        "recovery.reopen_rate",
        "recovery.recurrence_rate",
    }
    for metric in batched:
        for filters in (Filters(), Filters(touchpoint_id=desk.pk), Filters(touchpoint_id=desk.pk + 1000)):
            alone = [metric.value(period=p, filters=filters) for p in (MONTH, before)]
            # SQLite has no percentile function: a median is fetched per period there.
            one = connection.vendor == "postgresql" or "median" not in metric.key
            with django_assert_num_queries(1 if one else 2):
                together = metric.values(periods=[MONTH, before], filters=filters)
            assert together == alone, (metric.key, filters)
    assert any(v for m in batched for v in m.values(periods=[MONTH, before]))  # not all empty
