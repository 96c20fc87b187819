"""Every message Servicedesk sends goes through here.

Email uses Django's email backends (console in development, SMTP from EMAIL_URL in
production). SMS uses a small pluggable backend named by the SMS_BACKEND setting.
Log lines name the kind of message and the provider id, never the recipient or body.
"""

from __future__ import annotations

import logging
import sys
import time
import uuid
from dataclasses import dataclass

import requests
from django.conf import settings
from django.core.mail import EmailMessage, EmailMultiAlternatives, make_msgid
from django.core.mail.backends.console import EmailBackend as _DjangoConsoleEmailBackend
from django.core.mail.utils import DNS_NAME
from django.urls import reverse
from django.utils.module_loading import import_string
from twilio.base.exceptions import TwilioRestException
from twilio.http.http_client import TwilioHttpClient
from twilio.rest import Client as TwilioClient

logger = logging.getLogger(__name__)


class SendError(Exception):
    """A message could not be handed to its provider; the caller decides whether to retry."""


class SendRefused(SendError):
    """The provider refused this message for good (a number that cannot take texts): sending it
    again unchanged would be refused again, so it goes straight to the managers' failed page."""


@dataclass(frozen=True)
class Sms:
    to: str
    body: str
    sender: str


class BaseSmsBackend:
    def send(self, message: Sms) -> str:
        """Hand the message to the provider and return the provider's message id."""
        raise NotImplementedError


class ConsoleSmsBackend(BaseSmsBackend):
    """Development: print the message, like Django's console email backend. In production (chosen
    with ALLOW_INSECURE_TRANSPORTS) print only that it was withheld: the text holds a patient's
    name and link, and stdout is the server's log."""

    def send(self, message: Sms) -> str:
        provider_id = f"console-{uuid.uuid4().hex[:12]}"
        if not settings.DEBUG:
            logger.warning("sms %s withheld: the console SMS backend sends nothing", provider_id)
            return provider_id
        sys.stdout.write(
            f"--- SMS {provider_id} from {message.sender} to {message.to}\n{message.body}\n---\n"
        )
        sys.stdout.flush()
        return provider_id


class ConsoleEmailBackend(_DjangoConsoleEmailBackend):
    """Django's console backend in development (links whole, to follow them); in production only
    a line saying which message was withheld, never its recipients, subject or body."""

    def write_message(self, message: EmailMessage) -> None:
        if settings.DEBUG:
            super().write_message(message)
            return
        message_id = message.extra_headers.get("Message-ID", "(no Message-ID)")
        logger.warning("email %s withheld: the console email backend sends nothing", message_id)


class LocmemSmsBackend(BaseSmsBackend):
    """Tests: keep messages in ``LocmemSmsBackend.outbox``."""

    outbox: list[Sms] = []

    def send(self, message: Sms) -> str:
        self.outbox.append(message)
        return f"locmem-{len(self.outbox)}"


class TwilioSmsBackend(BaseSmsBackend):
    """Twilio's Messages API, through its client library.

    1. POST the message with a StatusCallback to our receipts webhook (``sms_receipt``), so Twilio
       tells us later whether it reached the phone (``outbox.outbox_record_receipt``).
    2. A busy (429) or broken (5xx) Twilio, a timeout or a dropped connection is tried again after
       each of ``retry_delays``; the outbox's own backoff takes over after that.
    3. A refusal (other 4xx: a number that is not a mobile, an unverified sender) raises
       ``SendError`` naming Twilio's error code only: Twilio's own message quotes the number.
    """

    timeout = 10.0  # seconds, each try
    retry_delays: tuple[float, ...] = (1.0, 3.0)

    def __init__(self) -> None:
        http_client = TwilioHttpClient(timeout=self.timeout)
        self.client = TwilioClient(
            settings.TWILIO_ACCOUNT_SID, settings.TWILIO_AUTH_TOKEN, http_client=http_client
        )
        self.client.api.base_url = settings.TWILIO_API_BASE  # a region's or a test's fake Twilio

    def send(self, message: Sms) -> str:
        callback = settings.SITE_URL + reverse("sms_receipt")
        for delay in (*self.retry_delays, None):
            try:
                sent = self.client.messages.create(
                    to=message.to, from_=message.sender, body=message.body, status_callback=callback
                )
            except TwilioRestException as exc:
                # Not "from exc": Twilio's message and the request it carries hold the number.
                error = f"Twilio refused it: HTTP {exc.status}, error {exc.code}"
                if not (exc.status == 429 or exc.status >= 500):
                    raise SendRefused(error) from None
                if delay is None:
                    raise SendError(error) from None
                reason = f"HTTP {exc.status}"
            except requests.RequestException as exc:
                if delay is None:
                    raise SendError(f"Twilio unreachable: {type(exc).__name__}") from None
                reason = type(exc).__name__
            else:
                return str(sent.sid)
            logger.info("sms: Twilio answered %s; trying again in %s s", reason, delay)
            time.sleep(delay)
        raise AssertionError("unreachable: the last try returns or raises")


def get_sms_backend() -> BaseSmsBackend:
    return import_string(settings.SMS_BACKEND)()


def send_email(*, to: str, subject: str, text: str, html: str | None = None, kind: str = "email") -> str:
    """Send one email; return its Message-ID. Raises SendError when the mail server refuses."""
    message_id = make_msgid(domain=DNS_NAME)
    message = EmailMultiAlternatives(subject=subject, body=text, to=[to], headers={"Message-ID": message_id})
    if html:
        message.attach_alternative(html, "text/html")
    try:
        message.send(fail_silently=False)
    except Exception as exc:  # SMTP, socket and backend errors all mean "not sent"
        logger.warning("email %s not sent: %s", kind, type(exc).__name__)
        raise SendError(f"{type(exc).__name__}: {exc}") from exc
    logger.info("email %s sent id=%s", kind, message_id)
    return message_id


def send_sms(*, to: str, body: str, kind: str = "sms") -> str:
    """Send one SMS; return the provider's id. Raises SendError when the provider refuses."""
    try:
        provider_id = get_sms_backend().send(Sms(to=to, body=body, sender=settings.SMS_SENDER))
    except SendError as exc:  # the backend's own words, already free of the number and text
        logger.warning("sms %s not sent: %s", kind, exc)
        raise
    except Exception as exc:
        logger.warning("sms %s not sent: %s", kind, type(exc).__name__)
        raise SendError(f"{type(exc).__name__}: {exc}") from exc
    logger.info("sms %s sent id=%s", kind, provider_id)
    return provider_id
