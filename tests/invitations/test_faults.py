"""Outages and races, against the real Redis and PostgreSQL (skipped locally without them; CI has both)."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta

import pytest
from django.utils import timezone
from kombu import Connection, pools

import servicedesk.tasks  # noqa: F401  (registers the outbox's tasks, as the worker's autodiscovery does)
from feedback import invitations
from feedback.models import Invitation, InvitationMessage
from feedback.tasks import invitations_sweep
from servicedesk import queue
from servicedesk.celery import app as celery_app
from servicedesk.schedule import QUEUES
from tests.concurrency import at_once

UNREACHABLE_BROKER = "redis://127.0.0.1:1/0"  # nothing listens on port 1: connection refused


def _use_broker(url: str) -> None:
    celery_app.conf.broker_url = url
    celery_app.conf.broker_transport_options = {"socket_connect_timeout": 1, "socket_timeout": 2}
    pools.reset()  # kombu's process-wide connection and producer pools
    celery_app._pool = None
    celery_app.amqp._producer_pool = None  # the next publish connects to the new URL


@pytest.fixture
def real_redis_broker(redis_url):
    previous = (celery_app.conf.broker_url, celery_app.conf.broker_transport_options)
    _use_broker(redis_url)
    with Connection(redis_url) as conn:
        for name in QUEUES:
            conn.SimpleQueue(name).clear()
    yield redis_url
    _use_broker(previous[0])
    celery_app.conf.broker_transport_options = previous[1]


def _run_published_tasks(redis_url: str) -> Counter[str]:
    """Act as a worker of every queue: take every task message off the Redis queues and run it (also
    the ones those tasks publish). Returns how many of each task ran."""
    ran: Counter[str] = Counter()
    with Connection(redis_url) as conn:
        queues = [conn.SimpleQueue(name) for name in QUEUES]
        while True:
            for queue in queues:
                try:
                    message = queue.get(timeout=0.5)
                except queue.Empty:
                    continue
                args, kwargs, _embed = message.decode()
                celery_app.tasks[message.headers["task"]].apply(args=args, kwargs=kwargs)
                message.ack()
                ran[message.headers["task"]] += 1
                break
            else:
                return ran


@pytest.mark.django_db(transaction=True)
def test_invitations_created_while_redis_is_down_are_all_stored_and_each_sent_once_when_it_is_back(
    real_redis_broker, invite, mailoutbox
):
    _use_broker(UNREACHABLE_BROKER)
    for _ in range(200):
        outcome, _invitation = invite()  # due at once: each would publish a send task
        assert outcome == "created"
    assert Invitation.objects.count() == 200
    assert InvitationMessage.objects.filter(status="queued").count() == 200
    assert mailoutbox == []

    _use_broker(real_redis_broker)  # Redis is back; the next minute's sweep runs
    report = invitations_sweep()
    assert report["published"] == 200
    invitations_sweep()  # and the one after: nothing published twice within five minutes
    ran = _run_published_tasks(real_redis_broker)
    # Each hand-over also nudges the outbox's delivery task, which finds its message already sent.
    assert ran == {"feedback.tasks.send_invitation_message": 200, "servicedesk.tasks.deliver_message": 200}

    assert len(mailoutbox) == 200
    assert len({m.to[0] for m in mailoutbox}) == 200
    assert InvitationMessage.objects.filter(number=0, status="sent").count() == 200


@pytest.mark.django_db(transaction=True)
def test_a_sweep_during_a_redis_outage_publishes_nothing_and_the_next_one_catches_up(
    real_redis_broker, invite, mailoutbox
):
    _use_broker(UNREACHABLE_BROKER)
    for _ in range(5):
        invite()
    queue.broker.reset()
    assert invitations_sweep()["published"] == 0
    assert InvitationMessage.objects.filter(enqueued_at__isnull=False).count() == 0

    _use_broker(real_redis_broker)
    assert invitations_sweep()["published"] == 5
    _run_published_tasks(real_redis_broker)
    assert len(mailoutbox) == 5


@pytest.mark.django_db(transaction=True)
def test_two_sweeps_at_once_send_no_duplicates(postgres, invite, eager_tasks, mailoutbox):
    now = timezone.now()
    for _ in range(60):
        invite(visit_at=now - timedelta(hours=3), now=now)
    # Same due messages for both sweeps: neither has published anything yet.
    InvitationMessage.objects.update(enqueued_at=None)
    at_once(invitations.invitations_sweep, invitations.invitations_sweep)  # raises what either raised
    assert len(mailoutbox) == 60
    assert len({m.to[0] for m in mailoutbox}) == 60
    assert InvitationMessage.objects.filter(number=0, status="sent").count() == 60
    assert set(InvitationMessage.objects.filter(number=0).values_list("attempts", flat=True)) == {1}


@pytest.mark.django_db(transaction=True)
def test_two_workers_running_the_same_send_task_at_once_send_one_message(postgres, invite, mailoutbox):
    _outcome, invitation = invite()
    message_id = invitation.messages.get().pk

    def send() -> bool:
        return invitations.message_send(message_id=message_id)

    assert sorted(at_once(send, send, send, send)) == [False, False, False, True]
    assert len(mailoutbox) == 1
