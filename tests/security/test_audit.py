"""The audit log's one primitive, ``log_action``: who did what to which record, never the record's
data; and how an event reads to a manager."""

from __future__ import annotations

from datetime import date, time
from decimal import Decimal

import pytest
from django.contrib.auth.models import AnonymousUser
from django.db import transaction
from django.urls import reverse

from servicedesk.audit import changes, log_action, sentence, value_text
from servicedesk.models import Location
from servicedesk.security.models import AuditEvent
from tests.factories import AuditEventFactory, LocationFactory, UserFactory

pytestmark = pytest.mark.django_db


def test_an_event_names_the_object_and_the_person_but_holds_none_of_the_objects_data(manager):
    contact = LocationFactory(name="Jane Canary, 07700 900123", address="1 Secret Street")

    event = log_action(contact, AuditEvent.Action.VIEWED, manager, label="the location #1")

    stored = AuditEvent.objects.values().get(pk=event.pk)
    assert stored["target_type"] == "servicedesk.location"
    assert stored["target_id"] == str(contact.pk)
    assert stored["actor_id"] == manager.pk
    assert stored["actor_label"] == manager.username
    assert stored["outcome"] == "success"
    assert not any("Canary" in str(value) or "Secret" in str(value) for value in stored.values())


def test_a_configuration_record_is_named_by_its_kind_and_name_unless_told_otherwise(manager):
    location = LocationFactory(name="Riverside")
    assert log_action(location, AuditEvent.Action.CHANGED, manager).target_label == "the location “Riverside”"


def test_an_export_records_how_many_rows_without_naming_them(manager):
    event = log_action(
        None, AuditEvent.Action.EXPORTED, manager, target_type="feedback.invitation", count=120
    )
    assert (event.target_id, event.count) == ("", 120)
    assert "exported feedback.invitation" in str(event)


def test_a_refusal_is_recorded_with_its_outcome(staff):
    location = LocationFactory()
    event = log_action(location, AuditEvent.Action.ERASED, staff, outcome=AuditEvent.Outcome.DENIED)
    assert event.outcome == "denied"


def test_work_done_by_the_system_or_a_patient_has_no_actor():
    location = LocationFactory()
    for actor in (None, AnonymousUser()):
        event = log_action(location, AuditEvent.Action.ERASED, actor)
        assert event.actor is None
        assert event.actor_label == ""
        assert sentence(event).startswith("The system erased")


def test_an_event_must_say_what_it_was_about(manager):
    with pytest.raises(ValueError, match="target"):
        log_action(None, AuditEvent.Action.VIEWED, manager)


def test_an_event_rolls_back_with_the_change_it_records(manager):
    def change_that_fails() -> None:
        with transaction.atomic():
            location = Location.objects.create(name="Riverside")
            log_action(location, AuditEvent.Action.CREATED, manager)
            raise RuntimeError("the change failed")

    with pytest.raises(RuntimeError):
        change_that_fails()
    assert not AuditEvent.objects.exists()


def test_the_record_outlives_the_account_that_made_it():
    person = UserFactory(username="temp", first_name="Tem", last_name="Porary")
    event = log_action(LocationFactory(name="Riverside"), AuditEvent.Action.REMOVED, person)
    person.delete()
    event = AuditEvent.objects.select_related("actor").get(pk=event.pk)
    assert event.actor is None
    assert event.actor_label == "temp"
    assert sentence(event) == "temp removed the location “Riverside”"


# --- Sentences -------------------------------------------------------------------------------------


def test_a_change_reads_as_a_sentence_with_the_persons_name_and_what_changed():
    sam = UserFactory(first_name="Sam", last_name="Jones")
    event = AuditEventFactory(
        actor=sam, action="changed", target_type="recovery.slapolicy", target_label="the SLA policy “High”",
        data={"respond within": ["2 h", "1 h"]},
    )  # fmt: skip
    assert sentence(event) == "Sam Jones changed the SLA policy “High”: respond within 2 h → 1 h"


def test_an_addition_says_what_was_set_and_a_removal_what_was_there():
    sam = UserFactory(first_name="Sam", last_name="Jones")
    added = AuditEventFactory(
        actor=sam, action="created", target_label="the closed day Fri 25 Dec 2026",
        data={"reason": ["—", "Christmas Day"]},
    )  # fmt: skip
    removed = AuditEventFactory(actor=sam, action="removed", target_label="the location “Old site”")
    assert sentence(added) == "Sam Jones added the closed day Fri 25 Dec 2026: reason Christmas Day"
    assert sentence(removed) == "Sam Jones removed the location “Old site”"


def test_events_from_before_labels_still_read_as_sentences():
    legacy = AuditEventFactory(
        actor=None, actor_label="maya", action="exported", target_type="feedback.invitation", target_id="",
        count=12,
    )  # fmt: skip
    one = AuditEventFactory(actor=None, actor_label="maya", action="erased", target_type="feedback.response",
                            target_id="7")  # fmt: skip
    early_label = AuditEventFactory(actor=None, actor_label="maya", action="changed",
                                    target_label="Survey “Kiosk”", data={"on": ["no", "yes"]})  # fmt: skip
    assert sentence(legacy) == "maya exported invitations (patients' contact details) (12 records)"
    assert sentence(one) == "maya erased patient response #7"
    assert sentence(early_label) == "maya changed survey “Kiosk”: on no → yes"


def test_values_are_written_as_a_manager_reads_them():
    values = (None, "", True, False, time(9, 5), date(2026, 12, 25), Decimal("90.00"))
    assert [value_text(v) for v in values] == ["—", "—", "yes", "no", "09:05", "25 Dec 2026", "90"]
    assert changes({"reason": "", "open": True}, {"reason": "Christmas", "open": True}) == {
        "reason": ["—", "Christmas"]
    }


# --- The admin --------------------------------------------------------------------------------------


def test_nobody_can_edit_or_delete_the_log_in_the_admin(client):
    admin = UserFactory(is_superuser=True, is_staff=True)
    client.force_login(admin)
    event = AuditEventFactory()
    change = client.get(reverse("admin:security_auditevent_change", args=[event.pk]))
    assert change.status_code == 200  # can read it
    assert 'name="_save"' not in change.content.decode()
    assert (
        client.post(reverse("admin:security_auditevent_delete", args=[event.pk]), {"post": "yes"}).status_code
        == 403
    )
    assert AuditEvent.objects.filter(pk=event.pk).exists()


def test_a_read_of_patient_data_is_never_named_by_the_records_own_text(manager):
    """Only configuration records are named by their str; a read names its record by kind and number."""
    record = LocationFactory(name="Jane Canary, 07700 900123")
    event = log_action(record, AuditEvent.Action.VIEWED, manager)
    assert event.target_label == ""
    assert "Canary" not in str(AuditEvent.objects.values().get(pk=event.pk))
