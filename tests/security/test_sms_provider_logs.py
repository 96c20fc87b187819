"""Texts through Twilio leave no phone number, message text or link token in the logs: not when
Twilio is busy, not when it refuses the number (its own error quotes it), not from a receipt."""

from __future__ import annotations

import pytest
from django.urls import reverse
from django.utils import timezone

from servicedesk.models import OutboxMessage
from servicedesk.notify import TwilioSmsBackend
from servicedesk.outbox import outbox_deliver, outbox_sms
from tests.fake_twilio import signed

pytestmark = pytest.mark.django_db

CANARY_PHONE = "+447700900517"
CANARY_TEXT = "Canarysmsfirstname, tell us how we did: https://practice.example/f/canarytoken4q9/"
SECRETS = (CANARY_PHONE, "7700900517", "900517", "Canarysmsfirstname", "canarytoken4q9", "tell us how")


def _deliver(key: str) -> OutboxMessage:
    outbox_sms(key=key, to=CANARY_PHONE, text=CANARY_TEXT, kind="survey_invitation", now=timezone.now())
    message = OutboxMessage.objects.get(key=key)
    outbox_deliver(message_id=message.pk, now=timezone.now())
    message.refresh_from_db()
    return message


def test_a_text_busy_refused_sent_and_receipted_through_twilio_logs_no_number_or_text(
    fake_twilio, client, written_logs, monkeypatch
):
    monkeypatch.setattr(TwilioSmsBackend, "retry_delays", (0.0, 0.0))
    fake_twilio.plan(500, 201, 400)
    sent = _deliver("canary:sent")  # busy once, then taken
    refused = _deliver("canary:refused")  # Twilio: "The 'To' number +44… is not a valid phone number."
    url = reverse("sms_receipt")
    receipt = {"MessageSid": sent.provider_id, "MessageStatus": "undelivered", "To": CANARY_PHONE}
    client.post(url, receipt, HTTP_X_TWILIO_SIGNATURE=signed(f"https://practice.example{url}", receipt))
    client.post(url, receipt, HTTP_X_TWILIO_SIGNATURE="forged")

    assert [r["To"] for r in fake_twilio.received] == [CANARY_PHONE] * 3  # the journey did happen
    assert refused.status == OutboxMessage.Status.FAILED
    sent.refresh_from_db()
    assert sent.status == OutboxMessage.Status.FAILED  # the receipt was recorded
    logs = written_logs.getvalue()
    assert "sms survey_invitation sent id=SM" in logs  # the handlers were captured
    assert "error 21211" in logs  # the refusal is logged, by its code
    leaked = [secret for secret in SECRETS if secret in logs]
    assert not leaked, f"{leaked} written to the logs:\n{logs}"
