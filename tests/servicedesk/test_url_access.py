"""Every URL in the project is either for patients (public) or needs a login.

This walks the whole URL configuration, so a page added later with no decision about who
may see it fails here. A page for patients (no account) must be listed in PUBLIC_URL_NAMES.
"""

from __future__ import annotations

import re

import pytest
from django.urls import URLPattern, URLResolver, get_resolver, reverse

# URL names anyone may open without logging in: patients' pages, login, health.
PUBLIC_URL_NAMES = {
    "login",
    "password_reset",
    "password_reset_done",
    "password_reset_confirm",
    "password_reset_complete",
    "healthz",
    "logout",  # POST-only; it logs out whoever asks
    # Patient feedback pages (feedback.patient_urls): kiosk/QR form, invitation link, thank-you pages.
    "kiosk",
    "kiosk_thanks",
    "invitation",
    "invitation_thanks",
    "put_right",  # recovery: the patient's one-question "Did we put it right?" link
    "invitation_opt_out",  # feedback: the patient's "no more survey messages" link
    "api_visits",  # feedback: the practice-management system, authenticated by its bearer token
}
# Django admin has its own login page; it is checked for staff-only access below.
ADMIN_NAMESPACE = "admin"
_SAMPLE = {
    "int": "1",
    "str": "sample",
    "slug": "sample",
    "uuid": "00000000-0000-0000-0000-000000000000",
    "path": "x",
}


def _walk(patterns, prefix: str = "", namespace: str | None = None):
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            ns = pattern.namespace or namespace
            yield from _walk(pattern.url_patterns, prefix + str(pattern.pattern), ns)
        elif isinstance(pattern, URLPattern):
            yield prefix + str(pattern.pattern), pattern.name, namespace


def _concrete(route: str) -> str:
    """Turn a route like 'team/<int:pk>/edit/' into a URL that resolves: 'team/1/edit/'."""
    route = re.sub(r"<(?:(\w+):)?\w+>", lambda m: _SAMPLE.get(m.group(1) or "str", "sample"), route)
    route = route.lstrip("^").rstrip("$").replace("\\Z", "").replace("\\", "")
    return "/" + route


ALL_URLS = sorted(
    {
        (_concrete(route), name)
        for route, name, ns in _walk(get_resolver().url_patterns)
        if ns != ADMIN_NAMESPACE
    },
    key=lambda item: item[0],
)


def test_every_url_has_a_name_so_that_it_can_be_classified():
    unnamed = [url for url, name in ALL_URLS if not name]
    assert not unnamed, f"Give these URL patterns a name: {unnamed}"


@pytest.mark.django_db
@pytest.mark.parametrize(("url", "name"), [u for u in ALL_URLS if u[1] not in PUBLIC_URL_NAMES])
def test_staff_pages_send_anonymous_visitors_to_login(client, url, name):
    response = client.get(url)
    if response.status_code == 405:  # POST-only action: the POST must be refused too
        response = client.post(url)
    assert response.status_code == 302, (
        f"{url} ({name}) answered {response.status_code} to an anonymous visitor. If it is a page for "
        f"patients, add {name!r} to PUBLIC_URL_NAMES in {__name__}; otherwise it must require login."
    )
    assert response["Location"].startswith(reverse("login"))


@pytest.mark.django_db
def test_admin_is_for_superusers_only(client, manager):
    client.force_login(manager)
    response = client.get("/admin/")
    assert response.status_code == 302
    assert "/admin/login/" in response["Location"]
