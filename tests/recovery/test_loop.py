"""Closing the loop: "Did we put it right?" — one question, no login, an unguessable single-use link."""

from __future__ import annotations

import re

import pytest
from django.utils import timezone

from recovery import services
from recovery.models import FollowUp, Incident
from tests.recovery.conftest import covering_every_site, drive_to

Status = Incident.Status
CONTACT = {"patient_consented": True, "patient_name": "Ada", "patient_email": "ada@example.org"}


def sent_link(mailoutbox) -> str:
    return re.search(r"http://\S+/recovery/r/(\S+)/", mailoutbox[-1].body).group(0).split("8000", 1)[1]


@pytest.fixture
def resolved(manager):
    return drive_to(Status.RESOLVED, by=manager, **CONTACT)


@pytest.mark.django_db
def test_the_patient_answers_once_without_logging_in(client, resolved, manager, mailoutbox):
    services.loop_link_send(incident=resolved, by=manager, now=timezone.now())
    assert mailoutbox[0].to == ["ada@example.org"]
    body = mailoutbox[0].body
    assert "Did we put it right?" in body
    assert resolved.title not in body
    link = sent_link(mailoutbox)
    page = client.get(link)
    assert page.status_code == 200
    assert page["Referrer-Policy"] == "no-referrer"
    assert "Did we put it right?" in page.content.decode()

    assert client.post(link, {"answer": "yes"}).status_code == 200
    resolved.refresh_from_db()
    assert resolved.patient_recovered is True
    assert resolved.loop_answered_at is not None
    assert resolved.timeline.filter(kind=FollowUp.Kind.LOOP, author=None).count() == 1

    again = client.post(link, {"answer": "no"})
    assert again.status_code == 404
    assert "not available" in again.content.decode()
    resolved.refresh_from_db()
    assert resolved.patient_recovered is True


@pytest.mark.django_db
def test_unknown_and_used_links_look_the_same(client, resolved, manager, mailoutbox):
    services.loop_link_send(incident=resolved, by=manager, now=timezone.now())
    link = sent_link(mailoutbox)
    client.post(link, {"answer": "no"})
    used = client.get(link)
    unknown = client.get("/recovery/r/not-a-real-token/")
    assert used.status_code == unknown.status_code == 404
    assert used.content == unknown.content
    assert unknown["Referrer-Policy"] == "no-referrer"


@pytest.mark.django_db
def test_not_put_right_is_recorded_as_not_recovered(client, resolved, manager, mailoutbox):
    services.loop_link_send(incident=resolved, by=manager, now=timezone.now())
    client.post(sent_link(mailoutbox), {"answer": "no"})
    resolved.refresh_from_db()
    assert resolved.patient_recovered is False


@pytest.mark.django_db
def test_the_patient_can_ask_not_to_be_contacted_again(client, resolved, manager, mailoutbox):
    services.loop_link_send(incident=resolved, by=manager, now=timezone.now())
    response = client.post(sent_link(mailoutbox), {"answer": "stop"})
    assert "deleted the contact details" in response.content.decode()
    resolved.refresh_from_db()
    assert not resolved.patient_consented
    assert resolved.patient_email == ""
    assert resolved.patient_name == ""
    assert resolved.patient_recovered is None


@pytest.mark.django_db
def test_only_the_tokens_hash_is_stored(resolved, manager, mailoutbox):
    services.loop_link_send(incident=resolved, by=manager, now=timezone.now())
    token = sent_link(mailoutbox).rstrip("/").rsplit("/", 1)[1]
    resolved.refresh_from_db()
    assert len(token) >= 43  # 256 random bits, URL-safe
    assert resolved.loop_token_hash == services.hash_token(token) != token


@pytest.mark.django_db
def test_the_question_goes_by_sms_when_there_is_only_a_phone(manager, sms_outbox):
    incident = drive_to(Status.RESOLVED, by=manager, patient_consented=True, patient_phone="07700 900123")
    assert services.loop_link_send(incident=incident, by=manager, now=timezone.now()) == "text message"
    assert sms_outbox[0].to == "07700 900123"
    assert "/recovery/r/" in sms_outbox[0].body


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("status", "contact", "message"),
    [
        (Status.IN_PROGRESS, CONTACT, "Resolve the incident"),
        (Status.RESOLVED, {}, "did not agree"),
    ],
)
def test_the_question_needs_a_resolved_incident_and_consent(manager, mailoutbox, status, contact, message):
    incident = drive_to(status, by=manager, **contact)
    with pytest.raises(services.TransitionRefused, match=message):
        services.loop_link_send(incident=incident, by=manager, now=timezone.now())
    assert mailoutbox == []


@pytest.mark.django_db
def test_the_question_is_sent_only_once(resolved, manager, mailoutbox):
    services.loop_link_send(incident=resolved, by=manager, now=timezone.now())
    with pytest.raises(services.TransitionRefused, match="already"):
        services.loop_link_send(incident=resolved, by=manager, now=timezone.now())
    assert len(mailoutbox) == 1


@pytest.mark.django_db
def test_a_post_without_an_answer_asks_again(client, resolved, manager, mailoutbox):
    services.loop_link_send(incident=resolved, by=manager, now=timezone.now())
    response = client.post(sent_link(mailoutbox), {"answer": "maybe"})
    assert response.status_code == 400
    assert "choose one of the answers" in response.content.decode()
    resolved.refresh_from_db()
    assert resolved.loop_answered_at is None


@pytest.mark.django_db
def test_staff_send_the_question_from_the_incident_page(staff_client, staff, resolved, mailoutbox):
    covering_every_site(staff)
    url = f"/recovery/incidents/{resolved.reference}/ask_patient/"
    page = staff_client.get(f"/recovery/incidents/{resolved.reference}/").content.decode()
    assert "Ask the patient: did we put it right?" in page
    response = staff_client.post(url, follow=True)
    assert "Sent the patient" in response.content.decode()
    assert mailoutbox[0].to == ["ada@example.org"]
    again = staff_client.post(url, follow=True).content.decode()
    assert "already been sent" in again
    assert len(mailoutbox) == 1


@pytest.mark.django_db
def test_a_patient_whose_browser_blocks_cookies_can_still_answer(resolved, manager, mailoutbox):
    from django.test import Client

    services.loop_link_send(incident=resolved, by=manager, now=timezone.now())
    strict = Client(enforce_csrf_checks=True)  # no CSRF cookie was ever set
    assert strict.post(sent_link(mailoutbox), {"answer": "yes"}).status_code == 200
    resolved.refresh_from_db()
    assert resolved.patient_recovered is True


@pytest.mark.django_db
def test_asking_not_to_be_contacted_also_forgets_the_messages_held_for_them(
    client, resolved, manager, refused_addresses
):
    from servicedesk.models import OutboxMessage

    refused_addresses.add("ada@example.org")  # the question is still waiting to be retried
    services.loop_link_send(incident=resolved, by=manager, now=timezone.now())
    message = OutboxMessage.objects.get(to="ada@example.org")
    token = re.search(r"/recovery/r/([^/\s]+)/", message.text).group(1)
    services.loop_opt_out(token=token, now=timezone.now())
    assert not OutboxMessage.objects.filter(to="ada@example.org").exists()
