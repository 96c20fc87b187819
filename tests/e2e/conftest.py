"""Browser journeys: Playwright driving Debian's Chromium against pytest-django's live server.

Fixtures:
- ``page``: a desktop-sized page whose relative URLs resolve against the live server.
- ``phone_page``: the same at a phone's size, with touch.
- ``log_in(page, user)``: log in through the real login form.
- ``shot(page, name)``: save a screenshot under test-results/<test>/ (git-ignored).
- ``assert_accessible(page)``: axe-core finds no serious or critical violations.
- ``csp_violations`` / ``phone_csp_violations``: what the Content-Security-Policy refused on
  ``page`` / ``phone_page`` (Chromium's console errors), to assert empty.
- ``morning_check``: Riverside's premises checklist, due within the hour, with one critical item
  ("Fire exits clear and unlocked"), and the receptionist who does it: ``(run, receptionist)``.
"""

from __future__ import annotations

import os
import re
import shutil
from base64 import b32decode
from collections.abc import Callable, Iterator
from datetime import time, timedelta
from pathlib import Path
from urllib.parse import urlparse

import pytest
from axe_playwright_python.sync_playwright import Axe
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice
from playwright.sync_api import Browser, Page, sync_playwright

from servicedesk.roles import Role
from tests.conftest import require, totp_code
from tests.factories import (
    ChecklistItemFactory,
    ChecklistRunFactory,
    ChecklistTemplateFactory,
    LocationFactory,
    TouchpointFactory,
    UserFactory,
)

# Playwright's sync API runs an event loop in the test thread; Django's ORM is still used
# synchronously here (factories, assertions), which is safe in tests.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

PASSWORD = "correct horse battery"  # UserFactory's password
_UNSAFE = re.compile(r"[^\w.-]+")
RESULTS = Path(__file__).resolve().parents[2] / "test-results"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
]


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "tests/e2e/" in str(item.fspath).replace(os.sep, "/"):
            item.add_marker(pytest.mark.e2e)


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    path = shutil.which("chromium") or "/usr/bin/chromium"
    require(os.path.exists(path), "Chromium (/usr/bin/chromium)")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=path, args=CHROMIUM_ARGS, headless=True)
        yield browser
        browser.close()


def _new_page(browser: Browser, base_url: str, **options) -> Iterator[Page]:
    context = browser.new_context(base_url=base_url, **options)
    context.set_default_timeout(10_000)
    page = context.new_page()
    yield page
    context.close()


@pytest.fixture
def page(browser: Browser, live_server, transactional_db) -> Iterator[Page]:
    yield from _new_page(browser, live_server.url, viewport={"width": 1280, "height": 900})


@pytest.fixture
def phone_page(browser: Browser, live_server, transactional_db) -> Iterator[Page]:
    yield from _new_page(
        browser, live_server.url, viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True
    )


@pytest.fixture
def demo(transactional_db) -> None:
    """The demo practice (``seed_demo``): every list has rows, names are long, as in real use."""
    call_command("seed_demo", "--force", verbosity=0)


@pytest.fixture
def log_in() -> Callable[[Page, object], None]:
    """Log in through the real form; for a manager, also type the code from their authenticator
    (factory managers have one: ``TOTPDeviceFactory``), as a manager does every morning, or set
    one up from the key on the page if they have none yet."""

    def _log_in(page: Page, user, password: str = PASSWORD) -> None:
        page.goto("/accounts/login/")
        page.get_by_label("Username").fill(user.username)
        page.get_by_label("Password").fill(password)
        page.get_by_role("button", name="Log in").click()
        page.wait_for_load_state()
        path = urlparse(page.url).path
        if path == reverse("security:two_factor_verify"):
            device = TOTPDevice.objects.get(user=user, confirmed=True)
            page.get_by_label("Six-digit code").fill(totp_code(device))
            page.get_by_role("button", name="Continue").click()
            page.wait_for_load_state()
        elif path == reverse("security:two_factor_setup"):  # a manager with no authenticator yet
            secret = page.locator("code.secret-key").inner_text().replace(" ", "")
            key = b32decode(secret + "=" * (-len(secret) % 8))
            page.get_by_label("Six-digit code").fill(f"{TOTP(key).token():06d}")
            page.get_by_role("button", name="Turn on two-factor sign-in").click()
            page.wait_for_load_state()

    return _log_in


@pytest.fixture
def shot(request: pytest.FixtureRequest) -> Callable[[Page, str], Path]:
    folder = RESULTS / _UNSAFE.sub("_", request.node.nodeid.split("::")[-1])
    steps = iter(range(1, 1000))

    def _shot(page: Page, name: str) -> Path:
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"{next(steps):02d}-{_UNSAFE.sub('_', name)}.png"
        page.screenshot(path=path, full_page=True)
        return path

    return _shot


@pytest.fixture(scope="session")
def axe() -> Axe:
    return Axe()


@pytest.fixture
def assert_accessible(axe: Axe) -> Callable[[Page], None]:
    def _assert(page: Page) -> None:
        results = axe.run(page)
        serious = [v for v in results.response["violations"] if v.get("impact") in {"serious", "critical"}]
        summary = "\n".join(
            f"{v['id']} ({v['impact']}): {v['help']} — {[n['target'] for n in v['nodes']][:3]}"
            for v in serious
        )
        assert not serious, f"axe-core found serious accessibility problems on {page.url}:\n{summary}"

    return _assert


def csp_refusals(page: Page) -> list[str]:
    """Console errors in which Chromium reports something the Content-Security-Policy refused."""
    refused: list[str] = []
    page.on(
        "console",
        lambda message: (
            refused.append(message.text)
            if message.type == "error" and "Content Security Policy" in message.text
            else None
        ),
    )
    return refused


@pytest.fixture
def csp_violations(page: Page) -> list[str]:
    return csp_refusals(page)


@pytest.fixture
def phone_csp_violations(phone_page: Page) -> list[str]:
    return csp_refusals(phone_page)


@pytest.fixture
def morning_check():
    riverside = LocationFactory(name="Riverside Surgery")
    desk = TouchpointFactory(name="Front desk — Riverside", location=riverside)
    template = ChecklistTemplateFactory(
        title="Morning premises check",
        location=riverside,
        touchpoint=desk,
        responsible_role=Role.STAFF,
        due_time=time(8, 30),
    )
    for order, (text, critical) in enumerate(
        [
            ("Entrance and ramp clear", False),
            ("Fire exits clear and unlocked", True),
            ("Hearing loop on", False),
        ],
        start=1,
    ):
        ChecklistItemFactory(template=template, order=order, text=text, is_critical=critical)
    run = ChecklistRunFactory(template=template, due_at=timezone.now() + timedelta(hours=1))
    receptionist = UserFactory(first_name="Sam", last_name="Okafor", location=riverside)
    return run, receptionist
