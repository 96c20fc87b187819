"""The audit log: who viewed, changed, exported or erased patient-identifying data — never the data."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import AnonymousUser
from django.urls import reverse

from servicedesk.audit import log_action, log_actions
from servicedesk.security.models import AuditEvent
from tests.factories import AuditEventFactory, LocationFactory, UserFactory

pytestmark = pytest.mark.django_db


def test_an_event_names_the_object_and_the_person_but_holds_none_of_the_objects_data(manager):
    contact = LocationFactory(name="Jane Canary, 07700 900123", address="1 Secret Street")

    event = log_action(contact, AuditEvent.Action.VIEWED, manager)

    stored = AuditEvent.objects.values().get(pk=event.pk)
    assert stored["target_type"] == "servicedesk.location"
    assert stored["target_id"] == str(contact.pk)
    assert stored["actor_id"] == manager.pk
    assert stored["actor_label"] == manager.username
    assert stored["outcome"] == "success"
    assert not any("Canary" in str(value) or "Secret" in str(value) for value in stored.values())


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


def test_an_event_must_say_what_it_was_about(manager):
    with pytest.raises(ValueError, match="target"):
        log_action(None, AuditEvent.Action.VIEWED, manager)


def test_the_record_outlives_the_account_that_made_it():
    person = UserFactory(username="temp")
    event = log_action(LocationFactory(), AuditEvent.Action.VIEWED, person)
    person.delete()
    event.refresh_from_db()
    assert event.actor is None
    assert event.actor_label == "temp"


def test_managers_read_the_log_newest_first(manager_client):
    older = AuditEventFactory(target_id="41")
    newer = AuditEventFactory(target_id="42", action="exported", count=7)
    response = manager_client.get(reverse("security:audit_log"))
    events = list(response.context["object_list"])
    assert events[:2] == [newer, older]
    html = " ".join(response.content.decode().split())
    assert "exported" in html
    assert "(7 records)" in html


def test_the_audit_log_page_runs_the_same_queries_for_10_or_60_events(manager_client, count_queries):
    AuditEventFactory.create_batch(10)
    few = count_queries(lambda: manager_client.get(reverse("security:audit_log")))
    AuditEventFactory.create_batch(50)
    many = count_queries(lambda: manager_client.get(reverse("security:audit_log")))
    assert few == many


def test_an_empty_log_explains_what_will_appear(manager_client):
    assert (
        "Nothing recorded for this filter"
        in manager_client.get(reverse("security:audit_log")).content.decode()
    )


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


def test_many_records_can_be_named_in_one_insert(manager, django_assert_num_queries):
    with django_assert_num_queries(1):
        recorded = log_actions(
            by=manager,
            action=AuditEvent.Action.EXPORTED,
            target_type="feedback.response",
            target_ids=[3, 5, 8],
        )
    assert recorded == 3
    assert list(AuditEvent.objects.order_by("target_id").values_list("target_id", flat=True)) == [
        "3",
        "5",
        "8",
    ]
