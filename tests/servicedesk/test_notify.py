import logging

import pytest

from servicedesk import notify


def test_email_goes_through_django_email_backend_with_text_and_html(mailoutbox):
    message_id = notify.send_email(to="pat@example.org", subject="Hello", text="Plain", html="<p>Rich</p>")
    assert len(mailoutbox) == 1
    sent = mailoutbox[0]
    assert sent.to == ["pat@example.org"]
    assert sent.alternatives[0][1] == "text/html"
    assert sent.extra_headers["Message-ID"] == message_id


def test_sms_goes_through_the_configured_backend(sms_outbox, settings):
    settings.SMS_SENDER = "Riverside"
    provider_id = notify.send_sms(to="+447700900123", body="Your link")
    assert provider_id == "locmem-1"
    assert sms_outbox[0].to == "+447700900123"
    assert sms_outbox[0].sender == "Riverside"


def test_console_sms_backend_prints_the_message_in_development(settings, capsys):
    settings.DEBUG, settings.SMS_BACKEND = True, "servicedesk.notify.ConsoleSmsBackend"
    provider_id = notify.send_sms(to="+447700900123", body="Your link")
    assert provider_id.startswith("console-")
    assert "Your link" in capsys.readouterr().out


def test_console_backends_in_production_say_a_message_was_withheld_not_what_or_to_whom(
    settings, capsys, caplog
):
    settings.DEBUG, settings.SMS_BACKEND = False, "servicedesk.notify.ConsoleSmsBackend"
    settings.EMAIL_BACKEND = "servicedesk.notify.ConsoleEmailBackend"
    with caplog.at_level(logging.INFO):
        sms_id = notify.send_sms(to="+447700900123", body="Hi Pat, your link /f/abc/")
        email_id = notify.send_email(to="pat@example.org", subject="Hi Pat", text="Your link /f/abc/")
    printed = capsys.readouterr()
    written = printed.out + printed.err + caplog.text
    assert f"sms {sms_id} withheld" in written
    assert f"email {email_id} withheld" in written
    for secret in ("+447700900123", "pat@example.org", "Hi Pat", "/f/abc/"):
        assert secret not in written


def test_console_email_backend_prints_the_message_in_development(settings, capsys):
    settings.DEBUG, settings.EMAIL_BACKEND = True, "servicedesk.notify.ConsoleEmailBackend"
    notify.send_email(to="pat@example.org", subject="Hello", text="Your link /f/abc/")
    assert "Your link /f/abc/" in capsys.readouterr().out


class BrokenSmsBackend(notify.BaseSmsBackend):
    def send(self, message):
        raise TimeoutError("provider timed out")


def test_a_failing_provider_raises_send_error_and_logs_no_recipient(settings, caplog):
    settings.SMS_BACKEND = f"{__name__}.BrokenSmsBackend"
    with caplog.at_level(logging.INFO), pytest.raises(notify.SendError, match="TimeoutError"):
        notify.send_sms(to="+447700900123", body="Your link", kind="invitation")
    assert "sms invitation not sent" in caplog.text
    assert "+447700900123" not in caplog.text


def test_a_failing_mail_server_raises_send_error(settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_TIMEOUT = "127.0.0.1", 9, 1
    with pytest.raises(notify.SendError):
        notify.send_email(to="pat@example.org", subject="Hello", text="Plain")


def test_email_logs_name_the_kind_not_the_recipient(mailoutbox, caplog):
    with caplog.at_level(logging.INFO):
        notify.send_email(to="pat@example.org", subject="Hello", text="Plain", kind="reminder")
    assert "email reminder sent" in caplog.text
    assert "pat@example.org" not in caplog.text
