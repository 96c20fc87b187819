"""Shared test set-up: fast hashing, isolated caches and outboxes, role fixtures.

Services the suite needs for real (Redis, Chromium, PostgreSQL) are fixtures that
skip when absent on a developer's machine and fail under CI, where they must exist.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import time
from collections.abc import Callable, Iterator, MutableSequence
from contextlib import contextmanager
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.conf import settings
from django.core.cache import cache
from django.core.signals import setting_changed
from django.db import OperationalError, connection
from django.db.backends.base.base import BaseDatabaseWrapper
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.plugins.otp_totp.models import TOTPDevice

from servicedesk.notify import LocmemSmsBackend
from servicedesk.roles import Role
from servicedesk.security.twofactor import current_code, needs_two_factor
from tests.factories import LocationFactory, TOTPDeviceFactory, UserFactory

IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}


def pytest_configure(config: pytest.Config) -> None:
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    settings.SMS_BACKEND = "servicedesk.notify.LocmemSmsBackend"
    # Tests fire many requests from one address in a second; the limiter's own tests turn it on
    # (the ``rate_limits`` fixture). Login lockout and two-factor stay on everywhere.
    settings.RATE_LIMIT_ENABLED = False
    # Attachments go to a scratch folder of this run, never the developer's var/attachments.
    settings.STORAGES = {
        **settings.STORAGES,
        "attachments": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": tempfile.mkdtemp(prefix="servicedesk-attachments-"), "base_url": None},
        },
    }
    # Whatever read the storages while Django set up read the old value: have them look again.
    setting_changed.send(sender=type(settings), setting="STORAGES", value=settings.STORAGES, enter=True)
    if not settings.REDIS_URL:
        # No broker server on this machine: publish into memory instead of var/broker,
        # which the development worker would otherwise pick up.
        from servicedesk.celery import app

        app.conf.broker_url = "memory://"
        app.conf.broker_transport_options = {}


# The instants the suite is run at (``make test`` takes the first; CI runs the others too): late
# evening and just past midnight in London, where "today" in UTC and in the practice differ, and
# the morning after the clocks go forward, when a local day is 23 hours long.
PINNED_INSTANTS = {
    "evening": "2026-12-03T23:30:00",
    "past-midnight": "2026-12-04T00:30:00",
    "clock-change": "2026-03-29T09:15:00",
}


def pinned_now() -> datetime | None:
    """The instant every test starts at, from ``SERVICEDESK_TEST_NOW`` (a name above, an ISO
    local London time, or ``real`` for the wall clock)."""
    chosen = os.environ.get("SERVICEDESK_TEST_NOW", "evening")
    if chosen == "real":
        return None
    local = datetime.fromisoformat(PINNED_INSTANTS.get(chosen, chosen))
    return local.replace(tzinfo=ZoneInfo("Europe/London")) if local.tzinfo is None else local


def require(available: bool, what: str) -> None:
    """Skip locally when a real service is missing; under CI that is a failure."""
    if not available:
        if IN_CI:
            pytest.fail(f"{what} is required in CI but is not available.")
        pytest.skip(f"{what} is not available here.")


@pytest.fixture(autouse=True)
def _pinned_clock(request) -> Iterator[None]:
    """Every test runs at a fixed instant (``pinned_now``), so a time-of-day bug fails every run,
    not one run a night. The clock ticks on from there. Browser tests keep the wall clock: the
    browser's own clock judges cookies and the live server's timestamps."""
    start = pinned_now()
    if start is None or request.node.get_closest_marker("e2e"):
        yield
        return
    with time_machine.travel(start, tick=True):
        yield


@pytest.fixture(autouse=True)
def _isolated_outboxes():
    from servicedesk import queue

    LocmemSmsBackend.outbox.clear()
    cache.clear()
    queue.broker.reset()  # a test that took the broker down must not silence the next one's tasks
    yield
    LocmemSmsBackend.outbox.clear()
    queue.broker.reset()


@pytest.fixture(autouse=True)
def _force_login_includes_the_second_factor(monkeypatch):
    """``client.force_login(manager)`` gives a fully signed-in manager, second factor included.

    Managers must verify a code from their authenticator app before any staff page
    (``ManagerTwoFactorMiddleware``). A test that forces a login means "as if they had just
    logged in properly", so the session is marked verified with their confirmed device (one is
    created if they have none). To test the second step itself, log in through the real form:
    ``client.post(reverse("login"), {...})``.
    """
    original = Client.force_login

    def force_login(self, user, backend=None):
        original(self, user, backend)
        if needs_two_factor(user):
            verify_second_factor(self, user)

    monkeypatch.setattr(Client, "force_login", force_login)


def verify_second_factor(client: Client, user) -> TOTPDevice:
    """Mark ``client``'s session as verified with ``user``'s authenticator, as ``otp_login`` does."""
    device = TOTPDevice.objects.filter(user=user, confirmed=True).first() or TOTPDeviceFactory(user=user)
    session = client.session
    session[DEVICE_ID_SESSION_KEY] = device.persistent_id
    session.save()
    return device


def totp_code(device: TOTPDevice) -> str:
    """A code the device will accept now: codes are single use, so after one was used within this
    30-second step, take the next step's (still inside the allowed clock drift), or wait for it."""
    device.refresh_from_db()
    now_step = int((time.time() - device.t0) // device.step) + device.drift
    if device.last_t >= now_step + device.tolerance:
        time.sleep(device.step - (time.time() - device.t0) % device.step + 0.1)
        return totp_code(device)
    return current_code(device, step_offset=max(0, device.last_t + 1 - now_step))


@pytest.fixture
def rate_limits(settings):
    """Rate limiting on, as in production (tests run with it off; see pytest_configure)."""
    settings.RATE_LIMIT_ENABLED = True
    cache.clear()
    return settings.RATE_LIMITS


@contextmanager
def database_refused() -> Iterator[None]:
    """While the block runs, every query and every new connection fails the way a dead PostgreSQL
    server makes them fail (in the live server's thread too). Bookkeeping on a connection already
    open (Django's check of it at the start of each request) still works, as it does on a real
    server that has just died: what fails is talking to it."""

    def refuse(self, *args, **kwargs):
        raise OperationalError("connection to server at 127.0.0.1, port 5432 failed: Connection refused")

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(BaseDatabaseWrapper, "cursor", refuse)
        patch.setattr(BaseDatabaseWrapper, "connect", refuse)
        yield


@pytest.fixture
def database_down() -> Iterator[None]:
    """The database is down for the rest of the test: see ``database_refused``."""
    with database_refused():
        yield


class Delivered(MutableSequence):
    """The messages a provider received, as seen once the outbox's worker has caught up.

    Services write messages to the outbox (servicedesk.outbox), which a worker sends after
    commit; a test's transaction never commits. Reading this list first runs the outbox sweep,
    the same path the worker takes, for every message due now, so ``len(mailoutbox) == 1``
    still means "one email went out". A refused message is not due again until its backoff has
    passed, so retries stay retries.
    """

    def __init__(self, items: list, deliver: Callable[[], object]) -> None:
        self._items, self._deliver = items, deliver

    def _caught_up(self) -> list:
        self._deliver()
        return self._items

    def __getitem__(self, index):
        return self._caught_up()[index]

    def __setitem__(self, index, value) -> None:
        self._items[index] = value

    def __delitem__(self, index) -> None:
        del self._items[index]

    def __len__(self) -> int:
        return len(self._caught_up())

    def insert(self, index: int, value) -> None:
        self._items.insert(index, value)

    def __eq__(self, other: object) -> bool:
        return self._caught_up() == other

    def __repr__(self) -> str:
        return repr(self._caught_up())


def _outbox_worker(request: pytest.FixtureRequest) -> Callable[[], object]:
    """The worker's sweep, for a test that can use the database; nothing for one that cannot (a
    test of the mail backend itself reads what it sent directly)."""
    uses_db = request.node.get_closest_marker("django_db") or {"db", "transactional_db"} & set(
        request.fixturenames
    )
    if not uses_db:
        return lambda: None

    def deliver() -> int:
        from django.utils import timezone

        from servicedesk.outbox import outbox_sweep

        return outbox_sweep(now=timezone.now())

    return deliver


@pytest.fixture
def refused_addresses(settings) -> Iterator[set[str]]:
    """A mail server that refuses the addresses added to the returned set (and only those)."""
    from tests.mail import RefusingEmailBackend

    settings.EMAIL_BACKEND = "tests.mail.RefusingEmailBackend"
    RefusingEmailBackend.refused = set()
    yield RefusingEmailBackend.refused
    RefusingEmailBackend.refused = set()


@pytest.fixture
def mailoutbox(mailoutbox, request):  # pytest-django's, read through the outbox
    return Delivered(mailoutbox, _outbox_worker(request))


@pytest.fixture
def sms_outbox(request) -> MutableSequence:
    return Delivered(LocmemSmsBackend.outbox, _outbox_worker(request))


@pytest.fixture
def redis_url() -> str:
    require(bool(settings.REDIS_URL), "Redis (REDIS_URL)")
    return settings.REDIS_URL


@pytest.fixture
def postgres(db) -> None:
    from django.db import connection

    require(connection.vendor == "postgresql", "PostgreSQL (DATABASE_URL)")


@pytest.fixture
def chromium_path() -> str:
    path = shutil.which("chromium") or "/usr/bin/chromium"
    require(os.path.exists(path), "Chromium (/usr/bin/chromium)")
    return path


@pytest.fixture
def location(db):
    return LocationFactory()


@pytest.fixture
def manager(db):
    return UserFactory(manager=True, username="mgr")


@pytest.fixture
def staff(db):
    return UserFactory(username="staffer")


@pytest.fixture
def site_manager(db):
    """Manages one site of a group of two ("Hilltop" is the other): ``site_manager.location``."""
    LocationFactory(name="Hilltop")
    return UserFactory(username="sitemgr", role=Role.SITE_MANAGER, location=LocationFactory(name="Riverside"))


@pytest.fixture
def site_manager_client(client, site_manager):
    client.force_login(site_manager)
    return client


@pytest.fixture
def manager_client(client, manager):
    client.force_login(manager)
    return client


@pytest.fixture
def staff_client(client, staff):
    client.force_login(staff)
    return client


@pytest.fixture
def count_queries():
    """``count_queries(fn)``: how many SQL queries ``fn()`` runs. For "flat as data grows" tests."""

    def _count(fn) -> int:
        with CaptureQueriesContext(connection) as context:
            fn()
        return len(context.captured_queries)

    return _count


from tests.dovecot import dovecot, dovecot_server  # noqa: E402, F401  (fixtures: a real IMAP server)
from tests.fake_twilio import fake_twilio  # noqa: E402, F401  (a fixture: the local fake of Twilio)
