"""A local fake of Twilio's Messages API, for testing the real SMS backend without the internet.

It answers ``POST /2010-04-01/Accounts/<sid>/Messages.json`` as Twilio does: HTTP basic auth
with the account SID and auth token, a form-encoded body, 201 and a JSON message with its ``sid``;
or, on demand, the 4xx/5xx answers Twilio gives (``plan``). It also signs delivery receipts the
way Twilio does (``signed``), independently of the client library the app uses to check them.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import hmac
import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs

import pytest

ACCOUNT_SID = "AC0123456789abcdef0123456789abcdef"
AUTH_TOKEN = "fake-twilio-auth-token"
MESSAGES_PATH = f"/2010-04-01/Accounts/{ACCOUNT_SID}/Messages.json"
# Twilio's answer to a refused message quotes the number: the app must never pass that on.
REFUSAL = {"code": 21211, "message": "The 'To' number {to} is not a valid phone number.", "status": 400}


@dataclass
class FakeTwilio:
    base_url: str = ""
    received: list[dict[str, str]] = field(default_factory=list)
    answers: list[int] = field(default_factory=list)  # planned statuses; 201 once they run out
    refused: set[str] = field(default_factory=set)  # numbers always answered 400, as Twilio refuses them

    def plan(self, *statuses: int) -> None:
        self.answers.extend(statuses)

    def next_status(self) -> int:
        return self.answers.pop(0) if self.answers else 201


def signed(url: str, params: dict[str, str], token: str = AUTH_TOKEN) -> str:
    """X-Twilio-Signature: base64 HMAC-SHA1, keyed by the auth token, of the full URL followed by
    each POST parameter's name and value, sorted by name (twilio.com/docs/usage/security)."""
    payload = url + "".join(name + params[name] for name in sorted(params))
    digest = hmac.new(token.encode(), payload.encode(), hashlib.sha1).digest()
    return base64.b64encode(digest).decode()


def _handler(fake: FakeTwilio) -> type[BaseHTTPRequestHandler]:
    expected_auth = "Basic " + base64.b64encode(f"{ACCOUNT_SID}:{AUTH_TOKEN}".encode()).decode()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length", "0"))
            form = {k: v[0] for k, v in parse_qs(self.rfile.read(length).decode()).items()}
            if self.path != MESSAGES_PATH:
                return self._answer(404, {"code": 20404, "message": "Not found", "status": 404})
            if self.headers.get("Authorization") != expected_auth:
                return self._answer(401, {"code": 20003, "message": "Authenticate", "status": 401})
            fake.received.append(form)
            status = 400 if form.get("To") in fake.refused else fake.next_status()
            if status == 201:
                sid = f"SM{len(fake.received):032x}"
                body = {"sid": sid, "status": "queued", "to": form.get("To"), "body": form.get("Body")}
            elif status == 400:
                body = {**REFUSAL, "message": REFUSAL["message"].format(to=form.get("To"))}
            else:
                body = {"code": 20429 if status == 429 else 20500, "message": "Try later", "status": status}
            return self._answer(status, body)

        def _answer(self, status: int, body: dict) -> None:
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, format: str, *args: object) -> None:
            pass  # quiet: the test's logs are what the app writes

    return Handler


@contextlib.contextmanager
def running() -> Iterator[FakeTwilio]:
    """A fake Twilio on a free port of 127.0.0.1 (here, or for the app processes a fault script runs)."""
    fake = FakeTwilio()
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(fake))
    fake.base_url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield fake
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture
def fake_twilio(settings) -> Iterator[FakeTwilio]:
    """A fake Twilio on a free port of 127.0.0.1, and the app configured to send through it."""
    with running() as fake:
        settings.SMS_BACKEND = "servicedesk.notify.TwilioSmsBackend"
        settings.TWILIO_ACCOUNT_SID, settings.TWILIO_AUTH_TOKEN = ACCOUNT_SID, AUTH_TOKEN
        settings.TWILIO_API_BASE, settings.SITE_URL = fake.base_url, "https://practice.example"
        yield fake
