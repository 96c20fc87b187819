"""A Content-Security-Policy with no inline scripts, and templates that need none."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.conf import settings
from django.http import HttpResponse
from django.urls import reverse

from servicedesk.security.middleware import ContentSecurityPolicyMiddleware

pytestmark = pytest.mark.django_db

ROOT = Path(settings.BASE_DIR)
TEMPLATE_DIRS = [ROOT / "templates", *ROOT.glob("*/templates")]
INLINE_SCRIPT = re.compile(r"<script(?![^>]*\bsrc=)[^>]*>", re.IGNORECASE)
EVENT_HANDLER = re.compile(r"<[^>]*\son[a-z]+\s*=", re.IGNORECASE)
STYLE_ATTRIBUTE = re.compile(r"<[^>]*\sstyle\s*=", re.IGNORECASE)
STYLE_ELEMENT = re.compile(r"<style[\s>]", re.IGNORECASE)
JS_URL = re.compile(r"""(href|src|action)\s*=\s*["']\s*javascript:""", re.IGNORECASE)


def _policy(response) -> dict[str, str]:
    return {
        part.split()[0]: " ".join(part.split()[1:]) for part in response["Content-Security-Policy"].split(";")
    }


def test_pages_forbid_inline_scripts_and_styles(client):
    policy = _policy(client.get(reverse("login")))
    assert policy["default-src"] == "'self'"
    assert policy["script-src"] == "'self'"
    assert policy["style-src"] == "'self'"
    assert "unsafe" not in " ".join(policy.values())
    assert policy["frame-ancestors"] == "'none'"
    assert policy["object-src"] == "'none'"


@pytest.mark.parametrize("url", ["/accounts/login/", "/healthz", "/no-such-page/", "/dashboard/"])
def test_every_kind_of_response_carries_the_policy(manager_client, url):
    assert "Content-Security-Policy" in manager_client.get(url)


def test_the_database_outage_page_carries_the_policy_too(manager_client, database_down):
    manager_client.raise_request_exception = False
    response = manager_client.get(reverse("dashboard"))
    assert response.status_code == 503
    assert "script-src 'self'" in response["Content-Security-Policy"]


def test_report_only_mode_sends_the_policy_without_enforcing_it(rf, settings):
    settings.CONTENT_SECURITY_POLICY_REPORT_ONLY = True
    response = ContentSecurityPolicyMiddleware(lambda request: HttpResponse())(rf.get("/"))
    assert "Content-Security-Policy-Report-Only" in response
    assert "Content-Security-Policy" not in response


def _is_email(path: Path) -> bool:
    """Email bodies are not served to browsers (and email clients need inline styles)."""
    return "email" in path.name or bool({"email", "emails", "messages"} & set(path.parts))


def _templates() -> list[Path]:
    return sorted(path for folder in TEMPLATE_DIRS for path in folder.rglob("*.html") if not _is_email(path))


@pytest.mark.parametrize(
    ("pattern", "what"),
    [
        (INLINE_SCRIPT, "an inline <script> (put it in static/js/<app>.js)"),
        (EVENT_HANDLER, "an inline event handler such as onclick= (bind it in static/js/<app>.js)"),
        (STYLE_ATTRIBUTE, "a style= attribute (use a class in static/css/)"),
        (STYLE_ELEMENT, "a <style> element (use static/css/)"),
        (JS_URL, "a javascript: URL"),
    ],
)
def test_no_template_needs_what_the_policy_forbids(pattern, what):
    offenders = [
        f"{path.relative_to(ROOT)}:{text[: match.start()].count(chr(10)) + 1}"
        for path in _templates()
        for text in [path.read_text()]
        for match in pattern.finditer(text)
    ]
    assert not offenders, f"The Content-Security-Policy blocks {what}: {offenders}"
