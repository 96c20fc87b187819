"""Managers' invitation pages: who may see them, what they show, and that they stay flat as data grows."""

from __future__ import annotations

from datetime import time, timedelta

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format

from feedback import invitations
from feedback.models import IntegrationToken, Invitation, InvitationMessage, InvitationRules, Suppression
from servicedesk.outbox import outbox_sweep
from servicedesk.security.models import AuditEvent
from tests.invitations.conftest import refresh

pytestmark = pytest.mark.django_db

MANAGER_PAGES = [
    "invitations:invitation_list",
    "invitations:invitation_import_upload",
    "invitations:invitation_rules",
    "invitations:integration_list",
    "invitations:invitation_report",
    "invitations:contact_requests",
]


@pytest.mark.parametrize("name", MANAGER_PAGES)
def test_invitation_pages_send_anonymous_visitors_to_login(client, name):
    response = client.get(reverse(name))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


@pytest.mark.parametrize("name", MANAGER_PAGES)
def test_invitation_pages_are_refused_to_staff(staff_client, name):
    assert staff_client.get(reverse(name)).status_code == 403


@pytest.mark.parametrize("name", MANAGER_PAGES)
def test_invitation_pages_open_for_managers(manager_client, rules, name):
    response = manager_client.get(reverse(name))
    assert response.status_code == 200
    assert b'aria-current="page"' in response.content  # the section's navigation marks where we are


@pytest.mark.parametrize(
    "name",
    [
        "invitations:integration_revoke",
        "invitations:invitation_import_confirm",
        "invitations:invitation_import_discard",
    ],
)
def test_manager_actions_are_refused_to_staff(staff_client, name):
    assert staff_client.post(reverse(name, args=[1])).status_code == 403


def test_the_invitations_list_shows_status_and_masks_contact_details(manager_client, invite):
    invite(email="ana.lopez@example.org", first_name="Ana")
    response = manager_client.get(reverse("invitations:invitation_list"))
    assert b"Ana" in response.content
    assert "a•••@example.org" in response.content.decode()
    assert b"ana.lopez@example.org" not in response.content
    assert b"Pending" in response.content


def test_the_invitations_list_filters_by_status(manager_client, invite):
    _o, sent = invite(first_name="Sent")
    invite(first_name="Waiting")
    Invitation.objects.filter(pk=sent.pk).update(status="sent")
    response = manager_client.get(reverse("invitations:invitation_list"), {"status": "sent"})
    assert b"Sent" in response.content
    assert b"Waiting" not in response.content


def test_the_invitations_list_runs_the_same_queries_for_3_or_30_invitations(
    manager_client, invite, count_queries
):
    for _ in range(3):
        invite()
    url = reverse("invitations:invitation_list")
    few = count_queries(lambda: manager_client.get(url))
    for _ in range(27):
        invite()
    assert count_queries(lambda: manager_client.get(url)) == few


def test_a_failed_invitation_is_on_the_one_failed_messages_page_and_send_again_sends_it(
    manager_client, invite, settings, mailoutbox, django_capture_on_commit_callbacks
):
    settings.EMAIL_BACKEND = "tests.invitations.test_sending.BrokenMailBackend"
    settings.OUTBOX_MAX_ATTEMPTS = 1
    _o, invitation = invite()
    message = invitation.messages.get()
    invitations.message_send(message_id=message.pk)
    invitations.invitations_sweep()
    assert refresh(invitation).status == Invitation.Status.FAILED

    page = manager_client.get(reverse("invitations:invitation_list"))
    assert reverse("outbox_failed").encode() in page.content  # the invitations menu links to it
    response = manager_client.get(reverse("outbox_failed"))
    assert "Survey invitation to a patient" in response.content.decode()
    assert b"Connection unexpectedly closed" in response.content
    assert invitation.email.encode() not in response.content  # masked

    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    message.refresh_from_db()
    with django_capture_on_commit_callbacks(execute=True):
        response = manager_client.post(reverse("outbox_send_again", args=[message.outbox_id]))
    assert response.status_code == 302
    outbox_sweep(now=timezone.now())  # the worker, were the task not run at once
    invitations.invitations_sweep()
    assert refresh(invitation).status == Invitation.Status.SENT
    assert len(mailoutbox) == 1


def test_the_response_rate_report_shows_what_reminders_add(manager_client, invite):
    now = timezone.now()
    rows = [invite()[1] for _ in range(4)]
    Invitation.objects.filter(pk__in=[i.pk for i in rows]).update(status="sent", sent_at=now)
    Invitation.objects.filter(pk=rows[0].pk).update(status="completed", completed_at=now)
    Invitation.objects.filter(pk=rows[1].pk).update(status="completed", completed_at=now, reminder_count=1)
    Invitation.objects.filter(pk=rows[2].pk).update(status="reminded", reminder_count=1)
    response = manager_client.get(reverse("invitations:invitation_report"))
    row = response.context["rows"][0]
    assert (row["sent"], row["completed"], row["rate"]) == (4, 2, 50.0)
    assert (row["before_reminder"], row["reminder_gain"]) == (25.0, 25.0)
    page = response.content.decode()
    assert "+25 pts" in page  # the dashboard's way of writing a change in percentage points
    assert "50 %" in page
    assert "50.0 %" not in page


def test_managers_edit_the_sending_rules(manager_client, rules, survey):
    data = {
        "default_survey": survey.pk,
        "delay_minutes": 60,
        "quiet_hours_start": "21:00",
        "quiet_hours_end": "08:30",
        "channel_preference": "email_first",
        "reminder_after_days": 4,
        "max_reminders": 2,
        "expiry_days": 10,
        "frequency_cap_days": 60,
        "purge_after_days": 30,
    }
    response = manager_client.post(reverse("invitations:invitation_rules"), data)
    assert response.status_code == 302
    rules = InvitationRules.current()
    assert (rules.delay_minutes, rules.max_reminders, rules.purge_after_days) == (60, 2, 30)
    assert rules.quiet_hours_end.strftime("%H:%M") == "08:30"


def test_switching_quiet_hours_off_sends_a_message_held_for_the_morning_and_the_list_says_when(
    manager_client, manager, rules, survey, invite, time_machine
):
    night = timezone.localtime().replace(hour=22, minute=0, second=0, microsecond=0)
    time_machine.move_to(night, tick=False)
    manager_client.force_login(manager)  # a session from the pinned instant may have expired by 22:00
    rules.quiet_hours_start, rules.quiet_hours_end = time(21, 0), time(8, 0)
    rules.save()
    _o, invitation = invite(now=night, visit_at=night - timedelta(hours=2))
    message = invitation.messages.get()
    assert timezone.localtime(message.due_at).hour == 8  # held for the morning
    listing = manager_client.get(reverse("invitations:invitation_list")).content.decode()
    assert "goes " + date_format(timezone.localtime(message.due_at), "j M H:i") in listing

    data = {
        "default_survey": survey.pk, "delay_minutes": rules.delay_minutes, "quiet_hours_start": "00:00",
        "quiet_hours_end": "00:00", "channel_preference": rules.channel_preference,
        "reminder_after_days": rules.reminder_after_days, "max_reminders": rules.max_reminders,
        "expiry_days": rules.expiry_days, "frequency_cap_days": rules.frequency_cap_days,
        "purge_after_days": rules.purge_after_days,
    }  # fmt: skip
    assert manager_client.post(reverse("invitations:invitation_rules"), data).status_code == 302
    message.refresh_from_db()
    assert message.due_at == night  # due now: the next minute's sweep sends it


def test_a_reminder_after_the_link_expires_is_refused_with_a_clear_error(manager_client, rules):
    data = {
        "delay_minutes": 60,
        "quiet_hours_start": "21:00",
        "quiet_hours_end": "08:30",
        "channel_preference": "sms_first",
        "reminder_after_days": 20,
        "max_reminders": 1,
        "expiry_days": 14,
        "frequency_cap_days": 30,
        "purge_after_days": 90,
    }
    response = manager_client.post(reverse("invitations:invitation_rules"), data)
    assert response.status_code == 400
    assert b"A reminder must come before the link expires" in response.content
    response = manager_client.post(
        reverse("invitations:invitation_rules"), data | {"reminder_after_days": 3, "max_reminders": 9}
    )
    assert response.status_code == 400
    assert b"At most 5" in response.content
    assert InvitationRules.current().reminder_after_days == 3  # the fixture's defaults, unchanged


def test_a_new_integration_token_is_shown_once_and_only_its_hash_is_stored(manager_client, manager):
    response = manager_client.post(reverse("invitations:integration_list"), {"name": "EMIS at Riverside"})
    raw = response.context["new_token"]
    assert raw.startswith("sdv_")
    assert raw.encode() in response.content
    assert response["Cache-Control"] == "no-store"
    stored = IntegrationToken.objects.get()
    assert raw not in {str(v) for v in IntegrationToken.objects.values().get().values()}
    assert stored.hint == raw[-4:]
    assert raw.encode() not in manager_client.get(reverse("invitations:integration_list")).content


def test_revoking_a_token_stops_it_working(manager_client, manager):
    token, raw = invitations.integration_token_create(name="PMS", by=manager)
    manager_client.post(reverse("invitations:integration_revoke", args=[token.pk]), {"confirmed": "yes"})
    assert invitations.integration_token_authenticate(raw=raw, now=timezone.now()) is None


def test_a_manager_finds_exports_and_erases_everything_about_one_contact(manager_client, invite, manager):
    _o, invitation = invite(email="Ana@Example.org", phone="07700 900123")
    invite(email="someone@example.org")
    from tests.factories import ResponseFactory

    response_row = ResponseFactory(
        survey=invitation.survey,
        invitation=invitation,
        channel="link",
        consent_to_contact=True,
        contact_email="ana@example.org",
    )

    found = manager_client.post(reverse("invitations:contact_requests"), {"contact": "+44 7700 900123"})
    assert len(found.context["record"].invitations) == 1
    assert found["Cache-Control"] == "no-store"

    export = manager_client.post(reverse("invitations:contact_export"), {"contact": "ana@example.org"})
    assert export["Content-Type"] == "application/json"
    data = export.json()
    assert data["invitations"][0]["email"] == "ana@example.org"
    assert data["invitations"][0]["messages"][0]["kind"] == "first"
    assert len(data["responses"]) == 1

    refused = manager_client.post(reverse("invitations:contact_erase"), {"contact": "ana@example.org"})
    assert refused.status_code == 400
    assert Invitation.objects.filter(pk=invitation.pk).exists()

    erased = manager_client.post(
        reverse("invitations:contact_erase"), {"contact": "ana@example.org", "confirm": "on"}
    )
    assert erased.status_code == 302
    # The invitation stays in the response rates, as the retention purge leaves it: no one in it.
    invitation.refresh_from_db()
    assert (invitation.email, invitation.phone, invitation.first_name, invitation.email_hash) == ("",) * 4
    assert invitation.purged_at is not None
    assert InvitationMessage.objects.filter(invitation_id=invitation.pk).count() == 1
    response_row.refresh_from_db()
    assert (response_row.invitation_id, response_row.contact_email, response_row.consent_to_contact) == (
        None,
        "",
        False,
    )
    assert Invitation.objects.exclude(email="").count() == 1  # the other patient's invitation is untouched
    # One audit event per request (the search, the export, the erasure), counting what it covered.
    audit = list(
        AuditEvent.objects.order_by("pk").values_list("action", "target_type", "count", "data", "actor")
    )
    covered = {"invitations": 1, "invitation messages": 1, "responses": 1}
    assert audit == [
        ("viewed", "feedback.contact", 3, covered, manager.pk),
        ("exported", "feedback.contact", 3, covered, manager.pk),
        ("erased", "feedback.contact", 3, covered, manager.pk),
    ]
    assert "ana@example.org" not in str(list(AuditEvent.objects.values()))


def test_a_contact_that_is_neither_email_nor_phone_gets_a_form_error(manager_client):
    response = manager_client.post(reverse("invitations:contact_requests"), {"contact": "not a contact"})
    assert response.status_code == 400
    assert b"Enter a valid email address or mobile number" in response.content


# --- The patient's opt-out ---------------------------------------------------------------------------


def test_opting_out_takes_one_click_after_a_confirmation_and_stops_every_future_invitation(client, invite):
    _o, invitation = invite(email="ana@example.org", phone="07700 900123")
    url = reverse("invitation_opt_out", args=[invitation.token])
    page = client.get(url)
    assert page.status_code == 200
    assert b"Stop survey messages?" in page.content
    assert page["Referrer-Policy"] == "no-referrer"
    assert refresh(invitation).status == "pending"  # a GET (a link scanner) changes nothing

    done = client.post(url, follow=True)
    assert b"You will get no more survey messages" in done.content
    invitation = refresh(invitation)
    assert invitation.status == "opted_out"
    assert invitation.messages.get().status == "cancelled"
    assert Suppression.objects.count() == 2  # the email and the phone

    assert invite(email="ANA@example.org")[0] == "opted_out"
    assert invite(email="", phone="+447700900123")[0] == "opted_out"


def test_the_opt_out_page_speaks_the_invitations_language(client, invite):
    _o, invitation = invite(language="es")
    page = client.get(reverse("invitation_opt_out", args=[invitation.token]))
    assert "¿Dejar de recibir encuestas?".encode() in page.content


def test_the_opt_out_still_works_after_the_survey_was_answered(client, invite):
    _o, invitation = invite()
    Invitation.objects.filter(pk=invitation.pk).update(status="completed", completed_at=timezone.now())
    client.post(reverse("invitation_opt_out", args=[invitation.token]))
    invitation = refresh(invitation)
    assert invitation.status == "completed"
    assert invitation.opted_out_at is not None
    assert Suppression.objects.exists()


@pytest.mark.parametrize("token", ["nonsense", "abc.def", "x" * 200])
def test_an_unknown_opt_out_link_gets_a_neutral_page(client, token, invite):
    _o, invitation = invite()
    if token == "abc.def":
        # A forged MAC on a real selector: never the real one, which ends in "AA" one time in 256.
        token = invitation.token[:-2] + ("BA" if invitation.token.endswith("AA") else "AA")
    response = client.get(reverse("invitation_opt_out", args=[token]))
    assert response.status_code == 404
    assert b"This link is not valid" in response.content
    assert client.post(reverse("invitation_opt_out", args=[token])).status_code == 404
    assert not Suppression.objects.exists()


def test_a_patient_whose_browser_blocks_cookies_can_still_opt_out(invite):
    _o, invitation = invite()
    strict = Client(enforce_csrf_checks=True)  # no cookie from the confirmation page
    response = strict.post(reverse("invitation_opt_out", args=[invitation.token]))
    assert response.status_code == 302
    assert refresh(invitation).status == "opted_out"
