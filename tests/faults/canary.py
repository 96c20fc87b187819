"""Scenario 6 of ``make faults``: no patient data or token in the real processes' logs.

``tests/security/test_no_secrets_in_logs.py`` proves it in-process, with the log handlers
captured; this proves it for what a practice's log collector would read: gunicorn, a Celery
worker and Celery beat as separate processes in production mode (DEBUG off, settings that pass
``check --deploy``, LOG_LEVEL=INFO), each writing stdout and stderr to files. Email leaves through
Django's SMTP backend to a local mail server (``outbox.MailSink``) and texts through the real
``TwilioSmsBackend`` to a local fake Twilio (``tests.fake_twilio``), so the links patients and
staff get are read from what was really sent.

The journey, over HTTP: a patient opens their invitation link, answers with free text, their
name and email, and opts out (a forged link and percent-encoded forms of the real one too); a
kiosk patient writes; two visits are posted to the API (one texted, one emailed); Twilio posts
signed receipts (delivered, undelivered); a staff member resets their password from the emailed
link; the manager signs in with a TOTP code, opens the response and its incident, downloads the
CSV exports, and runs an access request and an erasure for the patient. Every periodic task is
published for the worker, and beat is left running until it has sent its minutely tasks.

Then every line the three processes wrote is searched for every canary, in every form it could be
written. The search is shown not to be vacuous: the access log lists the ``/f/`` requests with
the token redacted, the worker log names each task it ran, the beat log the tasks it sent.
"""

from __future__ import annotations

import contextlib
import email
import http.client
import json
import os
import re
import shutil
import subprocess
import sys
import time
from base64 import b32decode
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from email.policy import default as default_policy
from pathlib import Path
from urllib.parse import quote, urlsplit

from tests import fake_twilio
from tests.faults.outbox import Results, mail_sink
from tests.load import harness

SITE_URL = "https://practice.example"  # what Twilio signs receipts over (https, as check --deploy wants)
MANAGER_KEY = b32decode("SERVICEDESKDEMOMANAGERTOTPSECRET")  # the demo manager's authenticator
KIOSK = "/k/waiting-room-kiosk/"
# Beat sends its minutely tasks a minute after it starts; this is how long we wait at most for it.
BEAT_WITHIN = 100
SENT_WITHIN = 60

NAME, SURNAME = "Canaryfirst", "Quillcanary"
EMAIL = "canary.patient.7f3a@example.org"
PHONE = "+447700900731"
TEXT = "canary-free-text-q8z the receptionist was rude"
KIOSK_TEXT = "canary-kiosk-text-w4m the waiting room was cold"
KIOSK_EMAIL = "canary.kiosk.2b8@example.org"
KIOSK_PHONE = "07700 900733"
STAFF_EMAIL = "canary.staff.5k2@practice.example"
SMS_NAME, SMS_PHONE = "Canarysmsname", "07700 900732"  # as a practice system posts it
EMAIL_NAME, INVITED_EMAIL = "Canaryemailname", "canary.invited.9d1@example.org"
# Refused by the provider: Twilio's 400 quotes the number, the mail server's 550 follows the address.
REFUSED_PHONE, REFUSED_EMAIL = "07700 900734", "canary.refused.6h1@example.org"

SETUP = """
import json
from datetime import time, timedelta
from django.utils import timezone
from feedback import invitations
from feedback.invitations import Contact, Visit
from feedback.invitations.integrations import integration_token_create
from feedback.models import InvitationRules, Survey
from servicedesk.models import User
now = timezone.now()
rules = InvitationRules.current()
rules.quiet_hours_start = rules.quiet_hours_end = time(0, 0)
rules.save()
survey = Survey.objects.get(slug="after-your-visit")
manager = User.objects.get(username="manager")
_, invitation = invitations.invitation_create(
    visit=Visit(survey=survey, visit_at=now - timedelta(hours=3), first_name="{name}",
                contact=Contact.parse(email="{email}", phone="{phone}")),
    source="api", now=now)
_, raw = integration_token_create(name="Canary practice system", by=manager)
staff = User.objects.create_user(username="canarystaff", email="{staff_email}", password="Old passphrase 7")
print(json.dumps({{"token": invitation.token, "api": raw, "survey": survey.pk}}))
"""
FOUND = """
import json
from recovery.models import Incident
incident = Incident.objects.get(patient_email="{email}")
print(json.dumps({{"incident": incident.reference, "response": incident.source_response_id}}))
"""
PUBLISH = """
from django.conf import settings
from servicedesk.celery import app
for entry in settings.CELERY_BEAT_SCHEDULE.values():
    app.send_task(entry["task"])
print(sorted({entry["task"] for entry in settings.CELERY_BEAT_SCHEDULE.values()}))
"""
TOKEN_LINK = re.compile(r"/f/([A-Za-z0-9_\-]+\.[A-Za-z0-9_\-]+)/")
RESET_LINK = re.compile(r"/accounts/reset/([^\s/]+)/([^\s/]+)/")


def canary_logs(env: dict, children: list[subprocess.Popen], folder: Path, results: Results) -> None:
    logs = folder / "canary-logs"
    logs.mkdir()
    with mail_sink(refused=frozenset({REFUSED_EMAIL})) as sink, fake_twilio.running() as twilio:
        twilio.refused.add("+44" + REFUSED_PHONE.replace(" ", "")[1:])
        env = {
            **env,
            "LOG_LEVEL": "INFO",  # production's default: every request and task line is written
            "EMAIL_URL": sink.email_url,
            "SMS_BACKEND": "servicedesk.notify.TwilioSmsBackend",
            "TWILIO_ACCOUNT_SID": fake_twilio.ACCOUNT_SID,
            "TWILIO_AUTH_TOKEN": fake_twilio.AUTH_TOKEN,
            "TWILIO_API_BASE": twilio.base_url,
            "SITE_URL": SITE_URL,
        }
        deploy = subprocess.run(
            [harness.PYTHON, "manage.py", "check", "--deploy", "--fail-level", "ERROR"],
            cwd=harness.ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )
        results.check(
            "the settings pass check --deploy (real transports, DEBUG off)",
            deploy.returncode == 0,
            deploy.stderr.strip().splitlines()[-1][:200] if deploy.returncode else "",
        )
        setup = SETUP.format(name=NAME, email=EMAIL, phone=PHONE, staff_email=STAFF_EMAIL)
        made = json.loads(harness.manage(env, "shell", "--no-imports", "-c", setup))
        secrets = {"patient's link token": made["token"], "integration token": made["api"]}
        with (
            _logged(logs, "web") as (out, err),
            harness.gunicorn(env, workers=2, stdout=out, stderr=err) as url,
        ):
            beat_started = time.monotonic()
            beat = ["beat", "-l", "INFO", "-s", str(logs / "beat-schedule")]
            worker = ["worker", "-c", "2", "-l", "INFO", "--without-gossip", "--without-mingle"]
            celery = [_start(children, env, logs, name, arguments) for name, arguments in (
                ("beat", beat), ("worker", [*worker, "--without-heartbeat"]))]  # fmt: skip
            secrets.update(_journey(url, env, made, sink, twilio, results))
            tasks = json.loads(harness.manage(env, "shell", "--no-imports", "-c", PUBLISH).replace("'", '"'))
            _wait_for(
                lambda: (
                    all(f"{t}[" in _read(logs, "worker") for t in tasks)
                    and ("Sending due task" in _read(logs, "beat"))
                ),
                beat_started + BEAT_WITHIN,
            )
            time.sleep(2)  # the last task's "succeeded" line
            for process in celery:  # gracefully, so that each writes its last lines
                harness.stop(process)
    if keep := os.environ.get("FAULTS_CANARY_LOGS"):  # a folder to keep the logs in, to read them
        shutil.copytree(logs, keep, dirs_exist_ok=True)
    _search(logs, secrets, tasks, results)


@contextlib.contextmanager
def _logged(logs: Path, name: str) -> Iterator[tuple]:
    with open(logs / f"{name}.out", "w") as out, open(logs / f"{name}.err", "w") as err:
        yield out, err


def _start(children: list, env: dict, logs: Path, name: str, arguments: list[str]) -> subprocess.Popen:
    """A Celery process writing to <name>.out and <name>.err; listed in ``children`` for the clean-up."""
    with open(logs / f"{name}.out", "w") as out, open(logs / f"{name}.err", "w") as err:
        process = subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "servicedesk", *arguments],
            cwd=harness.ROOT,
            env=env,
            stdout=out,
            stderr=err,
            start_new_session=True,
        )
    children.append(process)
    return process


def _read(logs: Path, name: str) -> str:
    return "".join((logs / f"{name}.{part}").read_text(errors="replace") for part in ("out", "err"))


def _wait_for(condition, deadline: float) -> bool:
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.2)
    return condition()


# --- The journey ---------------------------------------------------------------------------------


def _journey(url: str, env: dict, made: dict, sink, twilio, results: Results) -> dict[str, str]:
    """Everything a practice does in a day that touches patient data; returns the secrets it saw."""
    secrets: dict[str, str] = {}
    token = made["token"]
    # The patient answers once their invitation has reached their phone (an answered invitation's
    # text is never sent: the worker must not lose that race for the run to prove the SMS path).
    texted = _wait_for(
        lambda: any(sms.get("To") == PHONE for sms in twilio.received), time.monotonic() + SENT_WITHIN
    )
    linked = [found for sms in twilio.received for found in TOKEN_LINK.findall(sms.get("Body", ""))]
    results.check(
        "the patient's invitation was texted through the fake Twilio, with their link",
        texted and token in linked,
        f"{len(twilio.received)} texts",
    )
    patient = harness.Browser(url)
    page = patient.get(f"/f/{token}/")
    answered = patient.submit(page, _answers(page, text=TEXT, name=f"{NAME} {SURNAME}", email=EMAIL))
    results.check(
        "the patient answered through their link", answered.status == 302, f"HTTP {answered.status}"
    )
    patient.get(f"/f/{token}/opt-out/")
    opted = patient.request("POST", f"/f/{token}/opt-out/", {})
    patient.get(f"/f/{token}x/")  # a forged link: a 404 whose path is logged
    for path in _percent_encoded(token):
        patient.get(f"{path}?utm=canary")
    kiosk = harness.Browser(url)
    page = kiosk.get(KIOSK)
    wrote = kiosk.submit(page, _answers(page, text=KIOSK_TEXT, email=KIOSK_EMAIL, phone=KIOSK_PHONE))
    results.check(
        "the patient opted out; a kiosk patient wrote",
        opted.status in (200, 302) and wrote.status == 302,
        f"HTTP {opted.status}, {wrote.status}",
    )

    contacts = [(SMS_NAME, "mobile", SMS_PHONE), (EMAIL_NAME, "email", INVITED_EMAIL)]
    contacts += [(SMS_NAME, "mobile", REFUSED_PHONE), (EMAIL_NAME, "email", REFUSED_EMAIL)]
    visits = [
        {"external_id": f"CANARY-{n}", "first_name": name, kind: value, "visit_at": _hours_ago(2),
         "location": "Riverside Surgery"}
        for n, (name, kind, value) in enumerate(contacts)
    ]  # fmt: skip
    posted, outcomes = _post_json(url, "/api/visits/", made["api"], {"visits": visits})
    texted = _wait_for(
        lambda: any(sms.get("To") == "+447700900732" for sms in twilio.received),
        time.monotonic() + SENT_WITHIN,
    )
    refused = _wait_for(
        lambda: len(twilio.received) >= 3 and sink.refusals[REFUSED_EMAIL] >= 1,
        time.monotonic() + SENT_WITHIN,
    )
    emailed = _wait_for(
        lambda: any(INVITED_EMAIL.encode() in m for m in sink.messages), time.monotonic() + SENT_WITHIN
    )
    results.check(
        "posted visits were invited by SMS (fake Twilio) and by email (SMTP) through the worker",
        posted == 200 and outcomes == ["created"] * 4 and texted and emailed and refused,
        f"API HTTP {posted} {outcomes}, {len(twilio.received)} texts (one refused), "
        f"{len(sink.messages)} emails, {sum(sink.refusals.values())} refused",
    )
    for n, sms in enumerate(twilio.received):
        secrets[f"SMS body {n}"] = sms.get("Body", "")
        for m, found in enumerate(TOKEN_LINK.findall(sms.get("Body", ""))):
            secrets[f"SMS link token {n}.{m}"] = found
    for n, message in enumerate(sink.messages):
        for m, found in enumerate(TOKEN_LINK.findall(_text(message))):
            secrets[f"emailed link token {n}.{m}"] = found
    receipts = [
        _receipt(url, sid=sms_sid, status=status, to=to)
        for (sms_sid, to), status in zip(
            [
                (f"SM{n + 1:032x}", sms["To"])
                for n, sms in enumerate(twilio.received)
                if sms["To"] not in twilio.refused
            ],
            ["delivered", "undelivered"],
            strict=False,
        )
    ]
    results.check(
        "signed Twilio receipts accepted (delivered, undelivered)", receipts == [200, 200], f"{receipts}"
    )

    staff = harness.Browser(url)
    page = staff.get("/accounts/password_reset/")
    staff.submit(page, {"email": STAFF_EMAIL}, having="email")
    _wait_for(lambda: any(STAFF_EMAIL.encode() in m for m in sink.messages), time.monotonic() + SENT_WITHIN)
    link = next((RESET_LINK.search(_text(m)) for m in sink.messages if STAFF_EMAIL.encode() in m), None)
    reset = 0
    if link:
        secrets["reset link uid"], secrets["reset link token"] = link[1], link[2]
        page = staff.get(f"/accounts/reset/{link[1]}/{link[2]}/")
        form = staff.get(urlsplit(page.location).path)
        passphrase = "A new long passphrase 9"
        reset = staff.submit(form, {"new_password1": passphrase, "new_password2": passphrase}).status
    results.check("a staff member reset their password from the emailed link", reset == 302, f"HTTP {reset}")

    found = json.loads(harness.manage(env, "shell", "--no-imports", "-c", FOUND.format(email=EMAIL)))
    manager = harness.Browser(url)
    harness.log_in(manager, "manager", "servicedesk-demo", totp_key=MANAGER_KEY)
    pages = [
        f"/feedback/responses/{found['response']}/",
        f"/recovery/incidents/{found['incident']}/",
        f"/feedback/surveys/{made['survey']}/export.csv",
        "/dashboard/export.csv",
        "/feedback/invitations/patient-data/",
    ]
    # A word search of the incident list, for words the patient wrote (a GET: its query is logged).
    pages.append(f"/recovery/incidents/?q={quote(TEXT.split()[0])}&status=all")
    statuses = [manager.get(path).status for path in pages]
    page = manager.get("/feedback/invitations/patient-data/")
    statuses.append(manager.submit(page, {"contact": EMAIL}, having="contact").status)
    statuses.append(
        manager.request(
            "POST",
            "/feedback/invitations/patient-data/export/",
            {"contact": EMAIL, "csrfmiddlewaretoken": _csrf(page)},
        ).status
    )
    statuses.append(
        manager.request(
            "POST",
            "/feedback/invitations/patient-data/erase/",
            {"contact": EMAIL, "confirm": "on", "csrfmiddlewaretoken": _csrf(page)},
        ).status
    )
    results.check(
        "the manager (TOTP) opened the response and incident, exported, ran an access request and an erasure",
        statuses == [200] * 8 + [302],
        f"{statuses}",
    )
    return secrets


def _answers(page: harness.Page, *, text: str, name: str = "", email: str = "", phone: str = "") -> dict:
    """The worst rating (so the practice is asked to put it right), the words, and consent to contact."""
    values = {
        "consent_to_contact": "on",
        "contact_name": name,
        "contact_email": email,
        "contact_phone": phone,
    }
    for form in page.forms():
        for field in form.fields:
            if field["type"] == "textarea":
                values[field["name"]] = text
            elif field["type"] == "radio" and field["value"] == "very_poor":
                values[field["name"]] = "very_poor"
    return values


def _percent_encoded(token: str) -> list[str]:
    """Forms of a link that reach the same page but are logged escaped (as test_no_secrets_in_logs)."""
    every_character = "".join(f"%{ord(character):02X}" for character in token)
    return [f"/%66/{token}/", f"/f%2F{token}/", f"/f/{every_character}/", f"/f%252F{token}/"]


def _hours_ago(hours: int) -> str:
    return (datetime.now(UTC) - timedelta(hours=hours)).isoformat()


def _post_json(url: str, path: str, bearer: str, payload: dict) -> tuple[int, list[str]]:
    """The status, and each visit's outcome."""
    parts = urlsplit(url)
    connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)
    body = json.dumps(payload)
    headers = {
        "Authorization": f"Bearer {bearer}",
        "Content-Type": "application/json",
        "Host": f"{parts.hostname}:{parts.port}",
    }
    connection.request("POST", path, body=body, headers=headers)
    response = connection.getresponse()
    answer = json.loads(response.read() or b"{}")
    connection.close()
    return response.status, [result.get("status", "") for result in answer.get("results", [])]


def _receipt(url: str, *, sid: str, status: str, to: str) -> int:
    """A delivery receipt as Twilio posts it, signed over the URL the app gave Twilio."""
    params = {"MessageSid": sid, "MessageStatus": status, "To": to, "AccountSid": fake_twilio.ACCOUNT_SID}
    if status == "undelivered":
        params["ErrorCode"] = "30003"
    path = "/sms/receipts/twilio/"
    signature = fake_twilio.signed(SITE_URL + path, params)
    parts = urlsplit(url)
    connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)
    connection.request(
        "POST",
        path,
        body=_form(params),
        headers={
            "Content-Type": "application/x-www-form-urlencoded",
            "X-Twilio-Signature": signature,
            "Host": f"{parts.hostname}:{parts.port}",
        },
    )
    answer = connection.getresponse().status
    connection.close()
    return answer


def _form(params: dict[str, str]) -> str:
    return "&".join(f"{quote(k)}={quote(v)}" for k, v in params.items())


def _csrf(page: harness.Page) -> str:
    match = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.body)
    return match[1] if match else ""


def _text(message: bytes) -> str:
    """An email's text parts, decoded (quoted-printable would split a long link)."""
    parsed = email.message_from_bytes(message, policy=default_policy)
    return "\n".join(part.get_content() for part in parsed.walk() if part.get_content_maintype() == "text")


# --- The search ------------------------------------------------------------------------------------


def _forms_of_email(address: str) -> list[str]:
    return [address, quote(address), quote(address, safe=""), address.split("@")[0]]


def _forms_of_phone(national: str) -> list[str]:
    digits = national.replace(" ", "")
    e164 = "+44" + digits[1:]
    return [national, digits, e164, quote(e164, safe=""), digits[1:], national.replace(" ", "-")]


def canaries(secrets: dict[str, str]) -> dict[str, str]:
    """Every value that must be nowhere, by a name that says what it is."""
    found = {
        "patient name": NAME,
        "patient surname": SURNAME,
        "free text": TEXT,
        "kiosk text": KIOSK_TEXT,
        "texted patient's name": SMS_NAME,
        "emailed patient's name": EMAIL_NAME,
        # Their words searched for (a word search is a GET: its query string is logged).
        "free text word": TEXT.split()[0],
        "kiosk text word": KIOSK_TEXT.split()[0],
    }
    for label, address in [
        ("patient email", EMAIL),
        ("kiosk email", KIOSK_EMAIL),
        ("staff email", STAFF_EMAIL),
        ("invited email", INVITED_EMAIL),
        ("refused email", REFUSED_EMAIL),
    ]:
        found.update({f"{label} ({n})": form for n, form in enumerate(_forms_of_email(address))})
    for label, number in [
        ("patient phone", "07700 900731"),
        ("kiosk phone", KIOSK_PHONE),
        ("texted phone", SMS_PHONE),
        ("refused phone", REFUSED_PHONE),
    ]:
        found.update({f"{label} ({n})": form for n, form in enumerate(_forms_of_phone(number))})
    for label, secret in secrets.items():
        if label.startswith("SMS body"):
            # The whole body and its wording around the link (a logged body would carry both).
            found[label] = secret
            found.update(
                {f"{label} words": part.strip() for part in TOKEN_LINK.split(secret)[:1] if part.strip()}
            )
            continue
        if len(secret) < 8:  # a reset link's user id (MQ for user 1) is not secret, and too short to search
            continue
        found[label] = secret
        for n, part in enumerate(secret.split(".")):
            if len(part) >= 8 and part != secret:
                found[f"{label} part {n}"] = part
        found[f"{label} (escaped)"] = "".join(f"%{ord(c):02X}" for c in secret)
    return {label: value for label, value in found.items() if value}


def _search(logs: Path, secrets: dict[str, str], tasks: list[str], results: Results) -> None:
    lines = {name: _read(logs, name).splitlines() for name in ("web", "worker", "beat")}
    total = sum(len(found) for found in lines.values())
    hits = [
        (label, name, number, line)
        for label, value in canaries(secrets).items()
        for name, found in lines.items()
        for number, line in enumerate(found, 1)
        if value.lower() in line.lower()
    ]
    for label, name, number, line in hits[:20]:
        print(f"    {label} in {name} log line {number}: {_redacted(line, secrets)[:300]}", flush=True)
    results.check(
        f"no canary in the {total} lines web, worker and beat wrote",
        not hits and total > 0,
        f"{len(hits)} hits of {len(canaries(secrets))} canaries"
        if hits
        else f"{len(canaries(secrets))} canaries",
    )
    web = "\n".join(lines["web"])
    redacted_paths = len(re.findall(r'"(?:GET|POST) /f/\[redacted\]/', web))
    results.check(
        "the access log lists the /f/ requests with their token redacted, and the other pages",
        redacted_paths >= 8
        and all(
            p in web
            for p in (
                KIOSK,
                "/api/visits/",
                "/sms/receipts/twilio/",
                "/accounts/reset/[redacted]",
                "export.csv",
                "/recovery/incidents/?q=[redacted]",
            )
        ),
        f"{redacted_paths} /f/[redacted]/ request lines",
    )
    worker = "\n".join(lines["worker"])
    ran = [task for task in tasks if re.search(rf"Task {re.escape(task)}\[[^\]]+\] succeeded", worker)]
    sends = len(re.findall(r"Task \S+\[[^\]]+\] received", worker))
    results.check(
        "the worker log names every task it ran, beat's sweeps included",
        len(ran) == len(tasks),
        f"{len(ran)} of {len(tasks)} periodic tasks succeeded; {sends} tasks received"
        + (f"; missing {sorted(set(tasks) - set(ran))}" if len(ran) < len(tasks) else ""),
    )
    sending = [
        "sms survey_invitation sent",
        "email survey_invitation sent",
        "email password_reset sent",
        "Twilio refused it",
        "SMTPRecipientsRefused",
    ]
    missing = [line for line in sending if line not in worker]
    results.check(
        "the worker log has the sends and the providers' refusals (whose answers quote the contact)",
        not missing,
        f"missing {missing}" if missing else "",
    )
    beat = "\n".join(lines["beat"])
    sent = sorted(set(re.findall(r"Sending due task \S+ \(([^)]+)\)", beat)))
    results.check("the beat log names the tasks it sent", bool(sent), f"{sent}")


def _redacted(line: str, secrets: dict[str, str]) -> str:
    """The line with each canary named instead of written, long enough to find what logged it."""
    for label, value in sorted(canaries(secrets).items(), key=lambda item: -len(item[1])):
        line = re.sub(re.escape(value), f"<{label}>", line, flags=re.IGNORECASE)
    return line
