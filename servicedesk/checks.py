"""System checks of our own, run by ``manage.py check --deploy`` (and so by ``make check``)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.apps import AppConfig
from django.conf import settings
from django.core.checks import CheckMessage, Error, Tags, register

CONSOLE_EMAIL = "django.core.mail.backends.console.EmailBackend"
CONSOLE_SMS = "servicedesk.notify.ConsoleSmsBackend"


@register(Tags.compatibility, deploy=True)
def messages_really_leave(
    app_configs: Sequence[AppConfig] | None = None, **kwargs: Any
) -> list[CheckMessage]:
    """In production, email and SMS go to a provider unless the console was chosen on purpose:
    the console sends nothing, and prints patients' and staff's links into the server's log."""
    errors: list[CheckMessage] = []
    if settings.EMAIL_BACKEND == CONSOLE_EMAIL and not settings.EMAIL_URL_CHOSEN:
        errors.append(
            Error(
                "EMAIL_URL is not set, so emails would only be printed to the console, never sent.",
                hint="Set EMAIL_URL=smtp+tls://user:password@smtp.example.org:587, or "
                "EMAIL_URL=consolemail:// to choose the console on purpose.",
                id="servicedesk.E001",
            )
        )
    if settings.SMS_BACKEND == CONSOLE_SMS and not settings.SMS_BACKEND_CHOSEN:
        errors.append(
            Error(
                "SMS_BACKEND is not set, so text messages would only be printed to the console, never sent.",
                hint=f"Set SMS_BACKEND to your provider's backend class, or SMS_BACKEND={CONSOLE_SMS} "
                "to choose the console on purpose.",
                id="servicedesk.E002",
            )
        )
    return errors
