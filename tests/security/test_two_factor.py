"""Two-factor sign-in for managers: set up an authenticator, then a code after every password."""

from __future__ import annotations

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.urls import reverse
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.plugins.otp_totp.models import TOTPDevice

from servicedesk.security import demo
from servicedesk.security.twofactor import current_code
from tests.conftest import totp_code
from tests.factories import UserFactory

PASSWORD = "correct horse battery"
VERIFY = reverse("security:two_factor_verify")
SETUP = reverse("security:two_factor_setup")
pytestmark = pytest.mark.django_db


def _password_login(client, user, next_url: str = ""):
    url = reverse("login") + (f"?next={next_url}" if next_url else "")
    return client.post(url, {"username": user.username, "password": PASSWORD}, follow=False)


def _follow_to_page(client, response):
    while response.status_code == 302:
        response = client.get(response["Location"])
    return response


def test_a_manager_is_asked_for_a_code_after_the_password(client):
    manager = UserFactory(manager=True)
    response = _follow_to_page(client, _password_login(client, manager))
    assert response.request["PATH_INFO"] == VERIFY
    assert "Six-digit code" in response.content.decode()
    assert client.get(reverse("dashboard"))["Location"].startswith(VERIFY)


def test_the_right_code_opens_the_page_the_manager_asked_for(client):
    manager = UserFactory(manager=True)
    _follow_to_page(client, _password_login(client, manager, next_url="/team/"))
    device = TOTPDevice.objects.get(user=manager)
    response = client.post(f"{VERIFY}?next=/team/", {"code": totp_code(device)})
    assert response.status_code == 302
    assert response["Location"] == "/team/"
    assert client.get("/team/").status_code == 200
    assert client.session[DEVICE_ID_SESSION_KEY] == device.persistent_id


def test_a_wrong_code_is_refused_with_a_clear_message(client):
    manager = UserFactory(manager=True)
    _password_login(client, manager)
    response = client.post(
        VERIFY, {"code": "000000" if current_code(manager.totpdevice_set.get()) != "000000" else "111111"}
    )
    assert response.status_code == 400
    assert "That code did not work" in response.content.decode()
    assert DEVICE_ID_SESSION_KEY not in client.session
    assert client.get(reverse("dashboard"))["Location"].startswith(VERIFY)


@pytest.mark.parametrize("code", ["", "12345", "1234567", "abcdef", "12 34 5x", "١٢٣٤٥٦"])
def test_malformed_codes_are_form_errors_not_crashes(client, code):
    manager = UserFactory(manager=True)
    _password_login(client, manager)
    response = client.post(VERIFY, {"code": code})
    assert response.status_code == 400
    assert 'id="error-summary"' in response.content.decode()


def test_a_code_cannot_be_used_twice(client):
    manager = UserFactory(manager=True)
    device = TOTPDevice.objects.get(user=manager)
    code = current_code(device)
    _password_login(client, manager)
    assert client.post(VERIFY, {"code": code}).status_code == 302
    client.logout()
    _password_login(client, manager)
    assert client.post(VERIFY, {"code": code}).status_code == 400


def test_staff_log_in_with_a_password_alone(client):
    staff = UserFactory()
    response = _follow_to_page(client, _password_login(client, staff))
    assert response.request["PATH_INFO"] == reverse("my_work")


def test_staff_cannot_open_the_two_factor_pages(staff_client):
    assert staff_client.get(VERIFY).status_code == 403
    assert staff_client.get(SETUP).status_code == 403


def test_a_manager_without_an_authenticator_is_sent_to_set_one_up(client):
    manager = UserFactory(manager=True, authenticator=False)
    response = _follow_to_page(client, _password_login(client, manager))
    assert response.request["PATH_INFO"] == SETUP
    html = response.content.decode()
    assert "<svg" in html
    assert "QR code" in html
    device = TOTPDevice.objects.get(user=manager)
    assert not device.confirmed
    assert response.context["secret"].replace(" ", "") in device.config_url


def test_setting_up_confirms_the_authenticator_and_signs_the_manager_in(client):
    manager = UserFactory(manager=True, authenticator=False)
    _follow_to_page(client, _password_login(client, manager, next_url="/team/"))
    device = TOTPDevice.objects.get(user=manager)

    response = client.post(f"{SETUP}?next=/team/", {"code": current_code(device)})

    assert response["Location"] == "/team/"
    device.refresh_from_db()
    assert device.confirmed
    assert client.get("/team/").status_code == 200


def test_the_qr_code_stays_the_same_when_the_setup_page_is_reloaded(client):
    manager = UserFactory(manager=True, authenticator=False)
    _password_login(client, manager)
    first, second = client.get(SETUP), client.get(SETUP)
    assert first.context["secret"] == second.context["secret"]
    assert TOTPDevice.objects.filter(user=manager).count() == 1


def test_a_wrong_setup_code_leaves_the_authenticator_unconfirmed(client):
    manager = UserFactory(manager=True, authenticator=False)
    _password_login(client, manager)
    client.get(SETUP)
    device = TOTPDevice.objects.get(user=manager)
    wrong = "000000" if current_code(device) != "000000" else "111111"
    response = client.post(SETUP, {"code": wrong})
    assert response.status_code == 400
    device.refresh_from_db()
    assert not device.confirmed


def test_a_password_alone_cannot_set_up_a_second_authenticator(client):
    """Someone who stole the password must not be able to add their own phone."""
    manager = UserFactory(manager=True)
    _password_login(client, manager)
    response = client.get(SETUP)
    assert response["Location"].startswith(VERIFY)
    assert TOTPDevice.objects.filter(user=manager).count() == 1


def test_an_unverified_manager_can_still_log_out_and_reach_public_pages(client):
    manager = UserFactory(manager=True)
    _password_login(client, manager)
    assert client.get(reverse("healthz")).status_code == 200
    assert client.post(reverse("logout")).status_code == 302
    assert "_auth_user_id" not in client.session


def test_an_offsite_next_is_ignored_after_the_code(client):
    manager = UserFactory(manager=True)
    _password_login(client, manager)
    device = TOTPDevice.objects.get(user=manager)
    response = client.post(f"{VERIFY}?next=https://evil.example/", {"code": totp_code(device)})
    assert response["Location"] == reverse("home")


def test_the_demo_manager_gets_the_published_demo_authenticator_and_seeding_twice_changes_nothing():
    manager = UserFactory(username=demo.DEMO_MANAGERS[0], manager=True, authenticator=False)
    demo.seed(options={}, out=lambda line: None)
    demo.seed(options={}, out=lambda line: None)
    device = TOTPDevice.objects.get(user=manager)
    assert device.confirmed
    assert device.config_url.split("secret=")[1].startswith(demo.DEMO_TOTP_SECRET.replace(" ", ""))


def test_two_factor_code_prints_a_code_the_login_accepts(client, capsys, settings):
    settings.DEBUG = True
    manager = UserFactory(username=demo.DEMO_MANAGERS[0], manager=True, authenticator=False)
    demo.seed(options={}, out=lambda line: None)
    call_command("two_factor_code", demo.DEMO_MANAGERS[0])
    code = capsys.readouterr().out.strip()
    _password_login(client, manager)
    assert client.post(VERIFY, {"code": code}).status_code == 302


def test_two_factor_code_refuses_in_production(settings):
    settings.DEBUG = False
    with pytest.raises(CommandError, match="development"):
        call_command("two_factor_code", "manager")


def test_reset_two_factor_makes_the_manager_set_up_a_new_authenticator(client):
    manager = UserFactory(manager=True)
    call_command("reset_two_factor", manager.username)
    assert not TOTPDevice.objects.filter(user=manager).exists()
    response = _follow_to_page(client, _password_login(client, manager))
    assert response.request["PATH_INFO"] == SETUP


def test_after_too_many_wrong_codes_even_the_right_one_must_wait(client):
    manager = UserFactory(manager=True)
    device = TOTPDevice.objects.get(user=manager)
    _password_login(client, manager)
    wrong = "000000" if current_code(device) != "000000" else "111111"
    for _ in range(3):
        client.post(VERIFY, {"code": wrong})
    assert client.post(VERIFY, {"code": current_code(device)}).status_code == 400
