"""System checks of our own, run by ``manage.py check --deploy`` (and so by ``make check``)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.apps import AppConfig
from django.conf import settings
from django.core.checks import CheckMessage, Error, Tags, register

# Email backends that send nothing: they print (into the server's log), write files or keep
# messages in memory.
EMAIL_GOING_NOWHERE = {
    "django.core.mail.backends.console.EmailBackend",
    "servicedesk.notify.ConsoleEmailBackend",
    "django.core.mail.backends.filebased.EmailBackend",
    "django.core.mail.backends.locmem.EmailBackend",
    "django.core.mail.backends.dummy.EmailBackend",
}
SMS_GOING_NOWHERE = {"servicedesk.notify.ConsoleSmsBackend", "servicedesk.notify.LocmemSmsBackend"}


@register(Tags.compatibility, deploy=True)
def messages_really_leave(
    app_configs: Sequence[AppConfig] | None = None, **kwargs: Any
) -> list[CheckMessage]:
    """In production, email and SMS go to a provider unless ALLOW_INSECURE_TRANSPORTS says that
    sending nothing is deliberate (a demonstration site): otherwise patients never get their
    invitations, staff never get their set-password links, and nobody notices."""
    if settings.DEBUG:
        return []
    allowed = settings.ALLOW_INSECURE_TRANSPORTS
    errors: list[CheckMessage] = []
    if settings.EMAIL_BACKEND in EMAIL_GOING_NOWHERE and "email" not in allowed:
        errors.append(
            Error(
                f"EMAIL_BACKEND is {settings.EMAIL_BACKEND}: emails would never be sent.",
                hint="Set EMAIL_URL=smtp+tls://user:password@smtp.example.org:587, or "
                "ALLOW_INSECURE_TRANSPORTS=email if sending no email is deliberate.",
                id="servicedesk.E001",
            )
        )
    if settings.SMS_BACKEND in SMS_GOING_NOWHERE and "sms" not in allowed:
        errors.append(
            Error(
                f"SMS_BACKEND is {settings.SMS_BACKEND}: text messages would never be sent.",
                hint="Set SMS_BACKEND to your provider's backend class, or "
                "ALLOW_INSECURE_TRANSPORTS=sms if sending no text message is deliberate.",
                id="servicedesk.E002",
            )
        )
    if settings.SMS_BACKEND == "servicedesk.notify.TwilioSmsBackend":
        missing = [
            name for name in ("TWILIO_ACCOUNT_SID", "TWILIO_AUTH_TOKEN") if not getattr(settings, name)
        ]
        if missing:
            errors.append(
                Error(
                    f"SMS_BACKEND is Twilio but {' and '.join(missing)} is not set: no text could be sent, "
                    "and no delivery receipt could be checked.",
                    hint="Set TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN from the Twilio console.",
                    id="servicedesk.E003",
                )
            )
        if not settings.SITE_URL.startswith("https://"):
            errors.append(
                Error(
                    f"SITE_URL is {settings.SITE_URL}: Twilio would post receipts to it unencrypted.",
                    hint="Set SITE_URL to the practice's public https:// address.",
                    id="servicedesk.E004",
                )
            )
    return errors
