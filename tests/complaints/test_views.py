"""Staff's complaints pages: who may open them (anonymous, staff, manager, and need to know through
the incident), recording with validation, the four actions each leaving a timeline row and an
audit event, refusals with a message and a 400, and the list's filters in a flat number of queries."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from complaints.models import Complaint, ComplaintExtension
from complaints.vocabulary import SubjectArea
from recovery.models import FollowUp, Incident
from servicedesk.security.models import AuditEvent
from tests.complaints.conftest import record
from tests.factories import LocationFactory, UserFactory

pytestmark = pytest.mark.django_db
LIST = reverse("complaints:complaint_list")
RECORD = reverse("complaints:complaint_record")


def detail(c: Complaint, action: str = "") -> str:
    name = f"complaints:complaint_{action}" if action else "complaints:complaint_detail"
    return reverse(name, args=[c.reference])


def today() -> date:
    return timezone.localdate()


# --- Who may open what -----------------------------------------------------------------------------


def test_anonymous_visitors_are_sent_to_log_in(client, complaint):
    for url in (LIST, RECORD, detail(complaint)):
        response = client.get(url)
        assert response.status_code == 302
        assert "/accounts/login/" in response["Location"]
    assert client.post(detail(complaint, "acknowledge")).status_code == 302
    assert Complaint.objects.get().acknowledged_at is None


def test_staff_and_managers_open_the_list_the_form_and_the_page(client, complaint, staff, manager):
    for user in (staff, manager):
        client.force_login(user)
        assert client.get(LIST).status_code == 200
        assert client.get(RECORD).status_code == 200
        assert client.get(detail(complaint)).status_code == 200


def test_a_complaint_on_another_sites_incident_is_hidden_from_staff_but_not_managers(client, manager):
    here, there = LocationFactory(), LocationFactory()
    staff_here = UserFactory(username="here", location=here)
    elsewhere = record(by=UserFactory(username="there", location=there))
    assert elsewhere.incident.location == there
    client.force_login(staff_here)
    assert client.get(detail(elsewhere)).status_code == 404
    assert client.post(detail(elsewhere, "acknowledge")).status_code == 404
    assert elsewhere.reference not in client.get(LIST).content.decode()
    client.force_login(manager)
    assert client.get(detail(elsewhere)).status_code == 200
    assert elsewhere.reference in client.get(LIST).content.decode()


def test_a_user_without_a_role_is_refused(client, complaint):
    client.force_login(UserFactory(username="norole", role=None))
    assert client.get(LIST).status_code == 403


# --- Recording ---------------------------------------------------------------------------------------


def form_data(**overrides) -> dict:
    data = {
        "received_by": "phone",
        "received_on": today().isoformat(),
        "subject_area": "attitude",
        "description": "The patient says the receptionist was rude when they asked for a call back.",
        "severity": "high",
        "patient_consented": "on",
        "patient_name": "Mary Seacole",
        "patient_phone": "07700 900123",
        "contact_preference": "phone",
    }
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


def test_staff_record_a_phoned_complaint_which_opens_an_incident_and_starts_the_clock(staff_client, staff):
    response = staff_client.post(RECORD, form_data())
    complaint = Complaint.objects.select_related("incident").get()
    assert response.status_code == 302
    assert response["Location"] == detail(complaint)
    assert complaint.incident.category == "attitude"
    assert complaint.incident.reporter == staff
    assert complaint.acknowledge_by > complaint.received_on
    assert complaint.incident.timeline.filter(body__startswith="Formal complaint").exists()
    assert AuditEvent.objects.filter(
        target_label=f"complaint {complaint.reference}", action="created"
    ).exists()


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"description": ""}, "Write down the complaint."),
        ({"received_by": "online"}, "Select a valid choice"),
        ({"received_on": "31/02/2026"}, "Enter a date like 2026-11-30."),
        ({"received_on": "2099-01-01"}, "cannot be in the future"),
        ({"subject_area": ""}, "Choose what the complaint is about."),
        ({"patient_consented": None}, "Tick the consent box"),
        ({"patient_phone": ""}, "Give a phone number to reply by phone."),
        ({"contact_preference": "letter"}, "Give a postal address to reply by letter."),
    ],
)
def test_a_refused_complaint_says_why_and_writes_nothing(staff_client, overrides, message):
    response = staff_client.post(RECORD, form_data(**overrides))
    assert response.status_code == 400
    assert message in response.content.decode()
    assert not Complaint.objects.exists()
    assert not Incident.objects.exists()


# --- The actions -----------------------------------------------------------------------------------


def test_acknowledging_records_it_once_and_acknowledges_the_incident(staff_client, complaint):
    assert staff_client.post(detail(complaint, "acknowledge")).status_code == 302
    assert staff_client.post(detail(complaint, "acknowledge")).status_code == 302
    complaint.refresh_from_db()
    complaint.incident.refresh_from_db()
    assert complaint.acknowledged_at is not None
    assert complaint.incident.status == Incident.Status.ACKNOWLEDGED
    rows = complaint.incident.timeline.filter(body__startswith="Complaint acknowledged")
    assert rows.count() == 1
    assert (
        AuditEvent.objects.filter(target_label=f"complaint {complaint.reference}", action="changed").count()
        == 1
    )


def test_agreeing_extending_and_answering_each_leave_a_timeline_row(staff_client, complaint):
    agreed = today() + timedelta(days=20)
    assert staff_client.post(detail(complaint, "agree"), {"on": agreed.isoformat()}).status_code == 302
    later = agreed + timedelta(days=14)
    response = staff_client.post(
        detail(complaint, "extend"), {"new_date": later.isoformat(), "reason": "Waiting for the hospital."}
    )
    assert response.status_code == 302
    response = staff_client.post(
        detail(complaint, "respond"), {"outcome": "partly_upheld", "summary": "We apologised and explained."}
    )
    assert response.status_code == 302
    complaint.refresh_from_db()
    assert complaint.response_due_on == later
    assert complaint.outcome == "partly_upheld"
    assert ComplaintExtension.objects.get().previous_date == agreed
    bodies = list(complaint.incident.timeline.filter(kind=FollowUp.Kind.NOTE).values_list("body", flat=True))
    assert any(b.startswith("Final response agreed") for b in bodies)
    assert any("Waiting for the hospital." in b for b in bodies)
    assert any(b.startswith("Final response sent: partly upheld") for b in bodies)
    page = staff_client.get(detail(complaint)).content.decode()
    assert "This complaint has had its final response." in page


@pytest.mark.parametrize(
    ("action", "data", "message"),
    [
        ("agree", {"on": "2020-01-01"}, "cannot be in the past"),
        ("agree", {"on": ""}, "Give a date."),
        ("extend", {"new_date": "2030-01-01", "reason": "x"}, "Agree a response date first"),
        ("respond", {"outcome": "upheld", "summary": ""}, "Say briefly what the response told the patient."),
        ("respond", {"outcome": "maybe"}, "Select a valid choice"),
    ],
)
def test_a_refused_action_says_why_with_a_400_and_changes_nothing(
    staff_client, complaint, action, data, message
):
    response = staff_client.post(detail(complaint, action), data)
    assert response.status_code == 400
    assert message in response.content.decode()
    fresh = Complaint.objects.get()
    assert (fresh.response_due_on, fresh.responded_at, fresh.outcome) == (None, None, "")


def test_an_extension_must_move_the_date_later_and_say_why(staff_client, complaint):
    agreed = today() + timedelta(days=10)
    staff_client.post(detail(complaint, "agree"), {"on": agreed.isoformat()})
    response = staff_client.post(detail(complaint, "extend"), {"new_date": agreed.isoformat(), "reason": ""})
    assert response.status_code == 400
    page = response.content.decode()
    assert "The new date must be after" in page or "Say why the response needs more time." in page
    assert not ComplaintExtension.objects.exists()


def test_a_withdrawn_complaint_needs_no_summary_and_cannot_be_answered_again(staff_client, complaint):
    assert staff_client.post(detail(complaint, "respond"), {"outcome": "withdrawn"}).status_code == 302
    again = staff_client.post(detail(complaint, "respond"), {"outcome": "upheld", "summary": "x"})
    assert again.status_code == 400
    assert Complaint.objects.get().outcome == "withdrawn"


# --- The list --------------------------------------------------------------------------------------


def test_the_list_filters_by_clock_and_subject(manager_client, staff):
    overdue = record(by=staff, received_on=today() - timedelta(days=14), now=timezone.now())
    fresh = record(by=staff, subject_area="prescribing")
    page = manager_client.get(LIST, {"clock": "ack_overdue"}).content.decode()
    assert overdue.reference in page
    assert fresh.reference not in page
    assert "Acknowledgement overdue" in page
    page = manager_client.get(LIST, {"subject_area": "prescribing"}).content.decode()
    assert fresh.reference in page
    assert overdue.reference not in page


def test_the_list_shows_an_empty_state(manager_client):
    assert "No open complaints." in manager_client.get(LIST).content.decode()


def test_the_list_reads_in_the_same_number_of_queries_for_3_or_20_complaints(
    manager_client, staff, django_assert_max_num_queries, count_queries
):
    for _ in range(3):
        record(by=staff)
    few = count_queries(lambda: manager_client.get(LIST))
    for _ in range(17):
        record(by=staff)
    many = count_queries(lambda: manager_client.get(LIST))
    assert many == few
    with django_assert_max_num_queries(few):
        manager_client.get(LIST)


def test_viewing_a_patients_contact_details_is_audited(manager_client, complaint):
    page = manager_client.get(detail(complaint)).content.decode()
    assert "ada@example.org" in page
    assert AuditEvent.objects.filter(action="viewed", target_label__contains=complaint.reference).exists()


def test_the_dashboard_lists_complaints_not_acknowledged_in_time(manager_client, staff):
    overdue = record(by=staff, received_on=today() - timedelta(days=14))
    on_time = record(by=staff)
    page = manager_client.get(reverse("dashboard")).content.decode()
    section = page.split('id="attention-complaints_acknowledgement_overdue-list"', 1)[1].split(
        "</section>", 1
    )[0]
    assert "Complaints not acknowledged in time" in section
    assert overdue.reference in section
    assert on_time.reference not in section


def test_the_incident_page_links_to_its_complaint(staff_client, complaint):
    page = staff_client.get(reverse("recovery:incident_detail", args=[complaint.reference])).content.decode()
    assert detail(complaint) in page


def test_staff_put_a_complaint_under_another_subject_area_once_with_a_timeline_row_and_an_audit_event(
    staff_client, complaint
):
    before = complaint.subject_area
    new = next(value for value, _label in SubjectArea.choices if value != before)
    assert staff_client.post(detail(complaint, "subject"), {"subject_area": new}).status_code == 302
    assert staff_client.post(detail(complaint, "subject"), {"subject_area": new}).status_code == 302  # no-op
    complaint.refresh_from_db()
    assert complaint.subject_area == new
    rows = complaint.incident.timeline.filter(body__startswith="Subject area:")
    assert rows.count() == 1
    assert AuditEvent.objects.filter(action="changed", data__has_key="subject area").count() == 1


@pytest.mark.parametrize("data", [{"subject_area": "weather"}, {}])
def test_a_subject_area_not_on_the_list_is_refused_with_a_400(staff_client, complaint, data):
    before = complaint.subject_area
    response = staff_client.post(detail(complaint, "subject"), data)
    assert response.status_code == 400
    assert "Choose the subject area." in response.content.decode()
    complaint.refresh_from_db()
    assert complaint.subject_area == before
