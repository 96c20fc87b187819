"""A text Twilio accepted and later reported undelivered: the invitation shows it failed, and the
reminder that would go to the same number is withdrawn — through the signed receipt webhook."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from feedback.models import Invitation, InvitationMessage
from feedback.tasks import invitations_sweep
from servicedesk.models import OutboxMessage
from servicedesk.notify import TwilioSmsBackend
from servicedesk.outbox import outbox_record_receipt
from tests.fake_twilio import signed
from tests.invitations.conftest import refresh

pytestmark = pytest.mark.django_db
MessageStatus = InvitationMessage.Status
PHONE = "+447700900123"


@pytest.fixture(autouse=True)
def no_waiting_between_tries(monkeypatch):
    monkeypatch.setattr(TwilioSmsBackend, "retry_delays", (0.0, 0.0))


def _receipt(client, sid: str, status: str, code: str = "30003"):
    params = {"MessageSid": sid, "MessageStatus": status, "ErrorCode": code}
    url = reverse("sms_receipt")
    signature = signed(f"https://practice.example{url}", params)
    return client.post(url, params, HTTP_X_TWILIO_SIGNATURE=signature)


def _sent_text(invite, eager_tasks) -> tuple[Invitation, InvitationMessage]:
    _outcome, invitation = invite(phone=PHONE)
    invitations_sweep()
    message = invitation.messages.get(number=0)
    assert (message.status, message.channel) == (MessageStatus.SENT, InvitationMessage.Channel.SMS)
    assert refresh(invitation).status == Invitation.Status.SENT
    return invitation, message


def test_an_undelivered_first_text_fails_the_invitation_and_withdraws_its_reminder(
    invite, eager_tasks, fake_twilio, client, manager_client
):
    invitation, message = _sent_text(invite, eager_tasks)
    reminder = invitation.messages.get(number=1)
    assert reminder.status == MessageStatus.QUEUED

    assert _receipt(client, message.provider_id, "undelivered").status_code == 200
    report = invitations_sweep()

    assert report["undelivered"] == 1
    message.refresh_from_db()
    assert message.status == MessageStatus.FAILED
    assert message.last_error == "Not delivered: the provider reported it undelivered, error 30003."
    assert refresh(invitation).status == Invitation.Status.FAILED
    reminder.refresh_from_db()
    assert (reminder.status, reminder.last_error) == (
        MessageStatus.CANCELLED,
        "the message before it was not delivered",
    )
    page = manager_client.get(reverse("outbox_failed")).content.decode()
    assert "error 30003" in page
    assert PHONE not in page  # masked, as on every page


def test_the_receipt_and_the_sweep_twice_record_one_failure_and_send_nothing_more(
    invite, eager_tasks, fake_twilio, client, time_machine, rules
):
    invitation, message = _sent_text(invite, eager_tasks)
    for _ in range(2):
        _receipt(client, message.provider_id, "undelivered")
        assert invitations_sweep()["undelivered"] in (0, 1)
    assert InvitationMessage.objects.filter(invitation=invitation, status=MessageStatus.FAILED).count() == 1
    time_machine.move_to(timezone.now() + timedelta(days=rules.reminder_after_days + 1), tick=False)
    invitations_sweep()
    assert len(fake_twilio.received) == 1  # the reminder never went to the same dead number


def test_an_invitation_answered_before_the_receipt_stays_completed(invite, eager_tasks, fake_twilio, client):
    invitation, message = _sent_text(invite, eager_tasks)
    Invitation.objects.filter(pk=invitation.pk).update(status=Invitation.Status.COMPLETED)
    _receipt(client, message.provider_id, "failed")
    invitations_sweep()
    message.refresh_from_db()
    assert message.status == MessageStatus.FAILED
    assert refresh(invitation).status == Invitation.Status.COMPLETED


def test_an_undelivered_reminder_fails_only_the_reminder(invite, eager_tasks, sms_outbox):
    invitation, first = _sent_text(invite, eager_tasks)
    reminder = invitation.messages.get(number=1)
    outbox = OutboxMessage.objects.create(
        key="reminder-test", kind="survey_reminder", channel="sms", to=PHONE,
        status=OutboxMessage.Status.SENT, provider_id="SMreminder", sent_at=timezone.now(),
        next_attempt_at=timezone.now(),
    )  # fmt: skip
    InvitationMessage.objects.filter(pk=reminder.pk).update(status=MessageStatus.SENT, outbox=outbox)
    Invitation.objects.filter(pk=invitation.pk).update(status=Invitation.Status.REMINDED)
    assert outbox_record_receipt(
        provider_id="SMreminder", status="undelivered", error_code="", now=timezone.now()
    )
    invitations_sweep()
    reminder.refresh_from_db()
    first.refresh_from_db()
    assert (reminder.status, first.status) == (MessageStatus.FAILED, MessageStatus.SENT)
    assert refresh(invitation).status == Invitation.Status.REMINDED


def test_a_delivered_receipt_changes_nothing_on_the_invitation(invite, eager_tasks, fake_twilio, client):
    invitation, message = _sent_text(invite, eager_tasks)
    _receipt(client, message.provider_id, "delivered")
    assert invitations_sweep()["undelivered"] == 0
    message.refresh_from_db()
    assert message.status == MessageStatus.SENT
    assert refresh(invitation).status == Invitation.Status.SENT
