"""``make faults``: Servicedesk under the failures a practice will meet, one command.

1. PostgreSQL unavailable: patients' pages answer the friendly 503 within 2 s, with no stack
   trace, and recover when it returns (a TCP proxy we switch off; the shared server stays up).
2. Redis killed (SIGKILL) during a burst of kiosk submissions and invitation sends, then
   restarted: every submission is stored, every invitation is sent, none twice.
3. A Celery worker killed (kill -9) while it sends: no patient gets a message twice; a message
   caught mid-send is marked for a manager to retry rather than sent again blindly.

Needs PostgreSQL (DATABASE_URL names a database whose name prefixes our scratch one) and the
redis-server program; starts its own Redis on port 6390, its own gunicorn and worker, all on
127.0.0.1, and removes them afterwards.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/sd_proof .venv/bin/python -m tests.faults
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path
from urllib.parse import urlsplit

from tests.faults.proxy import SwitchableProxy
from tests.load import harness

REDIS_PORT = 6390
KIOSK = "/k/waiting-room-kiosk/"
SWEEP = (
    "from datetime import timedelta; from django.utils import timezone; "
    "from feedback.invitations import invitations_sweep; "
    "print(invitations_sweep(now=timezone.now() + timedelta(minutes={shift})).as_dict())"
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


class Redis:
    """Our own redis-server on port 6390, started like .ci/run starts the shared one."""

    def __init__(self, folder: Path) -> None:
        self.folder, self.process = folder, None

    def start(self) -> None:
        self.process = subprocess.Popen(
            [
                "redis-server",
                "--bind",
                "127.0.0.1",
                "--port",
                str(REDIS_PORT),
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
        harness.wait_for_port(REDIS_PORT)

    def kill(self) -> None:
        if self.process:
            harness.stop(self.process, sig=9)


def worker(env: dict) -> subprocess.Popen:
    return subprocess.Popen(
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
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )


def emails_per_recipient(folder: Path, tag: str) -> Counter:
    pattern = re.compile(rf"^To:.*?({re.escape(tag)}-\d+@example\.org)", re.MULTILINE)
    return Counter(m for path in folder.glob("*") for m in pattern.findall(path.read_text(errors="replace")))


def statuses(env: dict, tag: str) -> dict:
    return eval(harness.manage(env, "shell", "--no-imports", "-c", STATUSES.format(tag=tag)).strip())  # noqa: S307


def sweep(env: dict, *, shift_minutes: int = 0) -> str:
    return harness.manage(env, "shell", "--no-imports", "-c", SWEEP.format(shift=shift_minutes)).strip()


def kiosk_count(env: dict) -> int:
    code = "from feedback.models import Response; print(Response.objects.filter(channel='kiosk').count())"
    return int(harness.manage(env, "shell", "--no-imports", "-c", code).strip())


class Results:
    def __init__(self) -> None:
        self.rows: list[tuple[str, bool, str]] = []

    def check(self, what: str, ok: bool, detail: str = "") -> None:
        self.rows.append((what, ok, detail))
        print(f"  {'ok  ' if ok else 'FAIL'}  {what}{f'  ({detail})' if detail else ''}", flush=True)


# --- 1. PostgreSQL unavailable -----------------------------------------------------------------


def database_outage(env: dict, results: Results) -> None:
    print("1. PostgreSQL unavailable", flush=True)
    db = urlsplit(env["DATABASE_URL"])
    proxy = SwitchableProxy(
        listen_port=harness.free_port(), target=(db.hostname or "127.0.0.1", db.port or 5432)
    )
    proxy.start()
    proxied = db._replace(netloc=f"{db.username or 'postgres'}@127.0.0.1:{proxy.listen_port}").geturl()
    with harness.gunicorn({**env, "DATABASE_URL": proxied}, workers=2) as url:
        harness.warm_up(url, [KIOSK, "/healthz"], rounds=4)
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
    proxy.stop()


def _timed_get(url: str, path: str) -> harness.Page | None:
    try:
        return harness.Browser(url, timeout=10).get(path)
    except OSError:
        return None


# --- 2. Redis killed during a burst --------------------------------------------------------------


def redis_outage(env: dict, redis: Redis, mail_dir: Path, results: Results) -> None:
    print("2. Redis killed during a burst of submissions and invitations", flush=True)
    tag = "redis-burst"
    harness.manage(env, "shell", "--no-imports", "-c", INVITE.format(count=60, tag=tag))
    kiosk_before = kiosk_count(env)
    answers: Counter = Counter()
    with harness.gunicorn(env, workers=2) as url:
        harness.warm_up(url, [KIOSK], rounds=4)
        celery = worker(env)
        stop_at = time.monotonic() + 14

        def patient() -> None:
            browser = harness.Browser(url, timeout=20)
            while time.monotonic() < stop_at:
                try:
                    form = browser.get(KIOSK)
                    answers[
                        browser.submit(form, {"comment": "Fine"}).status
                        if form.status == 200
                        else form.status
                    ] += 1
                except OSError as exc:
                    answers[type(exc).__name__] += 1
                time.sleep(0.2)

        threads = [threading.Thread(target=patient) for _ in range(6)]
        for thread in threads:
            thread.start()
        time.sleep(1)
        sweep(env)  # publishes the due invitations; the worker starts sending
        redis.kill()
        killed = time.monotonic()
        sweep(env)  # broker down: nothing published, the rows stay due
        time.sleep(max(0, killed + 5 - time.monotonic()))
        redis.start()
        for thread in threads:
            thread.join()
        # What Redis held when it died is gone (no persistence, as in .ci/run). The database knows
        # what is still due: the next sweeps publish it again (the later one as if 6 minutes on,
        # when the republish guard for messages published just before the crash has passed).
        deadline = time.monotonic() + 90
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
        "every kiosk submission was answered 302 (none failed)", set(answers) == {302}, dict(answers)
    )
    results.check("every answered submission is stored", stored == answers[302], f"{stored} stored")
    emails = emails_per_recipient(mail_dir, tag)
    results.check("every invitation was sent", counts == {"sent": 60}, str(counts))
    results.check(
        "no patient got an invitation twice",
        max(emails.values(), default=0) == 1 and len(emails) == 60,
        f"{len(emails)} patients, most messages to one: {max(emails.values(), default=0)}",
    )


# --- 3. A worker killed while it sends -----------------------------------------------------------


def worker_killed(env: dict, mail_dir: Path, results: Results) -> None:
    print("3. A worker killed (kill -9) while it sends", flush=True)
    tag = "worker-kill"
    harness.manage(env, "shell", "--no-imports", "-c", INVITE.format(count=300, tag=tag))
    celery = worker(env)
    time.sleep(3)
    sweep(env)
    time.sleep(1.0)
    harness.stop(celery, sig=9)  # the whole worker, children included, mid-batch
    middle = statuses(env, tag)
    celery = worker(env)
    deadline = time.monotonic() + 120
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
    results.check("the kill interrupted sending", middle.get("sent", 0) < 300, f"at the kill: {middle}")
    results.check(
        "no patient got an invitation twice", emails and not twice, f"{len(twice)} of {len(emails)} twice"
    )
    settled = set(counts) <= {"sent", "failed"}
    results.check(
        "every message was sent once, or marked for a manager to retry",
        settled and counts.get("sent", 0) <= len(emails),
        f"{counts}; {len(emails)} patients emailed",
    )


def main() -> int:
    base = os.environ.get("DATABASE_URL", "")
    if not base.startswith("postgres") or not shutil.which("redis-server"):
        print("Needs DATABASE_URL=postgres://… and redis-server.")
        return 2
    results = Results()
    database_url = harness.scratch_database_url(base, "faults")
    with tempfile.TemporaryDirectory(prefix="sd-faults-") as tmp:
        folder = Path(tmp)
        (folder / "mail").mkdir()
        (folder / "redis").mkdir()
        redis = Redis(folder / "redis")
        env = harness.production_env(
            database_url=database_url,
            redis_url=f"redis://127.0.0.1:{REDIS_PORT}/0",
            # django-environ drops the first slash of the path: four slashes keep it absolute.
            EMAIL_URL=f"filemail:///{folder / 'mail'}",
        )
        harness.create_database(database_url)
        redis.start()
        try:
            harness.manage(env, "migrate", "--noinput")
            harness.manage(env, "seed_demo", "--force")
            harness.manage(env, "collectstatic", "--noinput")
            database_outage(env, results)
            redis_outage(env, redis, folder / "mail", results)
            worker_killed(env, folder / "mail", results)
        finally:
            redis.kill()
            with contextlib.suppress(Exception):
                harness.drop_database(database_url)
    failed = [what for what, ok, _ in results.rows if not ok]
    print(f"\n{len(results.rows) - len(failed)} passed, {len(failed)} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
