"""Behind pgbouncer in transaction mode (DATABASE_POOLER=pgbouncer): real service paths run through a
real pgbouncer (bin/pgbouncer-local), each transaction on whichever server connection it lends.

Skipped locally without /usr/sbin/pgbouncer or PostgreSQL; a failure in CI (.ci/run installs it)."""

from __future__ import annotations

import re
import shutil
import socket
import subprocess
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import psycopg2
import pytest
import time_machine
from django.db import connection
from django.urls import reverse
from django.utils import timezone

from servicedesk import pooling
from tests.conftest import require
from tests.invitations.conftest import rules, site, survey  # noqa: F401  (fixtures)

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "bin" / "pgbouncer-local"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture(scope="module")
def pgbouncer_port() -> Iterator[int]:
    require(
        bool(shutil.which("pgbouncer") or Path("/usr/sbin/pgbouncer").exists()),
        "pgbouncer (/usr/sbin/pgbouncer)",
    )
    port = _free_port()
    env = {"PATH": "/usr/sbin:/usr/bin:/bin", "PGBOUNCER_PORT": str(port), "PGBOUNCER_POOL_SIZE": "2"}
    subprocess.run([SCRIPT, "start"], env=env, check=True, capture_output=True, timeout=30)
    yield port
    subprocess.run([SCRIPT, "stop"], env=env, check=True, capture_output=True, timeout=30)


def _admin(port: int, command: str) -> list[dict]:
    admin = psycopg2.connect(host="127.0.0.1", port=port, user="postgres", dbname="pgbouncer")
    admin.autocommit = True
    try:
        with admin.cursor() as cursor:
            cursor.execute(command)
            names = [column.name for column in cursor.description]
            return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]
    finally:
        admin.close()


def _transactions(port: int, database: str) -> int:
    return sum(
        int(row["total_xact_count"]) for row in _admin(port, "SHOW STATS") if row["database"] == database
    )


@pytest.fixture
def through_pgbouncer(transactional_db, postgres, pgbouncer_port) -> Iterator[int]:
    """Django's connection goes through pgbouncer, configured as DATABASE_POOLER=pgbouncer would.
    Yields how many transactions pgbouncer had pooled for the test database before the test."""
    original = dict(connection.settings_dict)
    connection.close()
    pooling.configure(connection.settings_dict, pooler="pgbouncer")
    connection.settings_dict.update(HOST="127.0.0.1", PORT=pgbouncer_port)
    before = _transactions(pgbouncer_port, original["NAME"])
    yield before
    after = _transactions(pgbouncer_port, original["NAME"])
    connection.close()
    connection.settings_dict.clear()
    connection.settings_dict.update(original)
    assert after > before, "the test's queries did not go through pgbouncer"


def test_the_pooler_setting_turns_off_server_side_cursors_and_refuses_an_unknown_pooler():
    from django.core.exceptions import ImproperlyConfigured

    database = {"ENGINE": "django.db.backends.postgresql"}
    pooling.configure(database, pooler="")
    assert "DISABLE_SERVER_SIDE_CURSORS" not in database
    pooling.configure(database, pooler="pgbouncer")
    assert database["DISABLE_SERVER_SIDE_CURSORS"] is True
    with pytest.raises(ImproperlyConfigured):
        pooling.configure(database, pooler="pgpool")
    with pytest.raises(ImproperlyConfigured):
        pooling.configure({"ENGINE": "django.db.backends.sqlite3"}, pooler="pgbouncer")


# SQL keeps its keywords in capitals in this code base; prose (a survey's "listen") does not match.
SESSION_STATE = re.compile(
    r"pg_(try_)?advisory_lock\b|\bLISTEN \w|\bSET (SESSION|search_path|TIME ZONE|ROLE)|CREATE TEMP"
)


def test_no_code_keeps_session_state_that_transaction_pooling_would_lose():
    """Session advisory locks, LISTEN and session SETs break behind pgbouncer; xact locks, SET LOCAL and
    SET TRANSACTION are released with their transaction."""
    offenders = []
    for app in (
        "servicedesk",
        "feedback",
        "recovery",
        "delivery",
        "design",
        "learning",
        "complaints",
        "dashboard",
    ):
        for path in (ROOT / app).rglob("*.py"):
            for number, line in enumerate(path.read_text().splitlines(), 1):
                if SESSION_STATE.search(line) and path.name != "pooling.py":
                    offenders.append(f"{path.relative_to(ROOT)}:{number}: {line.strip()}")
    assert offenders == []


def test_a_kiosk_answer_is_stored_through_pgbouncer(through_pgbouncer, client):
    from feedback.models import Question, Response
    from tests.factories import QuestionFactory, SurveyFactory

    kiosk = SurveyFactory(slug="kiosk", is_anonymous=False, title="Kiosk")
    fft = QuestionFactory(survey=kiosk, position=0, kind=Question.Kind.FFT, required=True, text="Overall?")
    page = client.get("/k/kiosk/")
    started = re.search(r'name="started" value="([^"]+)"', page.content.decode())[1]
    with time_machine.travel(timezone.now() + timedelta(seconds=20), tick=True):  # no bot-fast answer
        answered = client.post("/k/kiosk/", {"started": started, f"q{fft.pk}": "good"})
    assert answered.status_code == 302
    assert Response.objects.get().answers.count() == 1


def test_the_outbox_sweep_sends_through_pgbouncer(through_pgbouncer, mailoutbox):
    from servicedesk.outbox import outbox_email
    from servicedesk.tasks import sweep_outbox

    for n in range(3):
        outbox_email(
            key=f"pool:{n}", to=f"p{n}@x.example", subject="s", text="t", kind="welcome", now=timezone.now()
        )
    assert sweep_outbox() == 3
    assert sweep_outbox() == 0
    assert len(mailoutbox) == 3


def test_the_escalation_sweep_climbs_once_through_pgbouncer(through_pgbouncer, mailoutbox):
    from recovery import services, tasks
    from tests.factories import UserFactory
    from tests.recovery.conftest import drive_to

    services.sla_policies_ensure_defaults()  # a transactional test starts from a flushed database
    manager = UserFactory(manager=True)
    t0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
    incident = drive_to("new", by=manager, severity="high", now=t0)
    with time_machine.travel(t0 + timedelta(hours=4, minutes=1), tick=False):
        assert tasks.escalate_overdue_incidents() == 1
        assert tasks.escalate_overdue_incidents() == 0
    incident.refresh_from_db()
    assert incident.escalation_level == 1


def test_a_visit_list_is_checked_and_imported_through_pgbouncer(
    through_pgbouncer,
    manager_client,
    survey,  # noqa: F811  (the invitations' fixtures)
    site,  # noqa: F811
    rules,  # noqa: F811
    settings,
):
    from django.core.files.uploadedfile import SimpleUploadedFile

    from feedback.invitations import imports as invitation_import
    from feedback.models import Invitation, InvitationImport

    settings.INVITATION_IMPORT_INLINE_ROWS = 2  # the check and the import run as the worker's tasks
    visit = (timezone.localtime() - timedelta(hours=3)).strftime("%Y-%m-%d %H:%M")
    body = "first name,email,mobile,visit,location,language,visit id\n" + "".join(
        f"P{i},p{i}@example.org,,{visit},Riverside Surgery,,H{i}\n" for i in range(40)
    )
    upload = SimpleUploadedFile("visits.csv", body.encode(), content_type="text/csv")
    manager_client.post(
        reverse("invitations:invitation_import_upload"), {"survey": survey.pk, "file": upload}
    )
    job = InvitationImport.objects.get()
    assert invitation_import.import_validate(import_id=job.pk) == "validated"
    manager_client.post(reverse("invitations:invitation_import_confirm", args=[job.pk]))
    assert invitation_import.import_run(import_id=job.pk) == "imported"
    assert Invitation.objects.count() == 40


def test_the_summary_sweep_and_its_iterators_work_through_pgbouncer(through_pgbouncer):
    """The roll-up takes a transaction-level advisory lock; iterator() uses no server-side cursor."""
    from dashboard.tasks import refresh_feedback_summaries
    from servicedesk.models import User
    from tests.factories import UserFactory

    assert connection.settings_dict["DISABLE_SERVER_SIDE_CURSORS"] is True
    UserFactory.create_batch(5)
    assert len(list(User.objects.iterator(chunk_size=2))) == User.objects.count()
    assert refresh_feedback_summaries() >= 0
