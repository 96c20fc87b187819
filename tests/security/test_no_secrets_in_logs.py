"""No patient data or tokens in the logs: run journeys with canary values and search what was logged.

What is searched is exactly what the configured log handlers write (runserver, gunicorn and
Celery all log through them), in production mode and in development mode, where Django adds
its own console output.
"""

from __future__ import annotations

import io
import logging
import re

import pytest
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from servicedesk.outbox import outbox_sweep
from tests.factories import InvitationFactory, SurveyFactory, UserFactory

pytestmark = pytest.mark.django_db

CANARY_EMAIL = "canary.patient.7f3a@example.org"
CANARY_NAME = "Canaryfirstname"
CANARY_PHONE = "+447700900731"
CANARY_TEXT = "canary-free-text-q8z the receptionist was rude"
CANARY_STAFF_EMAIL = "canary.staff.5k2@practice.example"


@pytest.fixture
def written_logs():
    """Everything the configured handlers write, on every logger, while the test runs."""
    buffer = io.StringIO()
    loggers = [
        logging.getLogger(),
        *(logging.getLogger(name) for name in list(logging.root.manager.loggerDict)),
    ]
    swapped = []
    for logger in loggers:
        for handler in getattr(logger, "handlers", []):
            is_console = type(handler) is logging.StreamHandler  # not a FileHandler subclass
            if is_console and handler.stream is not buffer:
                swapped.append((handler, handler.setStream(buffer)))
    yield buffer
    for handler, stream in reversed(swapped):
        handler.setStream(stream)


def _patient_journey(client) -> list[str]:
    """A patient follows their invitation link, answers, opts out; a kiosk patient writes a comment."""
    survey = SurveyFactory(slug="canary-survey")
    invitation = InvitationFactory(
        survey=survey, email=CANARY_EMAIL, first_name=CANARY_NAME, phone=CANARY_PHONE
    )
    token = invitation.token
    client.get(f"/f/{token}/")
    client.post(f"/f/{token}/", {"comment": CANARY_TEXT, "email": CANARY_EMAIL})
    client.get(f"/f/{token}/opt-out/")
    client.post(f"/f/{token}/opt-out/")
    client.get(f"/f/{token}x/")  # a forged token: a 404 whose path is logged
    client.get(f"/k/{survey.slug}/")
    client.post(f"/k/{survey.slug}/", {"comment": CANARY_TEXT, "email": CANARY_EMAIL, "phone": CANARY_PHONE})
    return [token, invitation.selector]


def _staff_journey(client) -> list[str]:
    """A staff member forgets their password, resets it from the emailed link, and logs in."""
    UserFactory(username="canary-staff", email=CANARY_STAFF_EMAIL)
    client.post(reverse("password_reset"), {"email": CANARY_STAFF_EMAIL})
    outbox_sweep(now=timezone.now())  # the worker sends it (and logs that it did)
    link = re.search(r"https?://[^/\s]+(/accounts/reset/\S+)", mail.outbox[-1].body).group(1)
    uid_and_token = link.removeprefix("/accounts/reset/").strip("/")
    set_password = client.get(link, follow=True).redirect_chain[-1][0]
    client.post(
        set_password, {"new_password1": "A new long passphrase 9", "new_password2": "A new long passphrase 9"}
    )
    for _ in range(6):  # and a lockout along the way
        client.post(reverse("login"), {"username": CANARY_STAFF_EMAIL, "password": "wrong"})
    return [part for part in uid_and_token.split("/") if len(part) > 2]


@pytest.mark.parametrize("debug", [False, True], ids=["production", "development"])
def test_no_patient_data_or_token_reaches_the_logs(client, settings, written_logs, debug):
    settings.DEBUG = debug
    client.raise_request_exception = False
    secrets = _patient_journey(client) + _staff_journey(client)

    logged = written_logs.getvalue()

    assert logged, "the journeys should have logged something (e.g. the 404 of a forged link)"
    for canary in [CANARY_EMAIL, CANARY_NAME, CANARY_PHONE, CANARY_TEXT, CANARY_STAFF_EMAIL, *secrets]:
        assert canary not in logged, f"{canary!r} reached the logs:\n{logged}"
