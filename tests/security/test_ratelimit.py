"""Rate limits on every public endpoint, per client address, with a friendly 429 page."""

from __future__ import annotations

import pytest
from django.core.cache.backends.locmem import LocMemCache
from django.urls import reverse

from servicedesk.security import ratelimit
from servicedesk.security.ratelimit import Rate
from tests.outages import DeadCache

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("text", "rate"),
    [("10/m", Rate(10, 60)), ("5/15m", Rate(5, 900)), ("100/h", Rate(100, 3600)), (" 3 / 2s ", Rate(3, 2))],
)
def test_rates_read_as_count_per_window(text, rate):
    assert Rate.parse(text) == rate


@pytest.mark.parametrize("text", ["", "10", "0/m", "ten/m", "10/w", "-1/m"])
def test_a_malformed_rate_is_a_clear_error(text):
    with pytest.raises(ValueError, match="Not a rate"):
        Rate.parse(text)


def test_every_configured_rate_is_valid(settings):
    for rules in settings.RATE_LIMITS.values():
        for text in rules.values():
            Rate.parse(text)


def test_the_health_check_answers_429_with_a_friendly_page_past_its_limit(client, rate_limits, settings):
    settings.RATE_LIMITS = {**rate_limits, "healthz": {"GET": "3/m"}}
    statuses = [client.get(reverse("healthz")).status_code for _ in range(4)]
    assert statuses == [200, 200, 200, 429]
    response = client.get(reverse("healthz"))
    html = response.content.decode()
    assert "Please wait a moment" in html
    assert 'lang="es"' in html  # patients may read Spanish
    assert 0 < int(response["Retry-After"]) <= 60
    assert response["Cache-Control"] == "no-store"


def test_login_posts_are_limited_per_address_before_the_password_is_checked(client, rate_limits, settings):
    settings.RATE_LIMITS = {**rate_limits, "login": {"POST": "2/m"}}
    data = {"username": "someone", "password": "guess"}
    assert client.post(reverse("login"), data).status_code == 200
    assert client.post(reverse("login"), data).status_code == 200
    assert client.post(reverse("login"), data).status_code == 429
    assert client.get(reverse("login")).status_code == 200  # reading the form is a separate budget


def test_password_reset_requests_are_limited(client, rate_limits, mailoutbox):
    limit = Rate.parse(rate_limits["password_reset"]["POST"]).count
    for _ in range(limit):
        assert client.post(reverse("password_reset"), {"email": "a@example.org"}).status_code == 302
    assert client.post(reverse("password_reset"), {"email": "a@example.org"}).status_code == 429


def test_each_address_has_its_own_budget(client, rate_limits, settings):
    settings.RATE_LIMITS = {**rate_limits, "healthz": {"GET": "1/m"}}
    assert client.get(reverse("healthz"), REMOTE_ADDR="10.0.0.1").status_code == 200
    assert client.get(reverse("healthz"), REMOTE_ADDR="10.0.0.1").status_code == 429
    assert client.get(reverse("healthz"), REMOTE_ADDR="10.0.0.2").status_code == 200


def test_the_budget_comes_back_in_the_next_window(client, rate_limits, settings, time_machine):
    settings.RATE_LIMITS = {**rate_limits, "healthz": {"GET": "1/m"}}
    time_machine.move_to("2026-03-02 09:00:05+00:00", tick=False)
    assert client.get(reverse("healthz")).status_code == 200
    assert client.get(reverse("healthz")).status_code == 429
    time_machine.move_to("2026-03-02 09:01:00+00:00", tick=False)
    assert client.get(reverse("healthz")).status_code == 200


def test_pages_that_need_a_login_are_not_limited_by_default(staff_client, rate_limits, settings):
    settings.RATE_LIMITS = {**rate_limits, "public": {"*": "1/m"}}
    assert all(staff_client.get(reverse("my_work")).status_code == 200 for _ in range(5))


def test_every_public_view_falls_under_the_public_limit(rate_limits):
    public = Rate.parse(rate_limits["public"]["POST"])
    assert ratelimit.rule_for("feedback:kiosk", "POST", public=True) == public
    assert ratelimit.rule_for("my_work", "GET", public=False) is None


def test_a_dead_cache_lets_requests_through_instead_of_failing_them(
    client, rate_limits, settings, monkeypatch
):
    settings.RATE_LIMITS = {**rate_limits, "healthz": {"GET": "1/m"}}

    monkeypatch.setattr(ratelimit, "cache", DeadCache())  # Redis or not, every call fails
    monkeypatch.setattr(ratelimit, "_cache_down_until", 0.0)
    assert all(client.get(reverse("healthz")).status_code == 200 for _ in range(3))


def test_behind_a_trusted_proxy_the_forwarded_client_address_counts(rf, settings):
    settings.TRUSTED_PROXY_HOPS = 1
    request = rf.get("/", REMOTE_ADDR="10.0.0.9", HTTP_X_FORWARDED_FOR="6.6.6.6, 203.0.113.7")
    assert ratelimit.client_ip(request) == "203.0.113.7"  # the left part is the client's to forge


def test_an_address_that_is_not_an_ip_is_not_believed(rf, settings):
    settings.TRUSTED_PROXY_HOPS = 1
    request = rf.get("/", REMOTE_ADDR="10.0.0.9", HTTP_X_FORWARDED_FOR="<script>")
    assert ratelimit.client_ip(request) == "10.0.0.9"
    assert ratelimit.client_ip(rf.get("/", REMOTE_ADDR="")) is None


def test_without_a_trusted_proxy_a_forged_forwarded_header_is_ignored(rf, settings):
    settings.TRUSTED_PROXY_HOPS = 0
    request = rf.get("/", REMOTE_ADDR="198.51.100.4", HTTP_X_FORWARDED_FOR="203.0.113.7")
    assert ratelimit.client_ip(request) == "198.51.100.4"


def test_the_cache_never_holds_a_visitors_address_in_the_clear(client, rate_limits, settings, monkeypatch):
    settings.RATE_LIMITS = {**rate_limits, "healthz": {"GET": "5/m"}}
    local = LocMemCache("rate-limit-test", {})
    monkeypatch.setattr(ratelimit, "cache", local)
    client.get(reverse("healthz"), REMOTE_ADDR="198.51.100.23")
    keys = list(local._cache.keys())
    assert keys
    assert not any("198.51.100.23" in key for key in keys)
