"""What the benchmarks and the fault scripts share: Django on a throwaway database of its own
(in-process benchmarks), a live gunicorn on one (HTTP load, faults), and a small HTTP "browser"
(cookies, CSRF, forms) on http.client.

Loopback only: every request goes to 127.0.0.1, to servers these scripts start themselves.
"""

from __future__ import annotations

import contextlib
import html.parser
import http.client
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO
from urllib.parse import urlencode, urljoin, urlsplit

ROOT = Path(__file__).resolve().parents[2]
PYTHON = sys.executable


# In-process benchmarks time the server's work as production runs it: DEBUG off (no query log,
# cached templates), no static manifest needed, mail kept in memory.
PRODUCTION_LIKE = {
    "DEBUG": False,
    "STORAGES": {
        "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    },
    "EMAIL_BACKEND": "django.core.mail.backends.locmem.EmailBackend",
}


@contextlib.contextmanager
def scratch_django(*, keepdb: bool = False) -> Iterator[None]:
    """Django set up in this process on a database of its own, ``bench_<DATABASE_URL's name>``
    (so a test run at the same time is undisturbed), with PRODUCTION_LIKE settings; the database
    is dropped afterwards unless ``keepdb`` (a rerun then skips the seeding)."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "servicedesk.settings")
    os.environ.setdefault("DEBUG", "1")  # development defaults for a local run; DEBUG goes off below
    import django

    django.setup()
    from django.conf import settings
    from django.db import connection
    from django.test.utils import override_settings, setup_databases, teardown_databases

    if connection.vendor == "postgresql":
        connection.settings_dict["TEST"]["NAME"] = f"bench_{connection.settings_dict['NAME']}"
    # Not setup_test_environment(): it makes every template render send a signal that the test
    # client answers by copying the context, a cost production never pays (a third of a list
    # page's time). The test client's host is let in instead.
    # Not serialized: that copy is for rolling back TransactionTestCases, and a kept five-year
    # database would take minutes to read into memory before every rerun.
    state = setup_databases(verbosity=0, interactive=False, keepdb=keepdb, serialized_aliases=set())
    try:
        # Every storage the project configures (attachments included), with PRODUCTION_LIKE's on top.
        storages = {**settings.STORAGES, **PRODUCTION_LIKE["STORAGES"]}
        production_like = {**PRODUCTION_LIKE, "STORAGES": storages}
        with override_settings(**production_like, ALLOWED_HOSTS=[*settings.ALLOWED_HOSTS, "testserver"]):
            yield
    finally:
        connection.close()
        teardown_databases(state, verbosity=0, keepdb=keepdb)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for_port(port: int, *, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return
        time.sleep(0.1)
    raise RuntimeError(f"nothing listening on 127.0.0.1:{port} after {timeout:.0f} s")


# --- A throwaway database -------------------------------------------------------------------------


def scratch_database_url(base_url: str, suffix: str) -> str:
    """``postgres://…/sd_proof`` → ``postgres://…/sd_proof_<suffix>`` (our own name, beside the others)."""
    parts = urlsplit(base_url)
    return parts._replace(path=f"{parts.path.rstrip('/')}_{suffix}").geturl()


def create_database(url: str) -> None:
    _maintenance(url, "DROP DATABASE IF EXISTS {name} WITH (FORCE)", "CREATE DATABASE {name}")


def drop_database(url: str) -> None:
    _maintenance(url, "DROP DATABASE IF EXISTS {name} WITH (FORCE)")


def _maintenance(url: str, *statements: str) -> None:
    import psycopg2

    parts = urlsplit(url)
    name = parts.path.lstrip("/")
    assert name.replace("_", "").isalnum(), name
    admin = psycopg2.connect(
        dbname="postgres",
        user=parts.username or "postgres",
        password=parts.password or None,
        host=parts.hostname or "127.0.0.1",
        port=parts.port or 5432,
    )
    admin.autocommit = True
    with admin.cursor() as cursor:
        for statement in statements:
            cursor.execute(statement.format(name=f'"{name}"'))
    admin.close()


@contextlib.contextmanager
def pgbouncer(database_url: str, *, pool_size: int = 20) -> Iterator[str]:
    """A local pgbouncer in transaction mode (bin/pgbouncer-local) in front of ``database_url``'s
    server, on a free port; yields the same database's URL through it. Stopped afterwards."""
    parts = urlsplit(database_url)
    port = free_port()
    env = {
        **os.environ,
        "PGBOUNCER_PORT": str(port),
        "PGBOUNCER_POOL_SIZE": str(pool_size),
        "PGBOUNCER_TARGET": f"{parts.hostname or '127.0.0.1'}:{parts.port or 5432}",
    }
    script = str(ROOT / "bin" / "pgbouncer-local")
    subprocess.run([script, "start"], env=env, check=True, capture_output=True, timeout=30)
    try:
        netloc = f"{parts.username or 'postgres'}@127.0.0.1:{port}"
        yield parts._replace(netloc=netloc).geturl()
    finally:
        subprocess.run([script, "stop"], env=env, check=False, capture_output=True, timeout=30)


def manage(env: dict, *args: str, timeout: float = 1800) -> str:
    result = subprocess.run(
        [PYTHON, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout
    )
    if result.returncode != 0:
        raise RuntimeError(f"manage.py {' '.join(args)} failed:\n{result.stderr[-3000:]}")
    return result.stdout


def production_env(*, database_url: str, redis_url: str, **extra: str) -> dict:
    """Production mode (DEBUG off), on loopback, with the limits that would throttle a benchmark off."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "PYTEST"))}
    env.update(
        DEBUG="0",
        SECRET_KEY=secrets.token_urlsafe(50),
        ALLOWED_HOSTS="127.0.0.1,localhost",
        SECURE_SSL_REDIRECT="0",
        DATABASE_URL=database_url,
        REDIS_URL=redis_url,
        RATE_LIMIT_ENABLED="0",  # 20 users from one address would all share one budget
        FEEDBACK_MIN_FILL_SECONDS="0",  # the bot check wants humans to take 3 s; the script does not
        LOG_LEVEL="WARNING",
    )
    env.update(extra)
    return env


@contextlib.contextmanager
def gunicorn(
    env: dict,
    *,
    workers: int,
    port: int | None = None,
    stdout: IO | int = subprocess.DEVNULL,
    stderr: IO | int = subprocess.DEVNULL,
) -> Iterator[str]:
    """A gunicorn serving Servicedesk on 127.0.0.1; yields its base URL and stops it after.
    Its output is dropped unless ``stdout``/``stderr`` name files (the canary fault script reads them)."""
    port = port or free_port()
    process = subprocess.Popen(
        [PYTHON, "-m", "gunicorn", "-c", "gunicorn.conf.py", "servicedesk.wsgi"],
        cwd=ROOT,
        env={**env, "GUNICORN_BIND": f"127.0.0.1:{port}", "WEB_CONCURRENCY": str(workers)},
        stdout=stdout,
        stderr=stderr,
        start_new_session=True,
    )
    try:
        wait_for_port(port)
        yield f"http://127.0.0.1:{port}"
    finally:
        stop(process)


def stop(process: subprocess.Popen, *, sig: int = signal.SIGTERM, timeout: float = 20) -> None:
    if process.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, sig)
        try:
            process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            process.wait()


def warm_up(base_url: str, paths: list[str], *, rounds: int) -> None:
    """Load the code into every worker before anything is timed (each imports Django lazily)."""
    for _ in range(rounds):
        for path in paths:
            browser = Browser(base_url, timeout=120)
            with contextlib.suppress(OSError):
                browser.get(path)
            browser.close()


# --- A small browser ------------------------------------------------------------------------------


@dataclass
class Page:
    status: int
    headers: dict[str, str]
    body: str
    seconds: float
    url: str

    @property
    def location(self) -> str:
        return self.headers.get("location", "")

    def forms(self) -> list[Form]:
        parser = _FormParser()
        parser.feed(self.body)
        return parser.forms


class Browser:
    """One visitor: a keep-alive connection, a cookie jar, and forms filled like a person would."""

    def __init__(self, base_url: str, *, timeout: float = 15.0) -> None:
        parts = urlsplit(base_url)
        self.base_url, self.host, self.port, self.timeout = base_url, parts.hostname, parts.port, timeout
        self.cookies: dict[str, str] = {}
        self._connection: http.client.HTTPConnection | None = None

    def request(self, method: str, path: str, data: dict | list | None = None) -> Page:
        body = urlencode(data, doseq=True) if data is not None else None
        headers = {"Host": f"{self.host}:{self.port}", "User-Agent": "servicedesk-load"}
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        if body is not None:
            headers["Content-Type"] = "application/x-www-form-urlencoded"
            headers["Referer"] = self.base_url + path
        for attempt in (1, 2):
            connection = self._connection or http.client.HTTPConnection(
                self.host, self.port, timeout=self.timeout
            )
            started = time.perf_counter()
            try:
                connection.request(method, path, body=body, headers=headers)
                response = connection.getresponse()
                content = response.read().decode("utf-8", "replace")
            except (http.client.RemoteDisconnected, BrokenPipeError, ConnectionResetError):
                connection.close()
                self._connection = None
                if attempt == 2:
                    raise
                continue  # a keep-alive connection the server had closed: one fresh try
            seconds = time.perf_counter() - started
            self._connection = connection
            for header in response.headers.get_all("Set-Cookie") or []:
                name, _, rest = header.partition("=")
                self.cookies[name.strip()] = rest.split(";", 1)[0]
            return Page(
                response.status,
                {k.lower(): v for k, v in response.getheaders()},
                content,
                seconds,
                urljoin(self.base_url, path),
            )
        raise AssertionError("unreachable")

    def get(self, path: str) -> Page:
        return self.request("GET", path)

    def submit(self, page: Page, values: dict[str, str] | None = None, *, having: str = "") -> Page:
        """Fill and post the page's form that has a field named ``having`` (else its last form;
        the navigation bar's logout form comes first on every staff page)."""
        forms = [f for f in page.forms() if f.method == "post"]
        with_field = [f for f in forms if any(field["name"] == having for field in f.fields)]
        form = (with_field or forms)[0 if with_field else -1]
        action = urlsplit(urljoin(page.url, form.action or page.url))
        path = action.path + (f"?{action.query}" if action.query else "")
        return self.request("POST", path, form.fill(values or {}))

    def close(self) -> None:
        if self._connection:
            self._connection.close()


@dataclass
class Form:
    action: str
    method: str
    fields: list[dict] = field(default_factory=list)

    def fill(self, values: dict[str, str]) -> list[tuple[str, str]]:
        """Answer every field as a cooperative person would: hidden fields as given, the first
        choice of each radio group and select, some words in text boxes; ``values`` win."""
        data: list[tuple[str, str]] = []
        seen_radio: set[str] = set()
        for f in self.fields:
            name, kind = f["name"], f["type"]
            if name in values:
                if name not in {n for n, _ in data}:
                    data.append((name, values[name]))
                continue
            if kind in ("submit", "button", "file", "reset", "image"):
                continue
            if kind == "radio":
                if name not in seen_radio:
                    seen_radio.add(name)
                    data.append((name, f["value"]))
            elif kind == "checkbox":
                if f.get("checked"):
                    data.append((name, f["value"] or "on"))
            elif kind == "select":
                options = [o for o in f["options"] if o]
                if options:
                    data.append((name, f.get("selected") or options[0]))
            elif kind == "hidden":
                data.append((name, f["value"]))
            elif kind == "textarea":
                data.append((name, f["value"] or "Load test: all went well today."))
            elif kind == "number":
                data.append((name, f["value"] or "1"))
            elif kind in ("email", "tel", "date", "datetime-local", "time", "password", "url"):
                data.append((name, f["value"]))
            else:  # text boxes a person leaves alone unless asked (one of them is a bot trap)
                data.append((name, f["value"] or ("Load test" if f.get("required") else "")))
        return data


class _FormParser(html.parser.HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.forms: list[Form] = []
        self._select: dict | None = None
        self._textarea: dict | None = None

    def handle_starttag(self, tag: str, attrs: list) -> None:
        a = {k: (v or "") for k, v in attrs}
        if tag == "form":
            self.forms.append(Form(action=a.get("action", ""), method=a.get("method", "get").lower()))
        elif tag == "option" and self._select is not None:
            self._select["options"].append(a.get("value", ""))
            if "selected" in a and not self._select["selected"]:
                self._select["selected"] = a.get("value", "")
        elif not self.forms or "name" not in a:
            return
        elif tag == "input":
            self.forms[-1].fields.append(
                {
                    "name": a["name"],
                    "type": a.get("type", "text").lower(),
                    "value": a.get("value", ""),
                    "checked": "checked" in a,
                    "required": "required" in a,
                }
            )
        elif tag == "select":
            self._select = {"name": a["name"], "type": "select", "options": [], "selected": ""}
            self.forms[-1].fields.append(self._select)
        elif tag == "textarea":
            self._textarea = {"name": a["name"], "type": "textarea", "value": ""}
            self.forms[-1].fields.append(self._textarea)

    def handle_startendtag(self, tag: str, attrs: list) -> None:
        self.handle_starttag(tag, attrs)

    def handle_data(self, data: str) -> None:
        if self._textarea is not None:
            self._textarea["value"] += data

    def handle_endtag(self, tag: str) -> None:
        if tag == "select":
            self._select = None
        elif tag == "textarea":
            self._textarea = None


def log_in(browser: Browser, username: str, password: str, *, totp_key: bytes | None = None) -> None:
    """The real login form, then (for a manager) the two-factor code from ``totp_key``."""
    page = browser.get("/accounts/login/")
    page = browser.submit(page, {"username": username, "password": password}, having="username")
    if page.status != 302:
        raise RuntimeError(f"login as {username} failed ({page.status})")
    landing = browser.get(urlsplit(page.location).path or "/")  # "/" sends a manager on to the code
    if "/security/two-factor/" in landing.location and totp_key is not None:
        from django_otp.oath import TOTP

        target = urlsplit(landing.location)
        verify = browser.get(f"{target.path}?{target.query}")
        done = browser.submit(verify, {"code": f"{TOTP(totp_key).token():06d}"}, having="code")
        if done.status != 302:
            raise RuntimeError(f"two-factor for {username} failed ({done.status})")
