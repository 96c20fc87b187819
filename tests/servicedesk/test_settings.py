"""Settings come from the environment, and production refuses unsafe values loudly."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

from servicedesk.checks import messages_really_leave

# Variables this file sets itself; DJANGO_ALLOW_ASYNC_UNSAFE is the browser tests' and no deploy's.
CONTROLLED = {
    "DEBUG",
    "SECRET_KEY",
    "ALLOWED_HOSTS",
    "EMAIL_URL",
    "SMS_BACKEND",
    "ALLOW_INSECURE_TRANSPORTS",
    "SITE_URL",
    "TWILIO_ACCOUNT_SID",
    "TWILIO_AUTH_TOKEN",
    "TRUSTED_PROXY_HOPS",
    "DJANGO_ALLOW_ASYNC_UNSAFE",
}
ROOT = Path(__file__).resolve().parents[2]
STRONG_KEY = "k3y-" + "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFGHIJKLMN"
PRODUCTION = {"DEBUG": "0", "SECRET_KEY": STRONG_KEY, "ALLOWED_HOSTS": "example.org"}


def load_settings(env: dict[str, str], expr: str = "settings.DEBUG") -> subprocess.CompletedProcess:
    """Import the settings in a fresh interpreter with exactly these variables set."""
    clean = {k: v for k, v in os.environ.items() if k not in CONTROLLED}
    clean.update(env, DJANGO_SETTINGS_MODULE="servicedesk.settings")
    code = f"import django; from django.conf import settings; django.setup(); print(repr(({expr})))"
    return subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=clean, capture_output=True, text=True, timeout=60
    )


def test_production_is_the_default_and_demands_a_secret_key():
    result = load_settings({"ALLOWED_HOSTS": "example.org"})
    assert result.returncode != 0
    assert "ImproperlyConfigured: SECRET_KEY is not set" in result.stderr


@pytest.mark.parametrize("weak", ["short", "a" * 60, "django-insecure-" + "x1y2z3" * 10])
def test_production_refuses_a_weak_secret_key(weak):
    result = load_settings({**PRODUCTION, "SECRET_KEY": weak})
    assert "SECRET_KEY is too weak" in result.stderr


def test_production_refuses_empty_allowed_hosts():
    result = load_settings({**PRODUCTION, "ALLOWED_HOSTS": ""})
    assert "ALLOWED_HOSTS is empty" in result.stderr


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("DEBUG", "maybe", "DEBUG must be one of"),
        ("CONN_MAX_AGE", "soon", "CONN_MAX_AGE must be a whole number"),
        ("SESSION_IDLE_MINUTES", "0", "SESSION_IDLE_MINUTES must be at least 1"),
        ("DATABASE_URL", "nosuchdb://x", "DATABASE_URL is not a database URL"),
    ],
)
def test_a_bad_value_is_a_configuration_error_not_a_silent_default(name, value, message):
    env = {**PRODUCTION, "DATABASE_URL": "postgres://u@127.0.0.1:5432/x", name: value}
    result = load_settings(env)
    assert result.returncode != 0
    assert message in result.stderr


def test_production_settings_are_secure():
    result = load_settings(
        {**PRODUCTION, "EMAIL_URL": "smtp+tls://u:p@mail.example.org:587"},
        expr="settings.SESSION_COOKIE_SECURE, settings.CSRF_COOKIE_SECURE, settings.SECURE_SSL_REDIRECT, "
        "settings.SECURE_HSTS_SECONDS > 0, settings.EMAIL_HOST, "
        "settings.DATABASES['default']['CONN_HEALTH_CHECKS']",
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "(True, True, True, True, 'mail.example.org', True)"


def test_forwarded_headers_are_trusted_only_behind_a_proxy_we_were_told_of():
    direct = load_settings({**PRODUCTION, **SENDING}, expr="settings.SECURE_PROXY_SSL_HEADER")
    assert direct.stdout.strip() == "None"  # anyone could send X-Forwarded-Proto: https
    proxied = load_settings(
        {**PRODUCTION, **SENDING, "TRUSTED_PROXY_HOPS": "1"}, expr="settings.SECURE_PROXY_SSL_HEADER"
    )
    assert proxied.stdout.strip() == "('HTTP_X_FORWARDED_PROTO', 'https')"


def deploy_check(env: dict[str, str]) -> subprocess.CompletedProcess:
    clean = {k: v for k, v in os.environ.items() if k not in CONTROLLED}
    return subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env={**clean, **env},
        capture_output=True,
        text=True,
        timeout=60,
    )


SENDING = {
    "EMAIL_URL": "smtp+tls://u:p@mail.example.org:587",
    "SMS_BACKEND": "servicedesk.notify.TwilioSmsBackend",
    "TWILIO_ACCOUNT_SID": "AC0123456789abcdef0123456789abcdef",
    "TWILIO_AUTH_TOKEN": "check-only-token",
    "SITE_URL": "https://example.org",
}


def test_deploy_check_passes_with_production_settings():
    result = deploy_check({**PRODUCTION, **SENDING})
    assert result.returncode == 0, result.stdout + result.stderr


def test_deploy_check_refuses_the_default_console_for_email_and_sms():
    result = deploy_check(PRODUCTION)
    assert result.returncode != 0
    output = result.stdout + result.stderr
    assert "servicedesk.E001" in output
    assert "emails would never be sent" in output
    assert "servicedesk.E002" in output


def test_deploy_check_refuses_twilio_without_its_credentials():
    result = deploy_check({**PRODUCTION, **SENDING, "TWILIO_AUTH_TOKEN": ""})
    assert result.returncode != 0
    assert "servicedesk.E003" in result.stdout + result.stderr
    assert "TWILIO_AUTH_TOKEN is not set" in result.stdout + result.stderr


def test_twilio_needs_both_credentials_and_an_https_site_for_its_receipts(settings):
    settings.DEBUG, settings.SMS_BACKEND = False, "servicedesk.notify.TwilioSmsBackend"
    settings.EMAIL_BACKEND, settings.SITE_URL = (
        "django.core.mail.backends.smtp.EmailBackend",
        "https://x.example",
    )
    settings.TWILIO_ACCOUNT_SID, settings.TWILIO_AUTH_TOKEN = "AC1", "token"
    assert messages_really_leave() == []
    settings.TWILIO_ACCOUNT_SID = ""
    assert [error.id for error in messages_really_leave()] == ["servicedesk.E003"]
    settings.TWILIO_ACCOUNT_SID, settings.SITE_URL = "AC1", "http://x.example"
    assert [error.id for error in messages_really_leave()] == ["servicedesk.E004"]


def test_deploy_check_accepts_the_console_only_when_allowed_on_purpose():
    console = {
        **PRODUCTION,
        "EMAIL_URL": "consolemail://",
        "SMS_BACKEND": "servicedesk.notify.ConsoleSmsBackend",
    }
    named = deploy_check(console)  # naming the console is not saying sending nothing is deliberate
    assert "servicedesk.E001" in named.stdout + named.stderr
    allowed = deploy_check({**console, "ALLOW_INSECURE_TRANSPORTS": "Email, sms"})
    assert allowed.returncode == 0, allowed.stdout + allowed.stderr


@pytest.mark.parametrize(
    "backend",
    [
        "servicedesk.notify.ConsoleEmailBackend",
        "django.core.mail.backends.console.EmailBackend",
        "django.core.mail.backends.filebased.EmailBackend",
        "django.core.mail.backends.locmem.EmailBackend",
    ],
)
def test_production_refuses_every_email_backend_that_sends_nothing_unless_allowed(settings, backend):
    settings.DEBUG, settings.EMAIL_BACKEND = False, backend
    settings.SMS_BACKEND, settings.ALLOW_INSECURE_TRANSPORTS = "tests.AnySmsProvider", set()
    assert [error.id for error in messages_really_leave()] == ["servicedesk.E001"]
    settings.ALLOW_INSECURE_TRANSPORTS = {"email"}
    assert messages_really_leave() == []
    settings.DEBUG, settings.ALLOW_INSECURE_TRANSPORTS = True, set()  # development: the console is the point
    assert messages_really_leave() == []


def test_production_refuses_the_console_sms_backend_unless_allowed(settings):
    settings.DEBUG, settings.EMAIL_BACKEND = False, "django.core.mail.backends.smtp.EmailBackend"
    settings.SMS_BACKEND = "servicedesk.notify.ConsoleSmsBackend"
    settings.ALLOW_INSECURE_TRANSPORTS = {"email"}
    assert [error.id for error in messages_really_leave()] == ["servicedesk.E002"]
    settings.ALLOW_INSECURE_TRANSPORTS = {"sms"}
    assert messages_really_leave() == []


def test_allowing_an_unknown_transport_is_a_configuration_error():
    result = load_settings({**PRODUCTION, "ALLOW_INSECURE_TRANSPORTS": "1"})
    assert result.returncode != 0
    assert "ALLOW_INSECURE_TRANSPORTS names transports" in result.stderr


def test_the_console_email_backend_is_ours_so_production_withholds_messages():
    result = load_settings({**PRODUCTION, "EMAIL_URL": "consolemail://"}, expr="settings.EMAIL_BACKEND")
    assert result.stdout.strip() == "'servicedesk.notify.ConsoleEmailBackend'"


def test_in_development_the_worker_prints_emails_to_the_terminal_with_their_links_whole():
    development = load_settings(
        {"DEBUG": "1"}, expr="settings.CELERY_WORKER_REDIRECT_STDOUTS, settings.EMAIL_BACKEND"
    )
    assert development.stdout.strip() == "(False, 'servicedesk.notify.ConsoleEmailBackend')"
    production = load_settings({**PRODUCTION, **SENDING}, expr="settings.CELERY_WORKER_REDIRECT_STDOUTS")
    assert production.stdout.strip() == "True"  # printed output goes through logging, tokens redacted


def test_redis_url_switches_broker_and_cache_to_redis():
    result = load_settings(
        {"DEBUG": "1", "REDIS_URL": "redis://127.0.0.1:6379/3"},
        expr="settings.CELERY_BROKER_URL, settings.CACHES['default']['BACKEND'].rsplit('.', 1)[1]",
    )
    assert result.stdout.strip() == "('redis://127.0.0.1:6379/3', 'RedisCache')"


def test_without_servers_the_embedded_default_uses_sqlite_and_a_file_broker():
    if os.environ.get("DATABASE_URL") or os.environ.get("REDIS_URL"):
        pytest.skip("this machine's environment names servers")
    result = load_settings(
        {"DEBUG": "1"}, expr="settings.DATABASES['default']['ENGINE'], settings.CELERY_BROKER_URL"
    )
    assert result.stdout.strip() == "('django.db.backends.sqlite3', 'filesystem://')"
