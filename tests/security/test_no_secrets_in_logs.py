"""No patient data or tokens in the logs: run journeys with canary values and search what was logged.

What is searched is exactly what the configured log handlers write (runserver, gunicorn and
Celery's worker and beat all log through them), in production mode and in development mode,
where Django adds its own console output. In production, what is printed to stdout and stderr
is searched too: there it is the server's log (gunicorn's, or the worker's, which sends printed
output through logging).

The journey: a patient answers a link and opts out, another writes at the kiosk; invitations go
out by SMS and by email (console backends, allowed on purpose); every periodic task beat
schedules runs; a staff member resets a password; and links are asked for with their tokens
percent-encoded, as an access log records them.
"""

from __future__ import annotations

import importlib
import logging
import re
from datetime import time, timedelta

import pytest
from django.conf import settings as settings_module
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from feedback import invitations
from feedback.invitations import Contact, Visit
from feedback.models import Invitation, InvitationRules
from servicedesk.celery import app as celery_app
from servicedesk.notify import ConsoleEmailBackend
from servicedesk.outbox import outbox_sweep
from tests.factories import InvitationFactory, LocationFactory, SurveyFactory, UserFactory

pytestmark = pytest.mark.django_db

CANARY_EMAIL = "canary.patient.7f3a@example.org"
CANARY_NAME = "Canaryfirstname"
CANARY_PHONE = "+447700900731"
CANARY_TEXT = "canary-free-text-q8z the receptionist was rude"
CANARY_STAFF_EMAIL = "canary.staff.5k2@practice.example"
CANARY_SMS_NAME = "Canarysmsname"
CANARY_SMS_PHONE = "07700 900732"  # as a visit list writes it; sent to +447700900732
CANARY_EMAIL_NAME = "Canaryemailname"
CANARY_INVITED_EMAIL = "canary.invited.9d1@example.org"


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


class KeepingConsoleEmailBackend(ConsoleEmailBackend):
    """The console backend, keeping a copy in mail.outbox so the test can follow the reset link."""

    def send_messages(self, email_messages):
        mail.outbox.extend(email_messages)
        return super().send_messages(email_messages)


def percent_encoded(token: str) -> list[str]:
    """The forms of a token link that reach the same view but not the plain redaction."""
    every_character = "".join(f"%{ord(character):02X}" for character in token)
    return [f"/%66/{token}/", f"/f%2F{token}/", f"/f/{every_character}/", f"/f%252F{token}/"]


def _percent_encoded_requests(client, token: str) -> None:
    """Each form asked for, and its request line written as runserver and gunicorn log it."""
    for path in percent_encoded(token):
        client.get(path)
        request_line = f"GET {path}?utm=x HTTP/1.1"
        logging.getLogger("django.server").info('"%s" %s %s', request_line, "200", "512")
        logging.getLogger("gunicorn.access").info(
            '127.0.0.1 - - [05/Dec/2026:23:30:00 +0000] "%s" 200 512 "-" "Mozilla/5.0"', request_line
        )


def _invitations_sent_by_sms_and_email() -> list[str]:
    """Two visits: one patient is texted, the other (no mobile) emailed, by the worker."""
    rules = InvitationRules.current()
    rules.quiet_hours_start = rules.quiet_hours_end = time(0, 0)
    rules.save()
    survey, site = SurveyFactory(slug="canary-invited"), LocationFactory()
    for first_name, email, phone in [
        (CANARY_SMS_NAME, "", CANARY_SMS_PHONE),
        (CANARY_EMAIL_NAME, CANARY_INVITED_EMAIL, ""),
    ]:
        visit = Visit(
            survey=survey,
            visit_at=timezone.now() - timedelta(hours=3),
            contact=Contact.parse(email=email, phone=phone),
            first_name=first_name,
            location=site,
        )
        invitations.invitation_create(visit=visit, source="api", now=timezone.now())
    _every_periodic_task()  # beat's sweeps: the invitation sweep sends both, through the outbox
    sent = Invitation.objects.filter(survey=survey)
    firsts = sent.filter(messages__number=0, messages__status="sent")
    assert sorted(firsts.values_list("messages__channel", flat=True)) == ["email", "sms"]
    return [invitation.token for invitation in sent]


def _every_periodic_task() -> None:
    """Every task beat schedules, run as the worker runs it when beat sends it."""
    for entry in settings_module.CELERY_BEAT_SCHEDULE.values():
        importlib.import_module(entry["task"].rsplit(".", 1)[0])  # registered, as autodiscovery does
    for entry in settings_module.CELERY_BEAT_SCHEDULE.values():
        logging.getLogger("celery.beat").info("Scheduler: Sending due task (%s)", entry["task"])
        celery_app.tasks[entry["task"]].apply().get()


@pytest.mark.parametrize("debug", [False, True], ids=["production", "development"])
def test_no_patient_data_or_token_reaches_the_logs(client, settings, written_logs, capsys, debug):
    settings.DEBUG = debug
    settings.EMAIL_BACKEND = f"{__name__}.KeepingConsoleEmailBackend"
    settings.SMS_BACKEND = "servicedesk.notify.ConsoleSmsBackend"
    settings.ALLOW_INSECURE_TRANSPORTS = {"email", "sms"}
    client.raise_request_exception = False
    celery_app.conf.task_always_eager = True
    try:
        secrets = _patient_journey(client) + _invitations_sent_by_sms_and_email() + _staff_journey(client)
    finally:
        celery_app.conf.task_always_eager = False
    _percent_encoded_requests(client, secrets[0])

    logged = written_logs.getvalue()
    if not debug:  # in development the console backends print messages whole, on purpose
        printed = capsys.readouterr()
        logged += printed.out + printed.err

    assert logged, "the journeys should have logged something (e.g. the 404 of a forged link)"
    assert "withheld" in logged or debug, "the console backends should have said what they withheld"
    canaries = [CANARY_EMAIL, CANARY_NAME, CANARY_PHONE, CANARY_TEXT, CANARY_STAFF_EMAIL]
    canaries += [CANARY_SMS_NAME, "+447700900732", "900732", CANARY_EMAIL_NAME, CANARY_INVITED_EMAIL]
    for canary in [*canaries, *secrets]:
        assert canary not in logged, f"{canary!r} reached the logs:\n{logged}"
