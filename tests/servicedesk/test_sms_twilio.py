"""Texts through Twilio: sent by the real backend to a local fake of Twilio's API, retried when
Twilio is busy, refused for good with no number in the error, and their delivery receipts
recorded only when Twilio signed them."""

from __future__ import annotations

import pytest
from django.urls import reverse
from django.utils import timezone

from servicedesk.models import OutboxMessage
from servicedesk.notify import TwilioSmsBackend
from servicedesk.outbox import outbox_deliver, outbox_sms
from tests.fake_twilio import signed

pytestmark = pytest.mark.django_db

Status = OutboxMessage.Status
PHONE, TEXT = "+447700900123", "Hi Pat, tell us how we did: https://practice.example/f/secret-token/"


@pytest.fixture(autouse=True)
def no_waiting_between_tries(monkeypatch):
    monkeypatch.setattr(TwilioSmsBackend, "retry_delays", (0.0, 0.0))


def _sent_sms(key: str = "sms:1") -> OutboxMessage:
    outbox_sms(key=key, to=PHONE, text=TEXT, kind="survey_invitation", now=timezone.now())
    message = OutboxMessage.objects.get(key=key)
    outbox_deliver(message_id=message.pk, now=timezone.now())
    message.refresh_from_db()
    return message


def _receipt(client, params: dict[str, str], signature: str | None = None):
    url = reverse("sms_receipt")
    if signature is None:
        signature = signed(f"https://practice.example{url}", params)
    return client.post(url, params, HTTP_X_TWILIO_SIGNATURE=signature)


def test_an_outbox_text_goes_to_twilio_with_a_status_callback_and_keeps_twilios_id(fake_twilio, settings):
    settings.SMS_SENDER = "Riverside"
    message = _sent_sms()
    [request] = fake_twilio.received
    assert request == {
        "To": PHONE,
        "From": "Riverside",
        "Body": TEXT,
        "StatusCallback": "https://practice.example/sms/receipts/twilio/",
    }
    assert message.status == Status.SENT
    assert message.provider_id == "SM" + "1".rjust(32, "0")
    assert message.text == ""  # the body is not kept once sent


def test_a_busy_or_broken_twilio_is_tried_again_within_the_send(fake_twilio):
    fake_twilio.plan(500, 429)
    message = _sent_sms()
    assert len(fake_twilio.received) == 3
    assert message.status == Status.SENT
    assert message.attempts == 1
    assert message.provider_id.startswith("SM")


def test_twilio_still_failing_after_the_tries_leaves_the_message_to_the_outbox_backoff(fake_twilio):
    fake_twilio.plan(500, 500, 503)
    message = _sent_sms()
    assert len(fake_twilio.received) == 3  # the first try and both retries, then no more
    assert message.status == Status.QUEUED
    assert message.next_attempt_at > timezone.now()
    assert message.last_error == "Twilio refused it: HTTP 503, error 20500"


def test_an_unreachable_twilio_is_a_send_error_the_outbox_retries(fake_twilio, settings):
    settings.TWILIO_API_BASE = "http://127.0.0.1:9"  # the discard port: nothing listens
    message = _sent_sms()
    assert message.status == Status.QUEUED
    assert message.last_error == "Twilio unreachable: ConnectionError"


def test_a_refused_number_fails_at_once_with_twilios_code_and_not_the_number(fake_twilio):
    fake_twilio.plan(400)
    message = _sent_sms()
    assert len(fake_twilio.received) == 1  # a refusal is not tried again: it would be refused again
    assert message.status == Status.FAILED
    assert message.last_error == "Twilio refused it: HTTP 400, error 21211"
    assert PHONE not in message.last_error
    assert "900123" not in message.last_error


def test_wrong_credentials_are_a_refusal_not_a_retry(fake_twilio, settings):
    settings.TWILIO_AUTH_TOKEN = "not-the-token"
    message = _sent_sms()
    assert message.status == Status.FAILED
    assert message.last_error == "Twilio refused it: HTTP 401, error 20003"
    assert fake_twilio.received == []


def test_a_signed_delivered_receipt_records_when_the_text_arrived_once(fake_twilio, client):
    message = _sent_sms()
    params = {"MessageSid": message.provider_id, "MessageStatus": "delivered", "AccountSid": "AC1"}
    received = timezone.now()
    assert _receipt(client, params).status_code == 200
    message.refresh_from_db()
    assert received <= message.delivered_at <= timezone.now()
    first = message.updated_at
    assert _receipt(client, params).status_code == 200  # Twilio's retry, or a replay
    message.refresh_from_db()
    assert message.updated_at == first
    assert message.status == Status.SENT


def test_a_signed_undelivered_receipt_puts_the_text_on_the_failed_page(fake_twilio, client, manager_client):
    message = _sent_sms()
    params = {"MessageSid": message.provider_id, "MessageStatus": "undelivered", "ErrorCode": "30003"}
    assert _receipt(client, params).status_code == 200
    assert _receipt(client, params).status_code == 200
    message.refresh_from_db()
    assert message.status == Status.FAILED
    assert message.last_error == "Not delivered: the provider reported it undelivered, error 30003."
    page = manager_client.get(reverse("outbox_failed")).content.decode()
    assert "reported it undelivered, error 30003" in page
    assert "Its text is not kept after sending" in page  # nothing left to "Send again"
    assert reverse("outbox_send_again", args=[message.pk]) not in page
    manager_client.post(reverse("outbox_send_again", args=[message.pk]))
    message.refresh_from_db()
    assert message.status == Status.FAILED  # an empty text is never sent


def test_a_late_delivered_receipt_after_a_failure_changes_nothing(fake_twilio, client):
    message = _sent_sms()
    _receipt(client, {"MessageSid": message.provider_id, "MessageStatus": "failed"})
    _receipt(client, {"MessageSid": message.provider_id, "MessageStatus": "delivered"})
    message.refresh_from_db()
    assert (message.status, message.delivered_at) == (Status.FAILED, None)


def test_a_receipt_on_the_way_changes_nothing(fake_twilio, client):
    message = _sent_sms()
    assert _receipt(client, {"MessageSid": message.provider_id, "MessageStatus": "sent"}).status_code == 200
    message.refresh_from_db()
    assert (message.status, message.delivered_at) == (Status.SENT, None)


def test_a_receipt_for_a_message_we_do_not_know_is_accepted_and_writes_nothing(fake_twilio, client):
    message = _sent_sms()
    before = OutboxMessage.objects.values().get()
    params = {"MessageSid": "SM" + "f" * 32, "MessageStatus": "undelivered"}
    assert _receipt(client, params).status_code == 200
    assert OutboxMessage.objects.values().get() == before
    assert message.provider_id != params["MessageSid"]


@pytest.mark.parametrize(
    "signature",
    [
        "",  # none
        "bm90IGEgc2lnbmF0dXJl",  # made up
        signed("https://practice.example/sms/receipts/twilio/", {"MessageSid": "x"}),  # for other fields
        signed("https://practice.example/sms/receipts/twilio/", {}, token="another-account"),
    ],
)
def test_a_receipt_not_signed_with_our_auth_token_is_refused_and_writes_nothing(
    fake_twilio, client, signature
):
    message = _sent_sms()
    before = OutboxMessage.objects.values().get()
    params = {"MessageSid": message.provider_id, "MessageStatus": "undelivered"}
    assert _receipt(client, params, signature=signature).status_code == 403
    assert OutboxMessage.objects.values().get() == before


def test_a_receipt_signed_for_another_address_is_refused(fake_twilio, client):
    message = _sent_sms()
    params = {"MessageSid": message.provider_id, "MessageStatus": "delivered"}
    forged = signed("https://attacker.example/sms/receipts/twilio/", params)
    assert _receipt(client, params, signature=forged).status_code == 403
    message.refresh_from_db()
    assert message.delivered_at is None


def test_receipts_are_refused_when_no_twilio_account_is_configured(client, settings):
    settings.TWILIO_AUTH_TOKEN = ""  # an empty key would make every signature computable
    params = {"MessageSid": "SM1", "MessageStatus": "delivered"}
    url = "http://testserver" + reverse("sms_receipt")
    assert _receipt(client, params, signature=signed(url, params, token="")).status_code == 403


def test_receipts_are_posted_not_fetched(client):
    assert client.get(reverse("sms_receipt")).status_code == 405
