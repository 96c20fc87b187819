"""The outbox: every email and SMS is written with the decision to send it, sent once, retried,
and shown to managers when it fails."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection, transaction
from django.urls import reverse
from django.utils import timezone

from servicedesk import notify
from servicedesk.models import OutboxMessage
from servicedesk.outbox import (
    message_key,
    outbox_deliver,
    outbox_email,
    outbox_erase_recipient,
    outbox_sms,
    outbox_sweep,
)
from servicedesk.tasks import deliver_message, sweep_outbox
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

Status = OutboxMessage.Status


def _email(key: str = "test:1", to: str = "maya@practice.example", **fields) -> OutboxMessage:
    outbox_email(key=key, to=to, subject="Hello", text="Body", kind="welcome", now=timezone.now(), **fields)
    return OutboxMessage.objects.get(key=key)


def test_the_same_key_twice_is_one_message_and_one_send(mailoutbox):
    assert outbox_email(key="k", to="a@x.example", subject="s", text="t", kind="welcome", now=timezone.now())
    assert not outbox_email(
        key="k", to="a@x.example", subject="s", text="t", kind="welcome", now=timezone.now()
    )
    message = OutboxMessage.objects.get()
    assert deliver_message(message.pk) is True
    assert deliver_message(message.pk) is False  # a duplicate task delivery sends nothing
    assert sweep_outbox() == 0
    assert len(mailoutbox) == 1


def test_a_message_is_sent_after_commit_by_a_task(django_capture_on_commit_callbacks, monkeypatch):
    published = []
    monkeypatch.setattr(
        "servicedesk.queue.publish", lambda task, *args, **kw: published.append((task.name, args))
    )
    with django_capture_on_commit_callbacks(execute=True):
        message = _email()
    assert published == [("servicedesk.tasks.deliver_message", (message.pk,))]


def test_a_rolled_back_decision_leaves_no_message():
    def decide_then_fail():
        with transaction.atomic():
            _email()
            raise RuntimeError("the service's transaction failed")

    with pytest.raises(RuntimeError):
        decide_then_fail()
    assert not OutboxMessage.objects.exists()


def test_a_refused_message_waits_longer_each_time_then_fails_for_a_manager(refused_addresses, settings):
    settings.OUTBOX_MAX_ATTEMPTS = 3
    refused_addresses.add("maya@practice.example")
    message = _email()
    now = timezone.now()
    waits = []
    for _attempt in range(3):
        message.refresh_from_db()
        assert outbox_deliver(message_id=message.pk, now=max(now, message.next_attempt_at)) is False
        message.refresh_from_db()
        waits.append(message.next_attempt_at - max(now, message.next_attempt_at))
        now = message.next_attempt_at
    message.refresh_from_db()
    assert message.status == Status.FAILED
    assert message.attempts == 3
    assert "SMTPRecipientsRefused" in message.last_error
    assert "maya@practice.example" not in message.last_error  # shown to managers: the address masked
    assert "m•••@practice.example" in message.last_error


def test_backoff_doubles_from_thirty_seconds(refused_addresses):
    refused_addresses.add("maya@practice.example")
    message = _email()
    start = timezone.now()
    outbox_deliver(message_id=message.pk, now=start)
    message.refresh_from_db()
    assert message.next_attempt_at - start == timedelta(seconds=30)
    assert outbox_deliver(message_id=message.pk, now=start + timedelta(seconds=10)) is False  # not due yet
    outbox_deliver(message_id=message.pk, now=start + timedelta(seconds=30))
    message.refresh_from_db()
    assert message.next_attempt_at - (start + timedelta(seconds=30)) == timedelta(seconds=60)


def test_one_recipients_refusal_does_not_resend_to_the_others(mailoutbox, refused_addresses):
    refused_addresses.add("tom@practice.example")
    for to in ("maya@practice.example", "tom@practice.example", "ali@practice.example"):
        _email(key=message_key("list", to), to=to)
    outbox_sweep(now=timezone.now())
    later = timezone.now() + timedelta(hours=1)
    refused_addresses.clear()
    outbox_sweep(now=later)
    assert sorted(m.to[0] for m in mailoutbox) == [
        "ali@practice.example",
        "maya@practice.example",
        "tom@practice.example",
    ]


def test_a_send_interrupted_by_a_dead_worker_is_failed_not_sent_twice(mailoutbox, settings):
    message = _email()
    claimed_at = timezone.now() - timedelta(seconds=settings.OUTBOX_SENDING_TIMEOUT + 1)
    OutboxMessage.objects.filter(pk=message.pk).update(status=Status.SENDING, claimed_at=claimed_at)
    assert outbox_sweep(now=timezone.now()) == 0
    message.refresh_from_db()
    assert message.status == Status.FAILED
    assert "Interrupted" in message.last_error
    assert len(mailoutbox) == 0


def test_a_sent_message_keeps_no_copy_of_its_body_and_is_forgotten_after_the_retention(settings):
    message = _email()
    assert outbox_deliver(message_id=message.pk, now=timezone.now())
    message.refresh_from_db()
    assert (message.status, message.text, message.html) == (Status.SENT, "", "")
    assert message.provider_id
    outbox_sweep(now=timezone.now() + timedelta(days=settings.OUTBOX_RETENTION_DAYS + 1))
    assert not OutboxMessage.objects.exists()


def test_sms_go_through_the_sms_backend(sms_outbox):
    outbox_sms(
        key="sms:1", to="+447700900123", text="Did we put it right?", kind="recovery_loop", now=timezone.now()
    )
    assert [m.to for m in sms_outbox] == ["+447700900123"]


def test_erasing_a_recipient_forgets_their_messages():
    _email(key="a", to="patient@example.org")
    _email(key="b", to="maya@practice.example")
    assert outbox_erase_recipient(to="patient@example.org") == 1
    assert list(OutboxMessage.objects.values_list("to", flat=True)) == ["maya@practice.example"]


def test_a_long_key_is_hashed_to_fit():
    key = message_key("incident_escalation", "-".join(str(n) for n in range(200)), "x@y.example")
    assert len(key) <= 200
    assert key.startswith("incident_escalation:sha256:")


@pytest.mark.django_db(transaction=True)
def test_the_provider_is_called_with_no_transaction_open(monkeypatch):
    """No row lock is held while the mail server takes its time."""
    seen = []
    real_send = notify.send_email

    def spy(**kwargs):
        seen.append(connection.in_atomic_block)
        return real_send(**kwargs)

    monkeypatch.setattr(notify, "send_email", spy)
    message = _email()
    assert outbox_deliver(message_id=message.pk, now=timezone.now())
    assert seen == [False]


# --- The managers' page ------------------------------------------------------------------------


@pytest.fixture
def failed_message():
    message = _email(to="patient@example.org")
    OutboxMessage.objects.filter(pk=message.pk).update(
        status=Status.FAILED, attempts=5, last_error="550 no such user"
    )
    return message


def test_managers_see_failed_messages_with_the_address_masked(manager_client, failed_message):
    response = manager_client.get(reverse("outbox_failed"))
    html = response.content.decode()
    assert "Welcome email with a set-password link" in html
    assert "p•••@example.org" in html
    assert "patient@example.org" not in html
    assert "550 no such user" in html


def test_send_again_queues_it_afresh_and_it_arrives(manager_client, failed_message, mailoutbox):
    response = manager_client.post(reverse("outbox_send_again", args=[failed_message.pk]))
    assert response.status_code == 302
    failed_message.refresh_from_db()
    assert (failed_message.status, failed_message.attempts) == (Status.QUEUED, 0)
    assert [m.to for m in mailoutbox] == [["patient@example.org"]]
    again = manager_client.post(reverse("outbox_send_again", args=[failed_message.pk]), follow=True)
    assert "no longer failed" in again.content.decode()


def test_the_empty_page_says_what_would_appear(manager_client):
    assert "No failed messages" in manager_client.get(reverse("outbox_failed")).content.decode()


def test_the_failed_list_runs_the_same_queries_however_many_messages(manager_client, count_queries):
    for n in range(3):
        OutboxMessage.objects.filter(pk=_email(key=f"f{n}").pk).update(status=Status.FAILED)
    few = count_queries(lambda: manager_client.get(reverse("outbox_failed")))
    for n in range(3, 30):
        OutboxMessage.objects.filter(pk=_email(key=f"f{n}").pk).update(status=Status.FAILED)
    assert count_queries(lambda: manager_client.get(reverse("outbox_failed"))) == few


@pytest.mark.parametrize("role", ["anonymous", "staff"])
def test_only_managers_may_see_or_resend_failed_messages(client, failed_message, role):
    if role == "staff":
        client.force_login(UserFactory())
    assert client.get(reverse("outbox_failed")).status_code in (302, 403)
    assert client.post(reverse("outbox_send_again", args=[failed_message.pk])).status_code in (302, 403)
    failed_message.refresh_from_db()
    assert failed_message.status == Status.FAILED


def test_send_again_is_post_only(manager_client, failed_message):
    assert manager_client.get(reverse("outbox_send_again", args=[failed_message.pk])).status_code == 405


def test_a_sweep_stops_sending_after_its_time_and_the_next_one_goes_on(mailoutbox):
    for n in range(3):
        _email(key=f"backlog:{n}", to=f"p{n}@practice.example")
    assert outbox_sweep(now=timezone.now(), seconds=0) == 0
    assert OutboxMessage.objects.filter(status=Status.QUEUED).count() == 3
    assert outbox_sweep(now=timezone.now()) == 3
