"""``make faults``: Servicedesk under the failures a practice will meet, one command.

1. PostgreSQL unavailable: patients' pages answer the friendly 503 within 2 s, with no stack
   trace, and recover when it returns (a TCP proxy we switch off; the shared server stays up).
2. Redis killed (SIGKILL) during a burst of kiosk submissions and invitation sends, then
   restarted: every submission is stored, every invitation is sent, none twice.
3. A Celery worker killed (kill -9) while it sends: no patient gets a message twice; a message
   caught mid-send is marked for a manager to retry rather than sent again blindly.
4. A mail server that refuses one manager (550 to RCPT TO) of the goal-review "past review"
   list: every other manager gets it once, the refused message is retried then failed, and
   sweeps run again send nobody a second copy (``tests/faults/outbox.py``).
5. A worker killed (kill -9) mid-batch of 60 outbox emails to a throttled mail server: nobody
   gets two, and every message ends sent or failed as interrupted, none left queued or sending.
6. The canary: gunicorn, a worker and beat as separate processes in production mode, mail over
   SMTP and texts through the real Twilio backend to local fakes, a whole day's journey over HTTP;
   then no token, address, number, name or patient's words in any line the three wrote
   (``tests/faults/canary.py``).

Needs PostgreSQL (DATABASE_URL names a database whose name prefixes our scratch one) and the
redis-server program; starts its own Redis on port 6390 (the next free port up to 6399 if a
stray one holds it), its own gunicorn and worker, all on 127.0.0.1, and removes them afterwards,
also when a check fails, a step crashes, or the run is stopped (SIGTERM, SIGINT, SIGHUP).

CI runs it after the test suite (``.ci/run``). It exits 0 only when every check passed. It never
runs longer than FAULTS_TIME_LIMIT seconds (default 600): then it stops, cleans up and fails.

Timing: the kills are triggered by what the script observes (invitation emails written), not
by fixed sleeps, so a slow or busy machine changes how long a run takes, not what it proves.
The one time limit checked is the product's own: the friendly 503 within 2 s. Scenarios 4 and
5 wait for the outbox's real clocks (a 30 s retry backoff, a 60 s OUTBOX_SENDING_TIMEOUT), about
a minute each, rather than move timestamps; scenario 6 waits for beat's first minutely tasks.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/sd_proof .venv/bin/python -m tests.faults
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import traceback
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from urllib.parse import urlsplit

from tests.faults import canary, outbox
from tests.faults.proxy import SwitchableProxy
from tests.load import harness

# Below the ephemeral range, so no outgoing connection takes the port while our Redis is down.
REDIS_PORTS = range(6390, 6400)
TIME_LIMIT = int(os.environ.get("FAULTS_TIME_LIMIT", "600"))
# How long to wait for a worker to start sending, and for the work to settle after a fault:
# limits for a very slow machine, not targets (a quiet one needs a few seconds).
START_SENDING_WITHIN = 120
SETTLE_WITHIN = 180
KIOSK = "/k/waiting-room-kiosk/"
# What beat runs each minute for invitations: the outbox's sweep (sends what is due, settles sends
# a dead worker cut short) and the invitations' (reads outcomes back, hands over what is due).
SWEEP = (
    "from datetime import timedelta; from django.utils import timezone; "
    "from feedback.invitations import invitations_sweep; from servicedesk.outbox import outbox_sweep; "
    "now = timezone.now() + timedelta(minutes={shift}); outbox_sweep(now=now); "
    "print(invitations_sweep(now=now).as_dict())"
)
INVITE = """
from datetime import time as clock, timedelta
from django.utils import timezone
from feedback import invitations
from feedback.models import Invitation, InvitationMessage, InvitationRules, Survey
rules = InvitationRules.current()
rules.quiet_hours_start = rules.quiet_hours_end = clock(0, 0)
rules.save()
survey = Survey.objects.get(slug="after-your-visit")
now = timezone.now()
rows = []
for n in range({count}):
    contact = invitations.Contact(email=f"{tag}-{{n}}@example.org")
    rows.append(Invitation(survey=survey, first_name="Alex", email=contact.email,
                email_hash=contact.email_hash, visit_at=now - timedelta(hours=3),
                expires_at=now + timedelta(days=14), source="csv"))
Invitation.objects.bulk_create(rows)
InvitationMessage.objects.bulk_create(
    [InvitationMessage(invitation=i, kind="first", number=0, channel="email", due_at=now) for i in rows]
)
"""
STATUSES = """
from collections import Counter
from feedback.models import InvitationMessage
print(dict(Counter(InvitationMessage.objects.filter(invitation__email__startswith="{tag}-", kind="first")
      .values_list("status", flat=True))))
"""


class Aborted(BaseException):
    """The time limit passed, or someone stopped the run: clean up and fail (not an Exception, so
    that no ``except Exception`` on the way swallows it)."""


# Every process we start (gunicorn cleans up after itself): stopped in main()'s ``finally``.
CHILDREN: list[subprocess.Popen] = []


def _port_free(port: int) -> bool:
    """Nobody listens on it (bound the way redis-server binds, so old TIME_WAIT sockets don't count)."""
    with socket.socket() as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


class Redis:
    """Our own redis-server on port 6390 (or the next free one), started as .ci/run starts the shared one."""

    def __init__(self, folder: Path) -> None:
        self.folder, self.process = folder, None
        free = [port for port in REDIS_PORTS if _port_free(port)]
        if not free:
            raise RuntimeError(f"ports {REDIS_PORTS[0]}-{REDIS_PORTS[-1]} are all taken")
        self.port = free[0]

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def start(self) -> None:
        if not _port_free(self.port):  # never talk to someone else's Redis and believe it ours
            raise RuntimeError(f"port {self.port} was taken by another process while our Redis was down")
        self.process = subprocess.Popen(
            [
                "redis-server",
                "--bind",
                "127.0.0.1",
                "--port",
                str(self.port),
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                str(self.folder),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        CHILDREN.append(self.process)
        deadline = time.monotonic() + 30
        while True:
            if self.process.poll() is not None:
                raise RuntimeError(f"redis-server exited ({self.process.returncode}) on port {self.port}")
            with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", self.port), 0.5):
                return
            if time.monotonic() > deadline:
                raise RuntimeError(f"redis-server not listening on port {self.port} after 30 s")
            time.sleep(0.1)

    def kill(self) -> None:
        if self.process:
            harness.stop(self.process, sig=9)


def worker(env: dict) -> subprocess.Popen:
    # FAULTS_WORKER_LOG=path keeps the workers' own log, to see why a scenario failed.
    path = os.environ.get("FAULTS_WORKER_LOG")
    log = open(path, "a") if path else subprocess.DEVNULL  # noqa: SIM115 (the worker holds it open)
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "servicedesk",
            "worker",
            "-c",
            "2",
            "-l",
            "WARNING",
            "--without-gossip",
            "--without-mingle",
            "--without-heartbeat",
        ],
        cwd=harness.ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=log,
        start_new_session=True,
    )
    CHILDREN.append(process)
    return process


def emails_per_recipient(folder: Path, tag: str, *, skip: frozenset[str] = frozenset()) -> Counter:
    pattern = re.compile(rf"^To:.*?({re.escape(tag)}-\d+@example\.org)", re.MULTILINE)
    return Counter(
        m
        for path in folder.glob("*")
        if path.name not in skip
        for m in pattern.findall(path.read_text(errors="replace"))
    )


def emails_sent(folder: Path, tag: str) -> int:
    return sum(emails_per_recipient(folder, tag).values())


def sweep_until_sending(env: dict, folder: Path, tag: str, *, emails: int = 1) -> Callable[[], None]:
    """Run a sweep (it publishes the due messages) and return as soon as ``emails`` of ``tag``'s
    emails are written, i.e. while the worker is sending, however long it took to start.
    Returns a function that waits for the sweep to finish."""
    errors: list[BaseException] = []

    def run() -> None:
        try:
            sweep(env)
        except Exception as exc:
            errors.append(exc)

    before = frozenset(path.name for path in folder.iterdir())
    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    deadline = time.monotonic() + START_SENDING_WITHIN
    while time.monotonic() < deadline and not errors:
        # Only new files are read: the folder holds the emails of earlier scenarios too.
        if sum(emails_per_recipient(folder, tag, skip=before).values()) >= emails:
            break
        time.sleep(0.02)
    else:
        if not errors:
            print(f"  ({emails} {tag} emails not written within {START_SENDING_WITHIN} s)", flush=True)

    def finish() -> None:
        thread.join(timeout=300)
        if errors:
            raise errors[0]

    return finish


def statuses(env: dict, tag: str) -> dict:
    return eval(harness.manage(env, "shell", "--no-imports", "-c", STATUSES.format(tag=tag)).strip())  # noqa: S307


def sweep(env: dict, *, shift_minutes: int = 0) -> str:
    return harness.manage(env, "shell", "--no-imports", "-c", SWEEP.format(shift=shift_minutes)).strip()


def kiosk_count(env: dict) -> int:
    code = "from feedback.models import Response; print(Response.objects.filter(channel='kiosk').count())"
    return int(harness.manage(env, "shell", "--no-imports", "-c", code).strip())


class Results:
    def __init__(self) -> None:
        self.rows: list[tuple[str, str, bool, str]] = []
        self.scenario = "setup"

    def check(self, what: str, ok: bool, detail: str = "") -> None:
        self.rows.append((self.scenario, what, ok, detail))
        print(f"  {'ok  ' if ok else 'FAIL'}  {what}{f'  ({detail})' if detail else ''}", flush=True)

    @property
    def failed(self) -> list[tuple[str, str, bool, str]]:
        return [row for row in self.rows if not row[2]]


# --- 1. PostgreSQL unavailable -----------------------------------------------------------------


def database_outage(env: dict, results: Results) -> None:
    db = urlsplit(env["DATABASE_URL"])
    proxy = SwitchableProxy(
        listen_port=harness.free_port(), target=(db.hostname or "127.0.0.1", db.port or 5432)
    )
    proxy.start()
    proxied = db._replace(netloc=f"{db.username or 'postgres'}@127.0.0.1:{proxy.listen_port}").geturl()
    try:
        with harness.gunicorn({**env, "DATABASE_URL": proxied}, workers=2) as url:
            warm_up_every_worker(url, [KIOSK, "/healthz"], workers=2)
            before = harness.Browser(url).get(KIOSK)
            results.check("kiosk page works before the outage", before.status == 200, f"HTTP {before.status}")
            proxy.stop()
            for path in (KIOSK, "/healthz", f"/f/{'a' * 22}.{'b' * 22}/"):
                page = _timed_get(url, path)
                friendly = page is not None and page.status == 503 and "Traceback" not in page.body
                if path != "/healthz":
                    friendly = friendly and "back in a moment" in page.body
                detail = f"HTTP {page.status} in {page.seconds:.2f} s" if page else "no answer"
                results.check(
                    f"{path} answers the friendly 503 within 2 s", friendly and page.seconds <= 2.0, detail
                )
            proxy.start()
            recovered = None
            deadline = time.monotonic() + 15
            while time.monotonic() < deadline:
                page = _timed_get(url, KIOSK)
                if page is not None and page.status == 200:
                    recovered = time.monotonic() - (deadline - 15)
                    break
                time.sleep(0.5)
            results.check(
                "kiosk page recovers when PostgreSQL returns",
                recovered is not None,
                f"after {recovered:.1f} s" if recovered is not None else "not within 15 s",
            )
    finally:
        proxy.stop()


def warm_up_every_worker(url: str, paths: list[str], *, workers: int) -> None:
    """Warm-up from several clients at once, so that every gunicorn worker has served the pages
    (one client could be served by the same worker every time, leaving another cold for the
    timed requests)."""
    threads = [
        threading.Thread(target=harness.warm_up, args=(url, paths), kwargs={"rounds": 4}, daemon=True)
        for _ in range(2 * workers)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()


def _timed_get(url: str, path: str) -> harness.Page | None:
    try:
        return harness.Browser(url, timeout=10).get(path)
    except OSError:
        return None


# --- 2. Redis killed during a burst --------------------------------------------------------------


def redis_outage(env: dict, redis: Redis, mail_dir: Path, results: Results) -> None:
    tag = "redis-burst"
    harness.manage(env, "shell", "--no-imports", "-c", INVITE.format(count=60, tag=tag))
    kiosk_before = kiosk_count(env)
    answers: Counter = Counter()
    lock = threading.Lock()
    redis_down, done = threading.Event(), threading.Event()
    during = [0]  # submissions answered while Redis was down
    with harness.gunicorn(env, workers=2) as url:
        warm_up_every_worker(url, [KIOSK], workers=2)
        celery = worker(env)

        def patient() -> None:
            browser = harness.Browser(url, timeout=20)
            while not done.is_set():
                try:
                    form = browser.get(KIOSK)
                    answer = (
                        browser.submit(form, {"comment": "Fine"}).status
                        if form.status == 200
                        else form.status
                    )
                except Exception as exc:  # anything but an answer is a failed submission, counted
                    answer = type(exc).__name__
                with lock:
                    answers[answer] += 1
                    during[0] += redis_down.is_set()
                time.sleep(0.2)

        threads = [threading.Thread(target=patient, daemon=True) for _ in range(6)]
        try:
            for thread in threads:
                thread.start()
            time.sleep(1)
            # Publishes the due invitations; Redis is killed once the worker has started sending.
            finish_sweep = sweep_until_sending(env, mail_dir, tag)
            redis.kill()
            redis_down.set()
            killed = time.monotonic()
            at_kill = emails_sent(mail_dir, tag)
            finish_sweep()
            sweep(env)  # broker down: nothing published, the rows stay due
            time.sleep(max(0, killed + 5 - time.monotonic()))
            redis.start()
            redis_down.clear()
            time.sleep(3)  # patients go on a moment with Redis back
        finally:
            done.set()
            for thread in threads:
                thread.join(timeout=60)
        # What Redis held when it died is gone (no persistence, as in .ci/run). The database knows
        # what is still due: the next sweeps publish it again (the later one as if 6 minutes on,
        # when the republish guard for messages published just before the crash has passed).
        deadline = time.monotonic() + SETTLE_WITHIN
        shift = 0
        while time.monotonic() < deadline:
            counts = statuses(env, tag)
            if set(counts) <= {"sent"}:
                break
            sweep(env, shift_minutes=shift)
            shift = 6
            time.sleep(3)
        harness.stop(celery)
    counts = statuses(env, tag)
    stored = kiosk_count(env) - kiosk_before
    results.check(
        "every kiosk submission was answered 302 (none failed)",
        set(answers) == {302},
        f"{dict(answers)}, {during[0]} while Redis was down",
    )
    results.check("every answered submission is stored", stored == answers[302], f"{stored} stored")
    emails = emails_per_recipient(mail_dir, tag)
    results.check("every invitation was sent", counts == {"sent": 60}, f"{counts}; {at_kill} at the kill")
    results.check(
        "no patient got an invitation twice",
        max(emails.values(), default=0) == 1 and len(emails) == 60,
        f"{len(emails)} patients, most messages to one: {max(emails.values(), default=0)}",
    )


# --- 3. A worker killed while it sends -----------------------------------------------------------


def worker_killed(env: dict, mail_dir: Path, results: Results) -> None:
    tag = "worker-kill"
    harness.manage(env, "shell", "--no-imports", "-c", INVITE.format(count=300, tag=tag))
    celery = worker(env)
    finish_sweep = sweep_until_sending(env, mail_dir, tag, emails=20)  # both pool processes busy
    harness.stop(celery, sig=9)  # the whole worker, children included, mid-batch
    at_kill = emails_sent(mail_dir, tag)
    finish_sweep()
    middle = statuses(env, tag)
    celery = worker(env)
    deadline = time.monotonic() + SETTLE_WITHIN
    while time.monotonic() < deadline:
        counts = statuses(env, tag)
        if not {"queued", "sending"} & set(counts):
            break
        sweep(env, shift_minutes=16)  # as if later: republish, and settle any send left half-done
        time.sleep(3)
    harness.stop(celery)
    counts = statuses(env, tag)
    emails = emails_per_recipient(mail_dir, tag)
    twice = [address for address, n in emails.items() if n > 1]
    results.check(
        "the kill interrupted sending",
        0 < at_kill < 300 and middle.get("sent", 0) < 300,
        f"{at_kill} of 300 emails written at the kill; then {middle}",
    )
    results.check(
        "no patient got an invitation twice", emails and not twice, f"{len(twice)} of {len(emails)} twice"
    )
    settled = set(counts) <= {"sent", "failed"}
    results.check(
        "every message was sent once, or marked for a manager to retry",
        settled and counts.get("sent", 0) <= len(emails),
        f"{counts}; {len(emails)} patients emailed",
    )


# --- The run -------------------------------------------------------------------------------------


def _abort(signum: int, frame: object) -> None:
    # Once: a second signal during the clean-up must not cut it short.
    for sig in (signal.SIGALRM, signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
        signal.signal(sig, lambda *_: None)
    reason = f"time limit of {TIME_LIMIT} s reached" if signum == signal.SIGALRM else signal.strsignal(signum)
    raise Aborted(reason)


def main() -> int:
    base = os.environ.get("DATABASE_URL", "")
    if not base.startswith("postgres") or not shutil.which("redis-server"):
        print("Needs DATABASE_URL=postgres://… and redis-server.")
        return 2
    started = time.monotonic()
    results = Results()
    database_url = harness.scratch_database_url(base, "faults")
    with tempfile.TemporaryDirectory(prefix="sd-faults-") as tmp:
        folder = Path(tmp)
        (folder / "mail").mkdir()
        (folder / "redis").mkdir()
        redis = Redis(folder / "redis")
        print(
            f"scratch database {urlsplit(database_url).path.lstrip('/')}, Redis on port {redis.port}, "
            f"time limit {TIME_LIMIT} s",
            flush=True,
        )
        env = harness.production_env(
            database_url=database_url,
            redis_url=redis.url,
            # django-environ drops the first slash of the path: four slashes keep it absolute.
            EMAIL_URL=f"filemail:///{folder / 'mail'}",
        )
        mail = folder / "mail"
        scenarios = [
            ("1. PostgreSQL unavailable", lambda: database_outage(env, results)),
            (
                "2. Redis killed during a burst of submissions and invitations",
                lambda: redis_outage(env, redis, mail, results),
            ),
            ("3. A worker killed (kill -9) while it sends", lambda: worker_killed(env, mail, results)),
            (
                "4. A mail server refuses one manager of the past-review list",
                lambda: outbox.refused_recipient(env, worker, results),
            ),
            (
                "5. A worker killed (kill -9) mid-batch of outbox emails",
                lambda: outbox.outbox_worker_killed(env, worker, results),
            ),
            (
                "6. No patient data or token in the web, worker and beat logs",
                lambda: canary.canary_logs(env, CHILDREN, folder, results),
            ),
        ]
        only = {part.strip() for part in os.environ.get("FAULTS", "").split(",") if part.strip()}
        if only:  # FAULTS=2,3 runs those scenarios only
            scenarios = [(name, run) for name, run in scenarios if name.split(".")[0] in only]
        for sig in (signal.SIGALRM, signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
            signal.signal(sig, _abort)
        signal.alarm(TIME_LIMIT)
        try:
            try:
                harness.create_database(database_url)  # drops the scratch database a killed run left
                redis.start()
                harness.manage(env, "migrate", "--noinput")
                harness.manage(env, "seed_demo", "--force")
                harness.manage(env, "collectstatic", "--noinput")
            except Exception as exc:
                results.check("scratch database, Redis, migrations and demo data", False, _error(exc))
                scenarios = []
            for name, scenario in scenarios:
                results.scenario = name
                print(name, flush=True)
                began = time.monotonic()
                try:
                    if not redis.running():  # an earlier scenario failed while Redis was down
                        redis.start()
                    scenario()
                except Exception as exc:
                    results.check("the scenario ran to the end", False, _error(exc))
                finally:
                    # A scenario that failed half-way may have left a worker: it must not take
                    # the next scenario's tasks.
                    for process in CHILDREN:
                        if process is not redis.process:
                            harness.stop(process, sig=signal.SIGKILL)
                print(f"  ({time.monotonic() - began:.0f} s)", flush=True)
        except Aborted as exc:
            results.check("the run finished", False, f"stopped: {exc}")
        finally:
            signal.alarm(0)
            for sig in (signal.SIGALRM, signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
                signal.signal(sig, lambda *_: None)  # the clean-up runs to its end
            for process in CHILDREN:
                harness.stop(process, sig=signal.SIGKILL)
            try:
                harness.drop_database(database_url)
            except Exception as exc:
                print(f"could not drop the scratch database: {exc}", flush=True)
    failed = results.failed
    print(
        f"\nfault scripts: {len(results.rows) - len(failed)} passed, {len(failed)} failed "
        f"in {time.monotonic() - started:.0f} s",
        flush=True,
    )
    for scenario, what, _, detail in failed:
        print(f"  FAILED  {scenario}: {what}{f'  ({detail})' if detail else ''}", flush=True)
    return 1 if failed or not results.rows else 0


def _error(exc: BaseException) -> str:
    traceback.print_exception(exc)
    return f"{type(exc).__name__}: {str(exc).strip().splitlines()[-1] if str(exc).strip() else ''}"


if __name__ == "__main__":
    sys.exit(main())
