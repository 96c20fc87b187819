"""Managers add and manage the team; new members get a link to choose their own password."""

import time
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from servicedesk import access
from servicedesk.models import PracticeSettings, User
from servicedesk.roles import Role
from servicedesk.security.models import AuditEvent
from servicedesk.tasks import send_due_welcome_emails, send_welcome_email
from tests.factories import LocationFactory, UserFactory
from tests.servicedesk.accounts import choose_password_from_email

NEW_MEMBER = {
    "username": "jsmith",
    "first_name": "Jo",
    "last_name": "Smith",
    "email": "jo.smith@practice.example",
    "role": Role.STAFF.value,
    "location": "",
}


@pytest.mark.django_db
def test_manager_adds_a_staff_member_who_is_emailed_a_password_link(
    manager_client, django_capture_on_commit_callbacks, mailoutbox, settings
):
    settings.CELERY_TASK_ALWAYS_EAGER = True
    location = LocationFactory()
    with django_capture_on_commit_callbacks(execute=True):
        response = manager_client.post(
            reverse("staff_member_create"), {**NEW_MEMBER, "location": location.pk}
        )
    assert response.status_code == 302
    member = User.objects.get(username="jsmith")
    assert member.role == Role.STAFF
    assert member.location == location
    assert not member.has_usable_password()
    # The task went to the broker; run what the worker would run.
    send_welcome_email(member.pk)
    assert len(mailoutbox) == 1
    assert "/accounts/reset/" in mailoutbox[0].body
    assert mailoutbox[0].to == ["jo.smith@practice.example"]


@pytest.mark.django_db
def test_welcome_email_is_sent_once_however_often_the_task_and_sweep_run(mailoutbox):
    member = UserFactory(password=None, email="new@practice.example")
    member.set_unusable_password()
    member.save()
    assert send_welcome_email(member.pk) is True
    assert send_welcome_email(member.pk) is False
    assert send_due_welcome_emails() == 0
    assert len(mailoutbox) == 1


@pytest.mark.django_db
def test_a_refused_welcome_email_is_retried_by_the_outbox_not_requeued(
    mailoutbox, refused_addresses, time_machine
):
    member = UserFactory(email="new@practice.example")
    member.set_unusable_password()
    member.save()
    refused_addresses.add("new@practice.example")

    assert send_welcome_email.run(member.pk) is True
    assert len(mailoutbox) == 0
    assert send_due_welcome_emails() == 0  # claimed once; the outbox owns the retries

    refused_addresses.clear()
    time_machine.move_to(timezone.now() + timedelta(minutes=1))
    assert len(mailoutbox) == 1
    assert "/accounts/reset/" in mailoutbox[0].body


@pytest.mark.django_db
def test_adding_a_member_with_the_broker_down_is_quick_and_the_account_stands(
    manager_client, broker_down, django_capture_on_commit_callbacks, mailoutbox, caplog
):
    started = time.monotonic()
    with django_capture_on_commit_callbacks(execute=True):
        response = manager_client.post(reverse("staff_member_create"), NEW_MEMBER)
    elapsed = time.monotonic() - started
    assert response.status_code == 302
    assert elapsed < 2, f"the request took {elapsed:.2f}s with the broker down"
    assert User.objects.filter(username="jsmith").exists()
    assert "broker unavailable" in caplog.text
    # Nothing is lost: the next sweep finds the account and sends the link.
    assert send_due_welcome_emails() == 1
    assert len(mailoutbox) == 1


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("email", "not-an-email", "Enter a valid email address"),
        ("username", "has spaces!", "Enter a valid username"),
        ("first_name", "", "This field is required"),
        ("role", "Owner", "Select a valid choice"),
    ],
)
def test_bad_input_for_a_new_member_is_explained_and_nothing_is_saved(manager_client, field, value, message):
    response = manager_client.post(reverse("staff_member_create"), {**NEW_MEMBER, field: value})
    assert response.status_code == 400
    assert message in response.content.decode()
    assert not User.objects.filter(username=NEW_MEMBER["username"]).exists()


@pytest.mark.django_db
def test_usernames_and_emails_are_unique_regardless_of_case(manager_client):
    UserFactory(username="JSmith", email="JO.SMITH@practice.example")
    response = manager_client.post(reverse("staff_member_create"), NEW_MEMBER)
    body = response.content.decode()
    assert "Someone already has this username" in body
    assert "Another team member already uses this email address" in body


@pytest.mark.django_db
def test_manager_promotes_a_staff_member_and_moves_them(manager_client, staff):
    location = LocationFactory()
    response = manager_client.post(
        reverse("staff_member_update", args=[staff.pk]),
        {
            **NEW_MEMBER,
            "email": staff.email,
            "role": Role.MANAGER.value,
            "location": location.pk,
            "is_active": "on",
        },
    )
    assert response.status_code == 302
    staff = User.objects.get(pk=staff.pk)
    assert staff.role == Role.MANAGER
    assert staff.location == location
    assert staff.username == "staffer"  # the username cannot be changed


@pytest.mark.django_db
def test_the_last_manager_cannot_be_demoted_or_locked_out(manager_client, manager):
    url = reverse("staff_member_update", args=[manager.pk])
    data = {**NEW_MEMBER, "email": manager.email, "role": Role.STAFF.value, "is_active": "on"}
    response = manager_client.post(url, data)
    assert response.status_code == 400
    assert "at least one active manager" in response.content.decode()
    manager = User.objects.get(pk=manager.pk)
    assert manager.role == Role.MANAGER


@pytest.mark.django_db
def test_a_manager_can_step_down_once_another_manager_exists(manager_client, manager):
    UserFactory(manager=True)
    url = reverse("staff_member_update", args=[manager.pk])
    data = {**NEW_MEMBER, "email": manager.email, "role": Role.STAFF.value, "is_active": "on"}
    assert manager_client.post(url, data).status_code == 302
    assert User.objects.get(pk=manager.pk).role == Role.STAFF


@pytest.mark.django_db
def test_resending_the_invitation_sends_a_new_welcome_link_before_a_password_is_chosen(
    manager_client, mailoutbox
):
    invited = UserFactory(email="new@practice.example")
    invited.set_unusable_password()
    invited.save()
    send_welcome_email(invited.pk)
    page = manager_client.get(reverse("team_list")).content.decode()
    assert "Resend invitation" in page
    manager_client.post(reverse("staff_member_send_password_link", args=[invited.pk]))
    assert send_due_welcome_emails() == 1
    assert len(mailoutbox) == 2
    assert all("/accounts/reset/" in message.body for message in mailoutbox)


@pytest.mark.django_db
def test_a_manager_sends_a_set_password_link_that_lets_an_active_member_choose_a_new_password(
    manager_client, client, mailoutbox
):
    active = UserFactory(email="sam@practice.example")
    assert "Send a set-password link" in manager_client.get(reverse("team_list")).content.decode()
    response = manager_client.post(reverse("staff_member_send_password_link", args=[active.pk]), follow=True)
    assert "a link to choose a password" in response.content.decode()
    assert len(mailoutbox) == 1
    assert mailoutbox[0].to == ["sam@practice.example"]
    _form_page, done = choose_password_from_email(client, mailoutbox[0].body)
    assert done.status_code == 302
    active.refresh_from_db()
    assert active.check_password("a-new-long-passphrase")


@pytest.mark.django_db
def test_no_link_for_someone_who_cannot_log_in_or_has_no_email(manager_client, mailoutbox):
    for member in (UserFactory(is_active=False), UserFactory(email="")):
        response = manager_client.post(
            reverse("staff_member_send_password_link", args=[member.pk]), follow=True
        )
        assert "cannot log in or has no email address" in response.content.decode()
    assert mailoutbox == []


@pytest.mark.django_db
def test_team_list_query_count_does_not_grow_with_the_team(manager_client, count_queries):
    UserFactory.create_batch(3, location=LocationFactory())
    manager_client.get(reverse("team_list"))
    small = count_queries(lambda: manager_client.get(reverse("team_list")))
    UserFactory.create_batch(20, location=LocationFactory())
    assert count_queries(lambda: manager_client.get(reverse("team_list"))) == small
    assert manager_client.get(reverse("team_list")).content.decode().count("/edit/") == 24


@pytest.mark.django_db
@pytest.mark.parametrize("name", ["team_list", "staff_member_create"])
def test_only_managers_manage_the_team(client, staff_client, name):
    assert staff_client.get(reverse(name)).status_code == 403
    client.logout()
    assert client.get(reverse(name)).status_code == 302


# --- Who works where, and what staff see --------------------------------------------------------------


@pytest.mark.django_db
def test_a_manager_records_the_other_sites_someone_covers(manager_client, manager, staff):
    usual, second = LocationFactory(name="Riverside"), LocationFactory(name="Hilltop")
    data = {**NEW_MEMBER, "email": staff.email, "location": usual.pk, "is_active": "on"}
    response = manager_client.post(
        reverse("staff_member_update", args=[staff.pk]), {**data, "other_locations": [usual.pk, second.pk]}
    )
    assert response.status_code == 302
    assert list(staff.other_locations.all()) == [second]  # the usual site is theirs already
    event = AuditEvent.objects.filter(action="changed", target_id=str(staff.pk)).get()
    assert event.data["also works at"] == ["—", "Hilltop"]
    assert "also Hilltop" in manager_client.get(reverse("team_list")).content.decode()


@pytest.mark.django_db
def test_need_to_know_is_on_until_a_manager_switches_it_off_on_the_team_page(manager_client, manager):
    page = manager_client.get(reverse("team_list")).content.decode()
    assert 'name="staff_need_to_know" id="id_staff_need_to_know" checked' in page
    response = manager_client.post(reverse("practice_settings"), {}, follow=True)
    assert "Every staff member now sees every site" in response.content.decode()
    assert access.staff_need_to_know() is False
    event = AuditEvent.objects.get(action="changed", target_type="servicedesk.practicesettings")
    assert event.actor == manager
    assert event.data == {"staff see only what their work needs": ["yes", "no"]}
    manager_client.post(reverse("practice_settings"), {"staff_need_to_know": "on"})
    assert access.staff_need_to_know() is True


@pytest.mark.django_db
def test_only_managers_change_what_staff_see(client, staff_client):
    assert staff_client.post(reverse("practice_settings"), {}).status_code == 403
    assert access.staff_need_to_know() is True
    client.logout()
    response = client.post(reverse("practice_settings"), {})
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))
    assert not PracticeSettings.objects.exists()
