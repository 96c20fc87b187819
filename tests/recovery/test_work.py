"""Working an incident: assignment, notes, patient contacts, actions and their reminders."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.utils import timezone

from recovery import services, tasks
from recovery.models import FollowUp, Incident
from tests.factories import TouchpointFactory, UserFactory, open_incident
from tests.recovery.conftest import drive_to

Status = Incident.Status
T0 = datetime(2026, 3, 2, 9, 0, tzinfo=ZoneInfo("Europe/London"))


@pytest.mark.django_db
def test_opening_writes_the_first_timeline_row_and_takes_location_from_the_touchpoint(staff):
    touchpoint = TouchpointFactory()
    incident = open_incident(touchpoint=touchpoint, reporter=staff, now=T0)
    [row] = incident.timeline.all()
    assert row.at == T0  # when it happened, as the service saw it
    assert row.kind == FollowUp.Kind.OPENED
    assert row.author == staff
    assert row.changes["status"] == [None, "new"]
    assert incident.location == touchpoint.location
    assert incident.status == Status.NEW
    assert incident.escalation_level == 0


@pytest.mark.django_db
def test_the_title_is_the_first_line_cut_at_a_word(staff):
    long = "The patient was told " + "very " * 30 + "rudely that there were no appointments\nMore detail."
    incident = open_incident(description=long, reporter=staff)
    assert len(incident.title) <= 81
    assert incident.title.endswith("…")
    assert " ".join(incident.title[:-1].split()) in long


@pytest.mark.django_db
def test_contact_details_are_refused_without_consent(staff):
    with pytest.raises(ValidationError, match="agreed to be contacted"):
        open_incident(reporter=staff, patient_email="pat@example.org")
    assert not Incident.objects.exists()


@pytest.mark.django_db
def test_the_database_refuses_contact_details_without_consent_too(staff):
    from django.db import IntegrityError

    incident = open_incident(reporter=staff)
    with pytest.raises(IntegrityError):
        Incident.objects.filter(pk=incident.pk).update(patient_phone="07700 900123")


@pytest.mark.django_db
def test_assigning_records_who_from_whom_and_emails_the_new_owner(
    manager, staff, mailoutbox, django_capture_on_commit_callbacks, eager_tasks
):
    incident = open_incident(reporter=staff)
    with django_capture_on_commit_callbacks(execute=True):
        services.incident_assign(incident=incident, assignee=staff, by=manager, now=T0)
    row = incident.timeline.get(kind=FollowUp.Kind.ASSIGNMENT)
    assert row.author == manager
    assert row.changes == {"assignee": [None, staff.pk]}
    assert [m.to for m in mailoutbox] == [[staff.email]]
    assert incident.reference in mailoutbox[0].subject
    # The sweep finds nothing left to send.
    assert tasks.send_recovery_reminders() == 0
    assert len(mailoutbox) == 1


@pytest.mark.django_db
def test_an_assignment_notice_the_broker_lost_is_sent_by_the_sweep(manager, staff, mailoutbox):
    incident = open_incident(reporter=staff)
    services.incident_assign(incident=incident, assignee=staff, by=manager, now=timezone.now())
    # (on-commit callbacks never ran: the broker "was down")
    assert mailoutbox == []
    tasks.send_recovery_reminders()
    tasks.send_recovery_reminders()
    assert len(mailoutbox) == 1


@pytest.mark.django_db
def test_taking_an_incident_yourself_sends_no_email(
    staff, mailoutbox, django_capture_on_commit_callbacks, eager_tasks
):
    incident = open_incident(reporter=staff)
    with django_capture_on_commit_callbacks(execute=True):
        services.incident_assign(incident=incident, assignee=staff, by=staff, now=T0)
    assert mailoutbox == []


@pytest.mark.django_db
def test_assigning_to_someone_without_a_role_is_refused(manager):
    incident = open_incident()
    with pytest.raises(ValidationError, match="not an active team member"):
        services.incident_assign(incident=incident, assignee=UserFactory(role=None), by=manager, now=T0)


@pytest.mark.django_db
def test_a_real_conversation_marks_the_patient_as_contacted_once(manager):
    incident = drive_to(Status.IN_PROGRESS, by=manager)
    services.incident_log_contact(
        incident=incident, by=manager, channel="phone", outcome="no_answer", body="", now=T0
    )
    incident.refresh_from_db()
    assert incident.patient_contacted_at is None
    services.incident_log_contact(
        incident=incident, by=manager, channel="phone", outcome="apologised", body="Sorry given.", now=T0
    )
    services.incident_log_contact(
        incident=incident,
        by=manager,
        channel="email",
        outcome="explained",
        body="",
        now=T0 + timedelta(days=1),
    )
    incident.refresh_from_db()
    assert incident.patient_contacted_at == T0
    contacts = incident.timeline.filter(kind=FollowUp.Kind.CONTACT)
    assert contacts.count() == 3
    assert {c.contact_outcome for c in contacts} == {"no_answer", "apologised", "explained"}


@pytest.mark.django_db
def test_notes_are_timeline_rows_and_must_say_something(staff):
    incident = open_incident()
    services.incident_note(incident=incident, by=staff, body="Spoke to the duty doctor.", now=T0)
    assert incident.timeline.filter(kind=FollowUp.Kind.NOTE, author=staff).count() == 1
    with pytest.raises(ValidationError):
        services.incident_note(incident=incident, by=staff, body="   ", now=T0)


@pytest.mark.django_db
def test_an_action_needs_a_future_due_date_and_an_open_incident(manager):
    incident = drive_to(Status.IN_PROGRESS, by=manager)
    today = timezone.localdate()
    with pytest.raises(ValidationError, match="past"):
        services.incident_add_action(
            incident=incident,
            by=manager,
            description="Call back",
            due_on=today - timedelta(days=1),
            now=timezone.now(),
        )
    closed = drive_to(Status.CLOSED, by=manager)
    with pytest.raises(services.TransitionRefused):
        services.incident_add_action(
            incident=closed, by=manager, description="Call back", due_on=today, now=timezone.now()
        )


@pytest.mark.django_db
def test_the_action_owner_gets_one_reminder_on_the_due_day_from_the_morning(manager, staff, mailoutbox):
    incident = drive_to(Status.IN_PROGRESS, by=manager)
    Incident.objects.filter(pk=incident.pk).update(assignee=staff)
    due = T0.date() + timedelta(days=2)
    with time_machine.travel(T0, tick=False):
        action = services.incident_add_action(
            incident=incident, by=manager, description="Ring the patient back", due_on=due, now=T0
        )
    assert action.owner == staff  # the assignee, as nobody else was named
    day_before = datetime.combine(due - timedelta(days=1), datetime.min.time(), tzinfo=T0.tzinfo).replace(
        hour=10
    )
    early = day_before + timedelta(hours=21)  # 07:00 on the due day
    with time_machine.travel(day_before, tick=False):
        tasks.send_recovery_reminders()
    with time_machine.travel(early, tick=False):
        tasks.send_recovery_reminders()
    assert mailoutbox == []
    with time_machine.travel(early + timedelta(hours=1, minutes=5), tick=False):
        tasks.send_recovery_reminders()
        tasks.send_recovery_reminders()
    assert [m.to for m in mailoutbox] == [[staff.email]]
    assert "Due today" in mailoutbox[0].subject


@pytest.mark.django_db
def test_a_done_action_is_not_reminded_and_is_done_once(manager, staff, mailoutbox):
    incident = drive_to(Status.IN_PROGRESS, by=manager)
    today = timezone.localdate()
    action = services.incident_add_action(
        incident=incident,
        by=manager,
        description="Send apology letter",
        due_on=today,
        owner=staff,
        now=timezone.now(),
    )
    assert services.action_complete(action=action, by=staff, now=timezone.now())
    assert not services.action_complete(action=action, by=manager, now=timezone.now())
    assert incident.timeline.filter(kind=FollowUp.Kind.ACTION_DONE).count() == 1
    assert not services.action_remind(action_id=action.pk, now=timezone.now())
    assert mailoutbox == []
