"""Every view, export and erasure of patient-identifying data writes exactly one audit event,
naming who and which record, never the patient's details or words."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from feedback import invitations
from feedback.invitations import Contact, contact_hash
from feedback.models import Invitation, InvitationRules
from recovery.models import Incident
from servicedesk.audit import sentence
from servicedesk.security.models import AuditEvent
from tests.factories import InvitationFactory, ResponseFactory, SurveyFactory, open_incident

pytestmark = pytest.mark.django_db

SECRETS = ("Canary", "jane@example.org", "07700 900123", "Bob Lark", "bob@example.org")


def the_event(by, action: str, target_type: str, target_id: object = None) -> AuditEvent:
    """The one event written, checked for who, what and which record, and that it holds no patient data."""
    (event,) = AuditEvent.objects.select_related("actor")
    assert (event.actor, event.action, event.target_type) == (by, action, target_type)
    if target_id is not None:
        assert event.target_id == str(target_id)
    stored = f"{AuditEvent.objects.values().get()} {sentence(event)}"
    assert not [secret for secret in SECRETS if secret in stored]
    return event


# --- Views -------------------------------------------------------------------------------------------


def test_viewing_a_response_with_contact_details_is_recorded_without_them(manager_client, manager):
    response = ResponseFactory(
        survey=SurveyFactory(title="Kiosk"),
        consent_to_contact=True,
        contact_name="Jane Canary",
        contact_email="jane@example.org",
    )
    page = manager_client.get(reverse("feedback:response_detail", args=[response.pk]))
    assert "jane@example.org" in page.content.decode()  # the manager sees them; the log does not
    event = the_event(manager, "viewed", "feedback.response", response.pk)
    assert event.target_label == f"the contact details on response #{response.pk} to the survey “Kiosk”"


def test_viewing_an_anonymous_response_is_not_recorded(manager_client):
    manager_client.get(reverse("feedback:response_detail", args=[ResponseFactory().pk]))
    assert not AuditEvent.objects.exists()


def test_viewing_an_incident_with_a_patients_contact_details_is_recorded(staff_client, staff):
    incident = open_incident(
        patient_consented=True, patient_name="Bob Lark", patient_email="bob@example.org", reporter=staff
    )
    Incident.objects.filter(pk=incident.pk).update(assignee=staff)  # shown only to whoever works it
    page = staff_client.get(reverse("recovery:incident_detail", args=[incident.reference]))
    assert page.status_code == 200
    event = the_event(staff, "viewed", "recovery.incident", incident.pk)
    assert event.target_label == f"the patient's contact details on incident {incident.reference}"


def test_viewing_an_incident_without_contact_details_is_not_recorded(staff_client, staff):
    incident = open_incident(reporter=staff)
    staff_client.get(reverse("recovery:incident_detail", args=[incident.reference]))
    assert not AuditEvent.objects.exists()


# --- Exports -----------------------------------------------------------------------------------------


def test_the_responses_csv_export_is_recorded_with_its_count(manager_client, manager):
    survey = SurveyFactory(title="Kiosk")
    ResponseFactory.create_batch(3, survey=survey)
    ResponseFactory(survey=survey, consent_to_contact=True, contact_name="Jane Canary")
    b"".join(manager_client.get(reverse("feedback:survey_export", args=[survey.pk])).streaming_content)
    event = the_event(manager, "exported", "feedback.survey", survey.pk)
    assert event.count == 4


# --- Access and erasure requests ----------------------------------------------------------------------


@pytest.fixture
def janes_records():
    invitation = InvitationFactory(
        email="jane@example.org", first_name="Jane", email_hash=contact_hash("email", "jane@example.org")
    )
    ResponseFactory(invitation=invitation, survey=invitation.survey, consent_to_contact=True,
                    contact_email="jane@example.org", contact_name="Jane Canary")  # fmt: skip
    InvitationFactory(email="someone.else@example.org")
    return invitation


@pytest.mark.parametrize(
    ("url", "data", "action"),
    [
        ("invitations:contact_requests", {"contact": "jane@example.org"}, "viewed"),
        ("invitations:contact_export", {"contact": "jane@example.org"}, "exported"),
        ("invitations:contact_erase", {"contact": "jane@example.org", "confirm": "on"}, "erased"),
    ],
)
def test_each_access_or_erasure_request_is_one_event_counting_what_it_covered(
    manager_client, manager, janes_records, url, data, action
):
    manager_client.post(reverse(url), data)
    event = the_event(manager, action, "feedback.contact")
    assert (event.count, event.data) == (2, {"invitations": 1, "responses": 1})
    request = "an erasure request" if action == "erased" else "an access request"
    assert event.target_label == f"everything held about one patient contact ({request})"


def test_an_erasure_refused_for_want_of_confirmation_is_not_recorded_as_done(manager_client, janes_records):
    manager_client.post(reverse("invitations:contact_erase"), {"contact": "jane@example.org"})
    assert not AuditEvent.objects.filter(action="erased").exists()
    assert Invitation.objects.filter(pk=janes_records.pk).exists()


def test_the_retention_purge_is_one_event_by_the_system():
    rules = InvitationRules.current()
    old = timezone.now() - timedelta(days=rules.purge_after_days + 1)
    InvitationFactory.create_batch(2, status="completed", completed_at=old)
    InvitationFactory(status="sent")  # still open: kept

    assert invitations.invitations_purge() == 2

    event = the_event(None, "erased", "feedback.invitation")
    assert event.count == 2
    assert sentence(event) == (
        "The system erased the contact details of invitations closed over "
        f"{rules.purge_after_days} days ago (2 records)"
    )


def test_a_purge_with_nothing_due_records_nothing():
    InvitationFactory(status="sent")
    assert invitations.invitations_purge() == 0
    assert not AuditEvent.objects.exists()


def test_the_service_records_an_access_request_made_outside_the_page(manager):
    invitations.contact_find(contact=Contact(email="nobody@example.org"), by=manager, now=timezone.now())
    event = the_event(manager, "viewed", "feedback.contact")
    assert (event.count, event.data) == (0, {})  # nothing held: no kind of record to count
