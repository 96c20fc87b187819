"""Log in, change and reset passwords in the house layout."""

import re

import pytest
from django.urls import reverse

from tests.factories import UserFactory
from tests.servicedesk.accounts import choose_password_from_email


@pytest.mark.django_db
def test_a_forgotten_password_is_reset_through_the_emailed_link(client, mailoutbox):
    user = UserFactory(email="sam@practice.example")
    response = client.post(reverse("password_reset"), {"email": "SAM@practice.example"}, follow=True)
    assert "Check your email" in response.content.decode()
    assert len(mailoutbox) == 1
    link = re.search(r"https?://[^/]+(/accounts/reset/\S+)", mailoutbox[0].body).group(1)

    form_page = client.get(link, follow=True)
    assert "Choose your password" in form_page.content.decode()
    set_url = form_page.redirect_chain[-1][0]
    done = client.post(
        set_url, {"new_password1": "a-new-long-passphrase", "new_password2": "a-new-long-passphrase"}
    )
    assert done.status_code == 302
    user.refresh_from_db()
    assert user.check_password("a-new-long-passphrase")
    # The link works once.
    assert "expired or has already been used" in client.get(link, follow=True).content.decode()


@pytest.mark.django_db
def test_someone_whose_invitation_is_pending_can_ask_for_a_link_on_the_login_page(client, mailoutbox):
    pending = UserFactory(email="new@practice.example")
    pending.set_unusable_password()
    pending.save()
    response = client.post(reverse("password_reset"), {"email": "new@practice.example"}, follow=True)
    assert "Check your email" in response.content.decode()
    assert len(mailoutbox) == 1
    form_page, _done = choose_password_from_email(client, mailoutbox[0].body)
    assert "Choose your password" in form_page.content.decode()
    pending.refresh_from_db()
    assert pending.check_password("a-new-long-passphrase")


@pytest.mark.django_db
def test_a_reset_request_for_someone_who_cannot_log_in_sends_nothing(client, mailoutbox):
    UserFactory(email="left@practice.example", is_active=False)
    response = client.post(reverse("password_reset"), {"email": "left@practice.example"}, follow=True)
    assert "Check your email" in response.content.decode()
    assert mailoutbox == []


@pytest.mark.django_db
def test_a_reset_request_for_an_unknown_address_looks_the_same_and_sends_nothing(client, mailoutbox):
    response = client.post(reverse("password_reset"), {"email": "nobody@example.org"}, follow=True)
    assert "Check your email" in response.content.decode()
    assert mailoutbox == []


@pytest.mark.django_db
def test_a_weak_new_password_is_refused_with_the_reason(staff_client):
    response = staff_client.post(
        reverse("password_change"),
        {"old_password": "correct horse battery", "new_password1": "12345678", "new_password2": "12345678"},
    )
    assert response.status_code == 200
    assert "This password is too short" in response.content.decode()


@pytest.mark.django_db
def test_logging_out_needs_a_post_and_ends_the_session(staff_client):
    assert staff_client.get(reverse("logout")).status_code == 405
    staff_client.post(reverse("logout"))
    assert staff_client.get(reverse("my_work")).status_code == 302
