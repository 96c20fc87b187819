"""Access and erasure requests reach every table on the declared list of personal data.

A patient leaves feedback with their name, email, phone and words; it opens an incident that
staff work, noting the call, resolving it, asking "did we put it right?"; their invitation went
through the outbox. The access request lists every row; after the erasure no column of any table
in the database holds their name, address, number or words, and the figures are what they were.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.cache import cache
from django.db import connection
from django.urls import reverse
from django.utils import timezone

from feedback import invitations
from feedback.forms import Answered
from feedback.models import Answer, Invitation, Response, ThemeMention
from feedback.services import Where, response_submit
from recovery import services as recovery
from recovery.models import FollowUp, Incident
from servicedesk.audit import log_action
from servicedesk.metrics import Period, registry
from servicedesk.models import OutboxMessage
from servicedesk.privacy import MARKER, personal_data
from servicedesk.security.models import AuditEvent
from tests.factories import QuestionFactory

FIRST_NAME = "Zebedee"
NAME = "Zebedee Quillfeather"
EMAIL = "zebedee.quill@example.org"
PHONE = "07700 900461"
WORDS = "The receptionist shouted about my wobbly-kneecap appointment and nobody apologised."
# What must be nowhere after the erasure, as a database search would look for it.
CANARIES = ("Zebedee", "Quillfeather", "zebedee.quill", "7700900461", "7700 900461", "wobbly-kneecap")


@pytest.fixture
def journey(invite, survey, manager, staff, django_capture_on_commit_callbacks):
    """The patient's journey through every pillar, and another patient's feedback beside it."""
    now = timezone.now()
    fft = QuestionFactory(survey=survey, kind="fft")
    comment = QuestionFactory(survey=survey, kind="text")
    _outcome, invitation = invite(email=EMAIL, phone=PHONE, first_name=FIRST_NAME, now=now)
    message = invitation.messages.get()
    outbox_id = invitations.message_hand_over(message_id=message.pk, now=message.due_at)
    assert OutboxMessage.objects.get(pk=outbox_id).to == "+447700900461"  # by text message

    def answer(*, text: str, contact: dict, invitation: Invitation | None = None) -> Response:
        with django_capture_on_commit_callbacks(execute=True):  # the incident opens after commit
            return response_submit(
                survey=survey,
                answers=[Answered(fft, choice="very_poor", value=1), Answered(comment, text=text)],
                channel="link" if invitation else "kiosk",
                language="en",
                where=Where(),
                contact=contact,
                now=now,
                invitation=invitation,
            )

    contact = {
        "consent_to_contact": True,
        "contact_name": NAME,
        "contact_email": EMAIL,
        "contact_phone": PHONE,
    }
    response = answer(text=WORDS, contact=contact, invitation=invitation)
    answer(text="Waited an hour at reception, very rude.", contact={"consent_to_contact": False})

    incident = Incident.objects.get(source_response=response)
    assert (incident.patient_name, incident.patient_email) == (NAME, EMAIL)
    incident = recovery.incident_acknowledge(incident=incident, by=staff, now=now)
    recovery.incident_note(incident=incident, by=staff, body=f"{NAME} rang from {PHONE} again.", now=now)
    recovery.incident_log_contact(
        incident=incident, by=staff, channel="phone", outcome="apologised",
        body=f"Spoke with {FIRST_NAME}; she repeated: {WORDS}", now=now,
    )  # fmt: skip
    incident = recovery.incident_start(incident=incident, by=staff, now=now)
    recovery.incident_resolve(
        incident=incident,
        by=staff,
        summary=f"Apologised to {NAME} in person.",
        root_cause="Rota gap",
        now=now,
    )
    recovery.loop_link_send(incident=incident, by=staff, now=now)
    # An event written before the log's rule held (no patient data): it quoted the address.
    log_action(
        None, AuditEvent.Action.VIEWED, manager, {"searched for": EMAIL}, target_type="feedback.contact"
    )
    return {"invitation": invitation, "response": response, "incident": incident}


def _figures() -> dict[str, object]:
    """Every registered figure over the last 30 days, and the rows they count."""
    cache.clear()  # a cached figure would pass whatever the erasure did
    period = Period.last_days(30, now=timezone.now() + timedelta(days=1))
    figures: dict[str, object] = {metric.key: metric.value(period=period) for metric in registry}
    for model in (Invitation, Response, Answer, ThemeMention, Incident, FollowUp):
        figures[model._meta.label] = model.objects.count()
    figures["negative responses"] = Response.objects.filter(is_negative=True).count()
    figures["incident statuses"] = sorted(Incident.objects.values_list("status", flat=True))
    return figures


def _columns_holding(value: str) -> list[str]:
    """Every text, JSON or binary column of every table in the database that holds ``value``."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT table_name, column_name, data_type FROM information_schema.columns"
            " WHERE table_schema = current_schema()"
            " AND data_type IN ('text', 'character varying', 'json', 'jsonb', 'bytea')"
        )
        columns = cursor.fetchall()
        found = []
        for table, column, data_type in columns:
            if data_type == "bytea":
                where = f"position(convert_to(%s, 'UTF8') in \"{column}\") > 0"
            else:
                where = f"\"{column}\"::text ILIKE '%%' || %s || '%%'"
            cursor.execute(f'SELECT count(*) FROM "{table}" WHERE {where}', [value])  # noqa: S608 — names from the catalogue
            if cursor.fetchone()[0]:
                found.append(f"{table}.{column}")
    return found


def test_the_access_request_lists_every_declared_table_incidents_and_timeline_included(
    journey, manager_client
):
    data = manager_client.post(reverse("invitations:contact_export"), {"contact": EMAIL}).json()

    sections = {item.name for item in personal_data if item.export is not None}
    assert sections <= set(data)
    assert all(item.within in sections for item in personal_data if item.export is None)
    assert [i["first_name"] for i in data["invitations"]] == [FIRST_NAME]
    assert [r["contact_name"] for r in data["responses"]] == [NAME]
    assert WORDS in [a["answer"] for a in data["responses"][0]["answers"]]
    (incident,) = data["incidents"]
    assert (incident["reference"], incident["patient_phone"], incident["what_happened"]) == (
        journey["incident"].reference, PHONE, WORDS,
    )  # fmt: skip
    notes = [entry["text"] for entry in incident["timeline"]]
    assert f"{NAME} rang from {PHONE} again." in notes
    assert sorted(m["kind"] for m in data["messages"]) == [
        "Survey invitation to a patient", "“Did we put it right?” question to a patient",
    ]  # fmt: skip
    assert [e["details"] for e in data["audit events that mention them"]] == [{"searched for": EMAIL}]


def test_the_access_request_finds_the_patient_by_phone_as_staff_typed_it(journey, manager_client):
    Incident.objects.filter(pk=journey["incident"].pk).update(patient_phone="(07700) 900-461")
    data = manager_client.post(reverse("invitations:contact_export"), {"contact": "+44 7700 900461"}).json()
    assert [i["reference"] for i in data["incidents"]] == [journey["incident"].reference]


@pytest.mark.usefixtures("postgres")
def test_after_an_erasure_no_table_holds_the_patient_and_the_figures_are_unchanged(
    journey, manager_client, manager
):
    for canary in CANARIES:
        assert _columns_holding(canary), f"the journey should have stored {canary!r} somewhere"
    before = _figures()

    erased = manager_client.post(reverse("invitations:contact_erase"), {"contact": EMAIL, "confirm": "on"})

    assert erased.status_code == 302
    assert {canary: _columns_holding(canary) for canary in CANARIES} == {canary: [] for canary in CANARIES}
    assert _figures() == before
    # The incident's history survives without the person: every row, its words as the marker.
    incident = Incident.objects.get(pk=journey["incident"].pk)
    assert (incident.status, incident.patient_consented, incident.has_patient_contact) == (
        "resolved",
        False,
        False,
    )
    assert incident.description == MARKER
    assert incident.resolution_summary == f"Apologised to {MARKER} in person."
    assert incident.timeline.filter(body__contains=MARKER).count() == 3  # the note, the call, the resolution
    assert Answer.objects.get(response=journey["response"], text__gt="").text == MARKER
    event = AuditEvent.objects.filter(action="erased", target_type="feedback.contact").get()
    assert (event.actor, event.data["incidents"], event.data["incident timeline entries"]) == (
        manager, 1, incident.timeline.count(),
    )  # fmt: skip
    assert event.data["messages"] == 2


def test_an_erasure_spares_another_patient_who_shares_a_first_name(journey, manager_client, invite):
    _o, other = invite(email="zebedee.other@example.org", first_name=FIRST_NAME)
    manager_client.post(reverse("invitations:contact_erase"), {"contact": EMAIL, "confirm": "on"})
    other.refresh_from_db()
    assert (other.email, other.first_name) == ("zebedee.other@example.org", FIRST_NAME)
    assert other.messages.get().status == "queued"


def test_an_erasure_closes_the_contacts_open_invitations_so_nothing_more_is_sent(invite, manager):
    _o, invitation = invite(email=EMAIL)
    invitations.contact_erase(contact=invitations.Contact.parse(email=EMAIL), by=manager, now=timezone.now())
    invitation.refresh_from_db()
    assert (invitation.status, invitation.email) == ("opted_out", "")
    assert invitation.messages.get().status == "cancelled"
