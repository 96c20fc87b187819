"""Login lockout: repeated wrong passwords pause a username, saying the same for real and made-up ones."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.urls import reverse

from tests.factories import UserFactory

PASSWORD = "correct horse battery"
pytestmark = pytest.mark.django_db


WRONG_PASSWORD = "wrong password"


def _attempt(client, username: str, password: str = WRONG_PASSWORD):
    return client.post(reverse("login"), {"username": username, "password": password})


def _comparable(response) -> str:
    """The page as a visitor sees it, less what differs on every request anyway."""
    html = response.content.decode()
    html = re.sub(r'name="csrfmiddlewaretoken" value="[^"]+"', "", html)
    return html.replace("maya", "USERNAME").replace("nobody", "USERNAME")


def test_five_wrong_passwords_pause_the_username_even_with_the_right_password_next(client, settings):
    user = UserFactory(username="maya")
    for _ in range(settings.AXES_FAILURE_LIMIT):
        _attempt(client, "maya")

    response = _attempt(client, "maya", PASSWORD)

    assert response.status_code == 429
    assert "Too many attempts" in response.content.decode()
    assert response["Retry-After"] == str(15 * 60)
    assert "_auth_user_id" not in client.session
    user.refresh_from_db()
    assert user.last_login is None


def test_known_and_unknown_usernames_get_identical_answers_at_every_attempt(client, settings):
    UserFactory(username="maya")
    for attempt in range(settings.AXES_FAILURE_LIMIT + 2):
        known, unknown = _attempt(client, "maya"), _attempt(client, "nobody")
        assert known.status_code == unknown.status_code, f"attempt {attempt + 1}"
        assert _comparable(known) == _comparable(unknown), f"attempt {attempt + 1}"
    assert known.status_code == 429


def test_the_lockout_page_is_in_the_house_layout_and_offers_a_password_reset(client, settings):
    for _ in range(settings.AXES_FAILURE_LIMIT):
        response = _attempt(client, "nobody")
    html = response.content.decode()
    assert 'class="skip-link"' in html  # base.html
    assert reverse("password_reset") in html
    assert "15 minutes" in html
    assert "nobody" not in html  # nothing echoes which username was tried


def test_the_pause_ends_after_the_cool_off(client, settings, time_machine):
    UserFactory(username="maya")
    time_machine.move_to("2026-03-02 09:00:00+00:00", tick=False)
    for _ in range(settings.AXES_FAILURE_LIMIT):
        _attempt(client, "maya")
    assert _attempt(client, "maya", PASSWORD).status_code == 429

    time_machine.move_to("2026-03-02 09:15:01+00:00", tick=False)
    response = _attempt(client, "maya", PASSWORD)
    assert response.status_code == 302
    assert client.session["_auth_user_id"]


def test_a_successful_login_starts_the_count_again(client, settings):
    UserFactory(username="maya")
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        _attempt(client, "maya")
    assert _attempt(client, "maya", PASSWORD).status_code == 302
    client.logout()
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        _attempt(client, "maya")
    assert _attempt(client, "maya", PASSWORD).status_code == 302


def test_changing_the_case_of_a_username_buys_no_extra_guesses(client, settings):
    UserFactory(username="maya")
    for variant in ["maya", "Maya", "MAYA", " maya", "mAyA"][: settings.AXES_FAILURE_LIMIT]:
        _attempt(client, variant)
    assert _attempt(client, "maya", PASSWORD).status_code == 429


def test_a_wrong_password_says_the_same_for_known_and_unknown_users_before_any_lockout(client):
    UserFactory(username="maya")
    known, unknown = _attempt(client, "maya"), _attempt(client, "nobody")
    assert known.status_code == unknown.status_code == 200
    assert "Please enter a correct username and password" in known.content.decode()
    assert _comparable(known) == _comparable(unknown)


def test_one_persons_lockout_does_not_stop_a_colleague(client, settings):
    UserFactory(username="maya")
    UserFactory(username="sam")
    for _ in range(settings.AXES_FAILURE_LIMIT):
        _attempt(client, "maya")
    assert _attempt(client, "sam", PASSWORD).status_code == 302


def test_the_cool_off_is_fifteen_minutes_by_default(settings):
    assert timedelta(minutes=15) == settings.AXES_COOLOFF_TIME
    assert settings.AXES_FAILURE_LIMIT == 5


@pytest.mark.parametrize("username", ["x" * 300, "🙂" * 300, ["", "y" * 400]])
def test_an_absurdly_long_username_is_a_failed_login_not_a_server_error(client, username):
    response = client.post(reverse("login"), {"username": username, "password": WRONG_PASSWORD})
    assert response.status_code == 200
    assert response.context["form"].errors
