"""SLA clocks: deadlines from the policy, pauses that stop them, "due in" / "overdue by"."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.template import Context, Template

from recovery import services
from recovery.durations import humanize_duration
from recovery.models import Incident, SlaPolicy
from tests.recovery.conftest import drive_to

Status = Incident.Status
T0 = datetime(2026, 3, 2, 9, 0, tzinfo=ZoneInfo("Europe/London"))


@pytest.mark.django_db
def test_deadlines_come_from_the_policy_of_the_severity(manager):
    SlaPolicy.objects.filter(severity="high").update(
        respond_within=timedelta(hours=2), resolve_within=timedelta(days=2)
    )
    incident = drive_to(Status.NEW, by=manager, severity="high", now=T0)
    assert incident.respond_by == T0 + timedelta(hours=2)
    assert incident.resolve_by == T0 + timedelta(days=2)
    assert incident.created_at == T0


@pytest.mark.django_db
def test_every_severity_has_a_default_policy_with_escalation_steps():
    policies = SlaPolicy.objects.prefetch_related("steps")
    assert {p.severity for p in policies} == {"low", "medium", "high", "critical"}
    assert all(p.steps.count() == 2 for p in policies)
    critical = SlaPolicy.objects.get(severity="critical")
    assert critical.respond_within <= timedelta(hours=1)


@pytest.mark.django_db
def test_a_pause_stops_the_resolve_clock_and_resume_restarts_it(manager):
    incident = drive_to(Status.IN_PROGRESS, by=manager, severity="medium", now=T0)
    resolve_by = incident.resolve_by
    services.incident_pause(
        incident=incident, by=manager, reason="Patient is checking dates", now=T0 + timedelta(hours=1)
    )
    incident.refresh_from_db()
    assert incident.next_escalation_at is None
    # Ten days later nothing is overdue: the clock is stopped.
    assert not Incident.objects.overdue(T0 + timedelta(days=10)).filter(pk=incident.pk).exists()
    left_while_paused = incident.time_left(T0 + timedelta(days=10))
    assert left_while_paused == resolve_by - (T0 + timedelta(hours=1))

    services.incident_resume(incident=incident, by=manager, now=T0 + timedelta(hours=49))
    incident.refresh_from_db()
    assert incident.paused_for == timedelta(hours=48)
    assert incident.resolve_by == resolve_by + timedelta(hours=48)
    assert incident.next_escalation_at == incident.resolve_by  # level 1 fires at the deadline
    assert incident.time_left(T0 + timedelta(hours=49)) == left_while_paused


@pytest.mark.django_db
def test_two_pauses_add_up(manager):
    incident = drive_to(Status.IN_PROGRESS, by=manager, now=T0)
    resolve_by = incident.resolve_by
    for start in (T0 + timedelta(hours=1), T0 + timedelta(hours=10)):
        services.incident_pause(incident=incident, by=manager, reason="Waiting", now=start)
        services.incident_resume(incident=incident, by=manager, now=start + timedelta(hours=3))
    incident.refresh_from_db()
    assert incident.paused_for == timedelta(hours=6)
    assert incident.resolve_by == resolve_by + timedelta(hours=6)


@pytest.mark.django_db
def test_resolving_while_paused_counts_the_pause_and_judges_the_sla_fairly(manager):
    incident = drive_to(Status.IN_PROGRESS, by=manager, severity="high", now=T0)  # resolve within 3 days
    services.incident_pause(incident=incident, by=manager, reason="Waiting", now=T0 + timedelta(hours=1))
    incident = services.incident_resolve(
        incident=incident, by=manager, summary="Sorted.", root_cause="Rota.", now=T0 + timedelta(days=5)
    )
    assert incident.paused_for == timedelta(days=5) - timedelta(hours=1)
    assert incident.resolved_at <= incident.resolve_by
    assert "within the SLA" in incident.timeline.latest("at", "pk").body


@pytest.mark.django_db
def test_overdue_means_past_the_running_deadline(manager):
    incident = drive_to(Status.NEW, by=manager, severity="high", now=T0)  # respond within 4 h
    assert not incident.is_overdue(T0 + timedelta(hours=3))
    assert incident.is_overdue(T0 + timedelta(hours=5))
    assert Incident.objects.overdue(T0 + timedelta(hours=5)).filter(pk=incident.pk).exists()
    services.incident_acknowledge(incident=incident, by=manager, now=T0 + timedelta(hours=5))
    incident.refresh_from_db()
    # Acknowledged late, but the resolve clock (3 days) is still running.
    assert not incident.is_overdue(T0 + timedelta(hours=6))
    assert incident.is_overdue(T0 + timedelta(days=3, minutes=1))


@pytest.mark.django_db
def test_the_clock_badge_says_due_in_or_overdue_by(manager):
    incident = drive_to(Status.NEW, by=manager, severity="high", now=T0)
    template = Template("{% load recovery_tags %}{% sla_clock incident now %}")

    def render(now):
        return template.render(Context({"incident": incident, "now": now}))

    assert "Respond in 3 h" in render(T0 + timedelta(hours=1))
    assert "Response overdue by 1 h 30 min" in render(T0 + timedelta(hours=5, minutes=30))
    incident = services.incident_acknowledge(incident=incident, by=manager, now=T0 + timedelta(hours=1))
    assert "Due in 2 days 23 h" in render(T0 + timedelta(hours=1))
    incident = services.incident_pause(
        incident=incident, by=manager, reason="Waiting", now=T0 + timedelta(hours=2)
    )
    assert "Clock paused" in render(T0 + timedelta(days=9))


@pytest.mark.parametrize(
    ("delta", "text"),
    [
        (timedelta(seconds=20), "under a minute"),
        (timedelta(minutes=5), "5 min"),
        (timedelta(hours=2), "2 h"),
        (timedelta(hours=2, minutes=15), "2 h 15 min"),
        (timedelta(days=1), "1 day"),
        (timedelta(days=3, hours=4, minutes=59), "3 days 4 h"),
        (-timedelta(hours=1), "1 h"),
    ],
)
def test_durations_read_the_way_staff_speak(delta, text):
    assert humanize_duration(delta) == text


# --- Policies that count opening hours only ------------------------------------------------------

FRIDAY_5PM = datetime(2026, 3, 6, 17, 0, tzinfo=ZoneInfo("Europe/London"))
MONDAY = datetime(2026, 3, 9, tzinfo=ZoneInfo("Europe/London"))


@pytest.fixture
def weekdays_8_to_6():
    from datetime import time

    from servicedesk.models import OpeningHours

    OpeningHours.objects.bulk_create(
        OpeningHours(weekday=d, opens=time(8), closes=time(18)) for d in range(5)
    )
    SlaPolicy.objects.filter(severity="high").update(
        respond_within=timedelta(hours=4), resolve_within=timedelta(hours=20), opening_hours_only=True
    )


@pytest.mark.django_db
def test_an_opening_hours_promise_made_on_friday_evening_falls_due_on_monday(manager, weekdays_8_to_6):
    incident = drive_to(Status.NEW, by=manager, severity="high", now=FRIDAY_5PM)
    assert incident.respond_by == MONDAY.replace(hour=11)  # 1 h on Friday, 3 h on Monday
    assert incident.resolve_by == MONDAY.replace(day=10, hour=17)  # 1 h + 10 h + 9 h
    assert incident.next_escalation_at == incident.respond_by  # level 1 at the deadline
    assert not Incident.objects.overdue(MONDAY.replace(hour=10)).filter(pk=incident.pk).exists()

    # A critical incident is worked through the night and the weekend: every hour counts.
    other = drive_to(Status.NEW, by=manager, severity="critical", now=FRIDAY_5PM)
    assert other.respond_by == FRIDAY_5PM + SlaPolicy.objects.get(severity="critical").respond_within


@pytest.mark.django_db
def test_an_escalation_step_later_than_the_deadline_counts_opening_hours_too(manager, weekdays_8_to_6):
    policy = SlaPolicy.objects.get(severity="high")
    services.sla_policy_update(
        policy=policy,
        respond_within=timedelta(hours=4),
        resolve_within=timedelta(hours=20),
        steps=[services.StepSpec(after=timedelta(hours=2), notify_role="Managers")],
        by=manager,
    )
    incident = drive_to(Status.NEW, by=manager, severity="high", now=FRIDAY_5PM.replace(hour=14))
    assert incident.respond_by == FRIDAY_5PM.replace(hour=18)  # closing time on Friday
    assert incident.next_escalation_at == MONDAY.replace(hour=10)  # not 8 pm on Friday


@pytest.mark.django_db
def test_a_pause_over_the_weekend_moves_the_deadline_by_the_open_time_it_lasted(manager, weekdays_8_to_6):
    incident = drive_to(Status.IN_PROGRESS, by=manager, severity="high", now=FRIDAY_5PM - timedelta(hours=8))
    resolve_by = incident.resolve_by
    services.incident_pause(incident=incident, by=manager, reason="Waiting for the patient", now=FRIDAY_5PM)
    services.incident_resume(incident=incident, by=manager, now=MONDAY.replace(hour=9))
    incident.refresh_from_db()
    assert incident.paused_for == timedelta(days=2, hours=16)  # what the patient waited, for the record
    opened_for = timedelta(hours=2)  # Friday 5-6 pm and Monday 8-9 am
    from servicedesk.opening_hours import OpeningClock

    assert incident.resolve_by == OpeningClock.current().add(resolve_by, opened_for)


@pytest.mark.django_db
def test_a_manager_switches_a_policy_to_opening_hours(manager_client):
    from django.urls import reverse

    from tests.recovery.test_plan_and_sla_views import sla_data

    data = sla_data(**{"steps-1-after": "4", "steps-1-notify_role": "Managers", "opening_hours_only": "on"})
    response = manager_client.post(reverse("recovery:sla_edit", args=["high"]), data)
    assert response.status_code == 302
    assert SlaPolicy.objects.get(severity="high").opening_hours_only
    listing = manager_client.get(reverse("recovery:sla_list")).content.decode()
    assert "opening hours only" in listing
    form = manager_client.get(reverse("recovery:sla_edit", args=["high"]))
    assert form.context["form"]["opening_hours_only"].value() is True
    assert "No opening hours are set, so every hour counts." in form.content.decode()


TUESDAY_2304 = datetime(2026, 3, 10, 23, 4, tzinfo=ZoneInfo("Europe/London"))


@pytest.mark.django_db
def test_under_the_default_policies_a_high_incident_at_night_is_due_in_opening_hours(manager):
    """It was due at 03:04: the default policies for high, medium and low count opening hours."""
    from datetime import time

    from servicedesk.models import OpeningHours

    OpeningHours.objects.bulk_create(
        OpeningHours(weekday=d, opens=time(8), closes=time(18, 30)) for d in range(5)
    )
    assert set(SlaPolicy.objects.filter(opening_hours_only=True).values_list("severity", flat=True)) == {
        "high",
        "medium",
        "low",
    }
    incident = drive_to(Status.NEW, by=manager, severity="high", now=TUESDAY_2304)
    assert incident.respond_by == TUESDAY_2304.replace(day=11, hour=12, minute=0)  # 4 h from 08:00
    critical = drive_to(Status.NEW, by=manager, severity="critical", now=TUESDAY_2304)
    assert critical.respond_by == TUESDAY_2304 + timedelta(minutes=30)
