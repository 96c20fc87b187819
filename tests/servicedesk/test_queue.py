from unittest import mock

from servicedesk import queue
from servicedesk.tasks import send_due_welcome_emails


def test_after_one_refusal_the_process_stops_trying_the_broker_for_a_while(broker_down, caplog):
    with mock.patch.object(
        send_due_welcome_emails, "apply_async", wraps=send_due_welcome_emails.apply_async
    ) as sent:
        assert queue.publish(send_due_welcome_emails) is False
        assert queue.publish(send_due_welcome_emails) is False
    assert sent.call_count == 1  # the second publish did not pay for another connection attempt
    assert "broker unavailable" in caplog.text


def test_a_sweep_probes_the_broker_even_while_paused(broker_down):
    queue.broker.trip()
    with mock.patch.object(send_due_welcome_emails, "apply_async") as sent:
        assert queue.publish(send_due_welcome_emails, probe=True) is True
    assert sent.call_count == 1
    assert queue.broker.is_open()  # a publish that went through ends the pause
