"""The outbox under a refusing mail server and a killed worker (scenarios 4 and 5 of ``make faults``).

Both run the real path: the worker and the sweeps send through Django's SMTP backend to a small
mail server this script starts on a loopback port (``MailSink``), which counts what it accepted
per recipient. Nothing here moves a timestamp: a retry waits for its real backoff (30 s) and an
interrupted send for the real ``OUTBOX_SENDING_TIMEOUT``, set to its minimum (60 s).
"""

from __future__ import annotations

import contextlib
import json
import re
import socketserver
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from typing import Protocol

from tests.load import harness

# Small, so that a refused message gives up after one retry; the timeout is the lowest the
# settings accept, so a send interrupted by the kill is settled one minute later.
OUTBOX_ENV = {"OUTBOX_MAX_ATTEMPTS": "2", "OUTBOX_SENDING_TIMEOUT": "60"}
SETTLE_WITHIN = 180
MANAGERS = """
from datetime import timedelta
from django.utils import timezone
from tests.factories import ServiceGoalFactory, UserFactory
managers = [UserFactory(manager=True, username=f"{tag}{{n}}", email=f"{tag}-{{n}}@example.org")
            for n in range({count})]
ServiceGoalFactory(owner=managers[0], title="Fault script goal",
                   review_on=timezone.localdate() - timedelta(days=3))
"""
REMINDERS = """
from design.tasks import send_goal_review_reminders
from servicedesk.tasks import sweep_outbox
print([(send_goal_review_reminders(), sweep_outbox()) for _ in range({times})])
"""
QUEUE = """
from django.utils import timezone
from servicedesk.outbox import message_key, outbox_email
now = timezone.now()
for n in range({count}):
    outbox_email(key=message_key("faults", "{tag}", n), to=f"{tag}-{{n}}@example.org",
                 subject="Fault script", text="Hello", kind="weekly_digest", now=now)
"""
SWEEP = "from servicedesk.tasks import sweep_outbox; print(sweep_outbox())"
ROWS = """
import json
from servicedesk.models import OutboxMessage
print(json.dumps(list(OutboxMessage.objects.filter(to__startswith="{tag}-")
      .values_list("to", "status", "attempts", "last_error"))))
"""


class Results(Protocol):
    def check(self, what: str, ok: bool, detail: str = "") -> None: ...


# --- A mail server that refuses some recipients --------------------------------------------------


class _Session(socketserver.StreamRequestHandler):
    """One SMTP connection: enough of RFC 5321 for smtplib (no extensions advertised)."""

    server: MailSink

    def reply(self, text: str) -> None:
        self.wfile.write(f"{text}\r\n".encode())

    def handle(self) -> None:
        self.reply("220 faults ESMTP")
        recipients: list[str] = []
        while line := self.rfile.readline():
            verb = line[:4].upper()
            if verb in (b"EHLO", b"HELO"):
                self.reply("250 faults")
            elif verb in (b"MAIL", b"RSET"):
                recipients = []
                self.reply("250 OK")
            elif verb == b"RCPT":
                match = re.search(rb"<([^>]*)>", line)
                address = match.group(1).decode().lower() if match else ""
                if address in self.server.refused:
                    self.server.record(refused=address)
                    self.reply("550 5.1.1 Mailbox unavailable")
                else:
                    recipients.append(address)
                    self.reply("250 OK")
            elif verb == b"DATA":
                if not recipients:
                    self.reply("503 No valid recipients")
                    continue
                self.reply("354 End data with <CR><LF>.<CR><LF>")
                lines = []
                while (data := self.rfile.readline()) not in (b".\r\n", b""):
                    lines.append(data[1:] if data.startswith(b"..") else data)
                time.sleep(self.server.delay)  # a throttled server: the worker waits for the 250
                self.reply("250 OK queued")
                self.server.record(accepted=recipients, message=b"".join(lines))
                recipients = []
            elif verb == b"QUIT":
                self.reply("221 Bye")
                return
            else:
                self.reply("250 OK" if verb == b"NOOP" else "502 Not implemented")


class MailSink(socketserver.ThreadingTCPServer):
    """An SMTP server on 127.0.0.1 that answers 550 to RCPT TO for ``refused`` and takes the rest,
    optionally ``delay`` seconds before each 250 to DATA. Counts accepted messages per recipient
    (one message with two recipients counts once for each) and refusals per address, and keeps
    what it accepted (the canary scenario reads the links in it)."""

    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, *, refused: frozenset[str] = frozenset(), delay: float = 0.0) -> None:
        super().__init__(("127.0.0.1", 0), _Session)
        self.refused, self.delay = frozenset(a.lower() for a in refused), delay
        self.accepted: Counter = Counter()
        self.refusals: Counter = Counter()
        self.messages: list[bytes] = []  # every accepted message, as received
        self._lock = threading.Lock()

    def handle_error(self, request: object, client_address: object) -> None:
        """A client killed mid-conversation (scenario 5) resets its connection: expected, not news."""
        if not isinstance(sys.exc_info()[1], OSError):
            super().handle_error(request, client_address)

    @property
    def email_url(self) -> str:
        return f"smtp://127.0.0.1:{self.server_address[1]}"

    def record(self, *, accepted: list[str] = (), refused: str = "", message: bytes = b"") -> None:
        with self._lock:
            self.accepted.update(accepted)
            if message:
                self.messages.append(message)
            if refused:
                self.refusals[refused] += 1

    def count(self, tag: str) -> Counter:
        with self._lock:
            return Counter({a: n for a, n in self.accepted.items() if a.startswith(f"{tag}-")})


@contextlib.contextmanager
def mail_sink(**options: object) -> Iterator[MailSink]:
    sink = MailSink(**options)
    thread = threading.Thread(target=sink.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True)
    thread.start()
    try:
        yield sink
    finally:
        sink.shutdown()
        sink.server_close()


def rows(env: dict, tag: str) -> list[tuple[str, str, int, str]]:
    """(to, status, attempts, last_error) of every outbox message to ``tag``'s addresses."""
    return [
        tuple(row)
        for row in json.loads(harness.manage(env, "shell", "--no-imports", "-c", ROWS.format(tag=tag)))
    ]


def statuses(found: list[tuple[str, str, int, str]]) -> dict[str, int]:
    """sent / failed / failed:interrupted / queued / sending, counted."""
    return dict(
        Counter(
            status + (":interrupted" if error.startswith("Interrupted") else "")
            for _to, status, _attempts, error in found
        )
    )


# --- 4. A mail server refuses one manager --------------------------------------------------------


def refused_recipient(env: dict, worker: Callable[[dict], subprocess.Popen], results: Results) -> None:
    tag, managers = "refused", 4
    refused = f"{tag}-1@example.org"
    harness.manage(env, "shell", "--no-imports", "-c", MANAGERS.format(tag=tag, count=managers))
    with mail_sink(refused=frozenset({refused})) as sink:
        env = {**env, **OUTBOX_ENV, "EMAIL_URL": sink.email_url}
        celery = worker(env)
        # The goal-review sweep writes one message per manager; the worker sends them after commit.
        harness.manage(env, "shell", "--no-imports", "-c", REMINDERS.format(times=1))
        # The refused one is retried after its 30 s backoff by the outbox sweep, then failed.
        deadline = time.monotonic() + SETTLE_WITHIN
        while time.monotonic() < deadline:
            found = rows(env, tag)
            if len(found) == managers and {status for _, status, _, _ in found} <= {"sent", "failed"}:
                break
            time.sleep(3)
            harness.manage(env, "shell", "--no-imports", "-c", SWEEP)
        settled = rows(env, tag)
        # Both sweeps again, several times: nothing new is decided, nothing is sent again.
        harness.manage(env, "shell", "--no-imports", "-c", REMINDERS.format(times=3))
        time.sleep(2)  # anything they had queued would be on its way by now
        harness.stop(celery)
        emails = sink.count(tag)
        refusals = sink.refusals[refused]
    found = rows(env, tag)
    others = {f"{tag}-{n}@example.org" for n in range(managers)} - {refused}
    results.check(
        "every other manager got the past-review list exactly once",
        all(emails[address] == 1 for address in others),
        f"{dict(sorted(emails.items()))}",
    )
    results.check("the refused manager got none", emails[refused] == 0, f"{emails[refused]} accepted")
    mine = [row for row in found if row[0] == refused]
    error = mine[0][3][:60] if mine else ""
    results.check(
        "the refused message was retried, then failed for a manager to see",
        len(mine) == 1 and mine[0][1:3] == ("failed", 2) and refusals == 2 and "550" in mine[0][3],
        f"{mine[0][1:3] if mine else 'no message'}, {refusals} refusals, error {error!r}",
    )
    results.check(
        "the others' messages are sent, and the sweeps run again changed nothing",
        statuses(found) == {"sent": managers - 1, "failed": 1} and found and sorted(found) == sorted(settled),
        f"{statuses(found)}",
    )


# --- 5. A worker killed while it sends outbox messages -------------------------------------------


def outbox_worker_killed(env: dict, worker: Callable[[dict], subprocess.Popen], results: Results) -> None:
    tag, count = "outbox-kill", 60
    with mail_sink(delay=0.2) as sink:
        env = {**env, **OUTBOX_ENV, "EMAIL_URL": sink.email_url}
        harness.manage(env, "shell", "--no-imports", "-c", QUEUE.format(tag=tag, count=count))
        celery = worker(env)
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and sum(sink.count(tag).values()) < 10:
            time.sleep(0.02)
        harness.stop(celery, sig=9)  # the whole worker, pool included, in the middle of the batch
        killed = time.monotonic()
        at_kill = sum(sink.count(tag).values())
        middle = statuses(rows(env, tag))
        celery = worker(env)
        # Tasks the dead worker had taken are lost with it; the sweeps send what is still queued,
        # and once OUTBOX_SENDING_TIMEOUT has passed since the kill, fail the sends it cut short.
        deadline = killed + SETTLE_WITHIN
        while time.monotonic() < deadline:
            counts = statuses(rows(env, tag))
            if not {"queued", "sending"} & set(counts):
                break
            harness.manage(env, "shell", "--no-imports", "-c", SWEEP)
            time.sleep(5)
        harness.manage(env, "shell", "--no-imports", "-c", SWEEP)  # once more: nothing changes
        harness.stop(celery)
        emails = sink.count(tag)
    found = rows(env, tag)
    counts = statuses(found)
    waited = time.monotonic() - killed
    results.check(
        "the kill interrupted sending",
        0 < at_kill < count and middle.get("sent", 0) < count,
        f"{at_kill} of {count} emails accepted at the kill; then {middle}",
    )
    twice = [address for address, n in emails.items() if n > 1]
    results.check(
        "nobody got an outbox email twice", emails and not twice, f"{len(twice)} of {len(emails)} twice"
    )
    sent = {to for to, status, _, _ in found if status == "sent"}
    # An interrupted send may have arrived (the server took it, the worker died before recording
    # it) or not: the at-most-once rule leaves it to a manager either way.
    arrived = sum(emails[to] for to, status, _, _ in found if status == "failed")
    results.check(
        "every message is sent (and arrived) or failed as interrupted; none left queued or sending",
        len(found) == count
        and set(counts) <= {"sent", "failed:interrupted"}
        and all(emails[to] == 1 for to in sent),
        f"{counts} after {waited:.0f} s; {len(emails)} recipients emailed, {arrived} of them interrupted",
    )
