"""Sending invitations and reminders: once, on time, in the patient's language, never at night."""

from __future__ import annotations

import smtplib
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.core.mail.backends.base import BaseEmailBackend
from django.db import IntegrityError, transaction
from django.utils import timezone

from feedback import invitations
from feedback.invitations import Outcome
from feedback.models import Invitation, InvitationMessage
from feedback.tasks import invitations_sweep, send_invitation_message
from servicedesk import identity
from servicedesk.models import OutboxMessage
from servicedesk.outbox import outbox_send_again, outbox_sweep
from tests.invitations.conftest import refresh

pytestmark = pytest.mark.django_db
LONDON = ZoneInfo("Europe/London")


class BrokenMailBackend(BaseEmailBackend):
    def send_messages(self, email_messages):
        raise smtplib.SMTPServerDisconnected("Connection unexpectedly closed")


def first_message(invitation: Invitation) -> InvitationMessage:
    return invitation.messages.get(number=0)


def test_a_new_invitation_queues_its_first_message_for_after_the_visit_delay(invite, rules):
    now = timezone.now()
    visit_at = now - timedelta(minutes=30)
    outcome, invitation = invite(visit_at=visit_at, now=now)
    assert outcome == Outcome.CREATED
    message = first_message(invitation)
    assert message.status == InvitationMessage.Status.QUEUED
    assert message.due_at == visit_at + timedelta(minutes=rules.delay_minutes)
    assert invitation.expires_at == visit_at + timedelta(days=rules.expiry_days)


def test_the_sweep_sends_a_due_invitation_once_even_when_it_runs_twice(invite, eager_tasks, mailoutbox):
    _outcome, invitation = invite()
    invitations_sweep()
    invitations_sweep()
    assert len(mailoutbox) == 1
    assert refresh(invitation).status == Invitation.Status.SENT
    message = first_message(invitation)
    assert (message.status, message.attempts) == (InvitationMessage.Status.SENT, 1)
    assert message.provider_id


def test_a_message_not_yet_due_is_not_sent(invite, eager_tasks, mailoutbox):
    invite(visit_at=timezone.now())  # due two hours from now
    invitations_sweep()
    assert mailoutbox == []


def test_a_send_task_executed_twice_sends_one_message(invite, mailoutbox):
    _outcome, invitation = invite()
    message = first_message(invitation)
    send_invitation_message.apply(args=(message.pk,))
    send_invitation_message.apply(args=(message.pk,))
    assert len(mailoutbox) == 1


def test_the_database_refuses_a_second_first_invitation_or_a_second_reminder_n(invite):
    _outcome, invitation = invite()
    with pytest.raises(IntegrityError), transaction.atomic():
        InvitationMessage.objects.create(
            invitation=invitation, kind="first", number=0, channel="email", due_at=timezone.now()
        )
    InvitationMessage.objects.create(
        invitation=invitation, kind="reminder", number=1, channel="email", due_at=timezone.now()
    )
    with pytest.raises(IntegrityError), transaction.atomic():
        InvitationMessage.objects.create(
            invitation=invitation, kind="reminder", number=1, channel="sms", due_at=timezone.now()
        )


def test_a_mail_server_that_fails_causes_outbox_retries_with_backoff_then_failed_with_the_reason(
    invite, eager_tasks, settings, mailoutbox, time_machine
):
    settings.EMAIL_BACKEND = "tests.invitations.test_sending.BrokenMailBackend"
    settings.OUTBOX_MAX_ATTEMPTS = 3
    start = timezone.now()
    time_machine.move_to(start, tick=False)
    _outcome, invitation = invite(now=start)
    message = first_message(invitation)

    invitations_sweep()  # handed to the outbox, which tries at once and is refused
    message.refresh_from_db()
    assert message.status == InvitationMessage.Status.SENDING
    outbox = OutboxMessage.objects.get(pk=message.outbox_id)
    assert (outbox.kind, outbox.status, outbox.attempts) == ("survey_invitation", "queued", 1)
    assert outbox.next_attempt_at == start + timedelta(seconds=30)
    assert "SMTPServerDisconnected" in outbox.last_error

    time_machine.move_to(start + timedelta(seconds=20), tick=False)
    outbox_sweep(now=timezone.now())  # not due again yet: backoff
    assert OutboxMessage.objects.get(pk=outbox.pk).attempts == 1

    time_machine.move_to(start + timedelta(seconds=30), tick=False)
    outbox_sweep(now=timezone.now())
    outbox.refresh_from_db()
    assert (outbox.attempts, outbox.next_attempt_at) == (2, start + timedelta(seconds=90))

    time_machine.move_to(start + timedelta(seconds=90), tick=False)
    outbox_sweep(now=timezone.now())
    invitations_sweep()  # reads the outcome back
    message.refresh_from_db()
    assert message.status == InvitationMessage.Status.FAILED
    assert "Connection unexpectedly closed" in message.last_error
    assert refresh(invitation).status == Invitation.Status.FAILED
    assert OutboxMessage.objects.get(pk=outbox.pk).status == "failed"  # on the managers' failed page

    time_machine.move_to(start + timedelta(hours=2), tick=False)
    outbox_sweep(now=timezone.now())
    invitations_sweep()
    assert OutboxMessage.objects.get(pk=outbox.pk).attempts == 3  # failed stays failed until "Send again"
    assert InvitationMessage.objects.filter(invitation=invitation).count() == 1  # and no reminder
    assert mailoutbox == []


def _refused_for_good(invite, settings) -> tuple[Invitation, InvitationMessage]:
    """An invitation whose first message the mail server refused once, with no retries allowed."""
    settings.EMAIL_BACKEND = "tests.invitations.test_sending.BrokenMailBackend"
    settings.OUTBOX_MAX_ATTEMPTS = 1
    _outcome, invitation = invite()
    invitations_sweep()  # handed over, refused, failed
    invitations_sweep()  # read back
    return invitation, first_message(invitation)


def test_send_again_sends_the_same_failed_invitation_once_more_and_it_reads_back_as_sent(
    invite, eager_tasks, settings, mailoutbox, django_capture_on_commit_callbacks
):
    invitation, message = _refused_for_good(invite, settings)
    assert message.status == InvitationMessage.Status.FAILED
    assert refresh(invitation).status == Invitation.Status.FAILED

    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    outbox = OutboxMessage.objects.get(pk=message.outbox_id)
    with django_capture_on_commit_callbacks(execute=True):
        assert outbox_send_again(message=outbox, now=timezone.now())
    invitations_sweep()
    message.refresh_from_db()
    assert message.status == InvitationMessage.Status.SENT
    assert refresh(invitation).status == Invitation.Status.SENT
    assert len(mailoutbox) == 1
    assert OutboxMessage.objects.filter(key__startswith="survey_invitation:").count() == 1  # never a copy
    assert invitation.messages.filter(number=1).exists()  # the reminder is scheduled after the send


def test_a_send_again_read_back_before_it_goes_shows_the_message_on_its_way(invite, eager_tasks, settings):
    invitation, message = _refused_for_good(invite, settings)
    OutboxMessage.objects.filter(pk=message.outbox_id).update(status="queued", attempts=0)  # "Send again"
    invitations_sweep()
    message.refresh_from_db()
    assert message.status == InvitationMessage.Status.SENDING
    assert refresh(invitation).status == Invitation.Status.PENDING


def test_an_answer_takes_back_a_message_the_outbox_has_not_sent_yet(
    invite, eager_tasks, settings, mailoutbox
):
    settings.EMAIL_BACKEND = "tests.invitations.test_sending.BrokenMailBackend"
    _outcome, invitation = invite()
    invitations_sweep()  # handed over; refused once, waiting for its retry
    message = first_message(invitation)
    assert OutboxMessage.objects.filter(pk=message.outbox_id, status="queued").exists()

    Invitation.objects.filter(pk=invitation.pk).update(status="completed", completed_at=timezone.now())
    report = invitations_sweep()
    assert report["cancelled"] == 1
    message.refresh_from_db()
    assert (message.status, message.outbox_id) == (InvitationMessage.Status.CANCELLED, None)
    assert not OutboxMessage.objects.exists()  # nothing left to retry: the patient answered
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    outbox_sweep(now=timezone.now() + timedelta(hours=1))
    assert mailoutbox == []


def test_quiet_hours_move_a_first_message_due_at_night_to_the_morning(invite, rules):
    rules.quiet_hours_start, rules.quiet_hours_end = time(20, 0), time(9, 0)
    rules.save()
    visit_at = datetime(2026, 6, 10, 19, 30, tzinfo=LONDON)  # + 2 h = 21:30, in the quiet hours
    _outcome, invitation = invite(visit_at=visit_at, now=visit_at)
    assert first_message(invitation).due_at == datetime(2026, 6, 11, 9, 0, tzinfo=LONDON)


def test_quiet_hours_after_midnight_end_the_same_morning(rules):
    rules.quiet_hours_start, rules.quiet_hours_end = time(20, 0), time(9, 0)
    late = datetime(2026, 1, 15, 2, 15, tzinfo=LONDON)
    assert invitations.outside_quiet_hours(late, rules=rules) == datetime(2026, 1, 15, 9, 0, tzinfo=LONDON)
    day = datetime(2026, 1, 15, 12, 0, tzinfo=LONDON)
    assert invitations.outside_quiet_hours(day, rules=rules) == day


def test_a_message_claimed_in_the_quiet_hours_waits_for_their_end_without_using_an_attempt(
    invite, rules, mailoutbox, time_machine
):
    time_machine.move_to(datetime(2026, 6, 10, 13, 0, tzinfo=LONDON), tick=False)
    _outcome, invitation = invite(visit_at=datetime(2026, 6, 10, 10, 0, tzinfo=LONDON))
    rules.quiet_hours_start, rules.quiet_hours_end = time(20, 0), time(9, 0)
    rules.save()
    night = datetime(2026, 6, 10, 23, 0, tzinfo=LONDON)
    message = first_message(invitation)
    assert not invitations.message_send(message_id=message.pk, now=night)
    message.refresh_from_db()
    assert (message.status, message.attempts) == (InvitationMessage.Status.QUEUED, 0)
    assert message.due_at == datetime(2026, 6, 11, 9, 0, tzinfo=LONDON)
    assert mailoutbox == []


def test_a_non_responder_gets_exactly_one_reminder_after_n_days(
    invite, rules, eager_tasks, mailoutbox, time_machine
):
    start = timezone.now()
    time_machine.move_to(start, tick=False)
    _outcome, invitation = invite(now=start)
    invitations_sweep()
    assert len(mailoutbox) == 1

    time_machine.move_to(start + timedelta(days=rules.reminder_after_days) - timedelta(minutes=1), tick=False)
    invitations_sweep()
    assert len(mailoutbox) == 1

    for day in range(rules.reminder_after_days, rules.expiry_days + 2):
        time_machine.move_to(start + timedelta(days=day), tick=False)
        invitations_sweep()
        invitations_sweep()
    assert len(mailoutbox) == 2
    assert mailoutbox[1].subject.startswith("Reminder")
    invitation = refresh(invitation)
    assert invitation.reminder_count == 1
    assert invitation.status == Invitation.Status.EXPIRED  # still unanswered when the link expired


def test_a_patient_who_answered_gets_no_reminder(invite, rules, eager_tasks, mailoutbox, time_machine):
    start = timezone.now()
    time_machine.move_to(start, tick=False)
    _outcome, invitation = invite(now=start)
    invitations_sweep()
    Invitation.objects.filter(pk=invitation.pk).update(status=Invitation.Status.COMPLETED, completed_at=start)

    time_machine.move_to(start + timedelta(days=rules.reminder_after_days + 1), tick=False)
    invitations_sweep()
    assert len(mailoutbox) == 1
    reminder = invitation.messages.get(number=1)
    assert reminder.status == InvitationMessage.Status.CANCELLED


def test_the_sms_is_preferred_when_the_patient_has_a_mobile(invite, eager_tasks, mailoutbox, sms_outbox):
    _outcome, invitation = invite(email="ana@example.org", phone="07700 900123")
    invitations_sweep()
    assert mailoutbox == []
    assert [sms.to for sms in sms_outbox] == ["+447700900123"]
    assert first_message(invitation).channel == "sms"


def test_email_is_used_when_the_rules_prefer_it(invite, rules, eager_tasks, mailoutbox, sms_outbox):
    rules.channel_preference = "email_first"
    rules.save()
    invite(email="ana@example.org", phone="07700 900123")
    invitations_sweep()
    assert len(mailoutbox) == 1
    assert sms_outbox == []


def test_an_email_is_short_with_practice_link_and_opt_out_in_text_and_html(
    invite, eager_tasks, mailoutbox, settings
):
    _outcome, invitation = invite(clinician="Dr Hibbert")
    invitations_sweep()
    email = mailoutbox[0]
    link = settings.SITE_URL + invitation.get_absolute_url()
    html = email.alternatives[0][0]
    for body in (email.body, html):
        assert settings.PRACTICE_NAME in body
        assert link in body
        assert link + "opt-out/" in body
        assert "Hibbert" not in body  # no clinical or visit details
        assert "Riverside Surgery" not in body
    assert email.alternatives[0][1] == "text/html"
    assert len(email.body) < 1000


def test_a_spanish_speaking_patient_gets_the_message_in_spanish(invite, eager_tasks, mailoutbox, sms_outbox):
    invite(language="es")
    invite(language="es", email="", phone="+34 600 123 456")
    invitations_sweep()
    assert mailoutbox[0].subject.startswith("¿Qué tal su visita")
    assert "No recibir más" in sms_outbox[0].body
    assert len(sms_outbox[0].body) < 320  # two SMS segments at most


def test_old_invitations_expire_and_their_queued_messages_are_cancelled(invite, rules, time_machine):
    start = timezone.now()
    time_machine.move_to(start, tick=False)
    _outcome, invitation = invite(now=start, visit_at=start)
    time_machine.move_to(start + timedelta(days=rules.expiry_days, minutes=1), tick=False)
    report = invitations_sweep()
    assert report["expired"] == 1
    assert refresh(invitation).status == Invitation.Status.EXPIRED
    assert first_message(invitation).status == InvitationMessage.Status.CANCELLED


def test_a_send_interrupted_by_a_dying_worker_is_marked_failed_and_not_sent_again(
    invite, mailoutbox, time_machine, settings
):
    start = timezone.now()
    time_machine.move_to(start, tick=False)
    _outcome, invitation = invite(now=start)
    message = first_message(invitation)
    outbox_id = invitations.message_hand_over(message_id=message.pk, now=start)
    OutboxMessage.objects.filter(pk=outbox_id).update(status="sending", claimed_at=start)  # the worker died

    time_machine.move_to(start + timedelta(seconds=settings.OUTBOX_SENDING_TIMEOUT + 60), tick=False)
    outbox_sweep(now=timezone.now())
    invitations_sweep()
    message.refresh_from_db()
    assert message.status == InvitationMessage.Status.FAILED
    assert "may or may not have arrived" in message.last_error
    assert mailoutbox == []


def test_a_visit_received_twice_is_one_invitation(invite):
    first = invite(external_id="PMS-1001")
    second = invite(external_id="PMS-1001", email="someone.else@example.org")
    assert first[0] == Outcome.CREATED
    assert second == (Outcome.DUPLICATE, first[1])
    assert Invitation.objects.count() == 1


def test_the_frequency_cap_skips_a_patient_invited_within_the_cap(invite, rules):
    assert invite(email="Ana@Example.org")[0] == Outcome.CREATED
    assert invite(email=" ana@example.org ")[0] == Outcome.RECENTLY_INVITED
    rules.frequency_cap_days = 0
    rules.save()
    assert invite(email="ana@example.org")[0] == Outcome.CREATED


def test_the_frequency_cap_lapses_after_its_days(invite, rules, time_machine):
    start = timezone.now()
    time_machine.move_to(start, tick=False)
    invite(phone="07700 900123", email="", now=start)
    later = start + timedelta(days=rules.frequency_cap_days, minutes=1)
    time_machine.move_to(later, tick=False)
    assert invite(phone="+44 7700 900123", email="", now=later)[0] == Outcome.CREATED


def test_a_visit_too_long_ago_is_not_invited(invite, rules):
    old = timezone.now() - timedelta(days=rules.expiry_days + 1)
    assert invite(visit_at=old) == (Outcome.TOO_OLD, None)


def test_phone_numbers_are_normalised_to_international_form():
    assert invitations.normalise_phone("07700 900-123") == "+447700900123"
    assert invitations.normalise_phone("0044 7700 900123") == "+447700900123"
    assert invitations.normalise_phone("+1 (415) 555-0100") == "+14155550100"
    for bad in ("12", "call me", "+0 123 456 789"):
        with pytest.raises(Exception):  # noqa: B017, PT011 — ValidationError, the message is checked elsewhere
            invitations.normalise_phone(bad)


def test_an_opt_out_takes_back_a_message_the_outbox_was_still_retrying(
    invite, eager_tasks, settings, mailoutbox
):
    settings.EMAIL_BACKEND = "tests.invitations.test_sending.BrokenMailBackend"
    _outcome, invitation = invite()
    invitations_sweep()
    message = first_message(invitation)
    assert OutboxMessage.objects.filter(pk=message.outbox_id, status="queued").exists()

    invitations.invitation_opt_out(invitation=invitation, now=timezone.now())
    message.refresh_from_db()
    assert (message.status, message.last_error) == (InvitationMessage.Status.CANCELLED, invitations.OPTED_OUT)
    assert not OutboxMessage.objects.exists()
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    outbox_sweep(now=timezone.now() + timedelta(hours=1))
    invitations_sweep()
    assert mailoutbox == []


def test_reading_back_twice_records_one_send_and_schedules_one_reminder(invite, eager_tasks, mailoutbox):
    _outcome, invitation = invite()
    invitations_sweep()
    message = first_message(invitation)
    InvitationMessage.objects.filter(pk=message.pk).update(status="sending")  # as if not read back yet
    assert invitations.messages_read_back(now=timezone.now()).sent == 1
    assert invitations.messages_read_back(now=timezone.now()).sent == 0
    assert invitation.messages.count() == 2  # the first message and one reminder
    assert len(mailoutbox) == 1


def test_a_new_reminder_interval_moves_a_queued_reminder_from_the_first_messages_send(
    invite, eager_tasks, mailoutbox, rules, manager
):
    _outcome, invitation = invite()
    invitations_sweep()
    sent_at = first_message(invitation).sent_at
    reminder = invitation.messages.get(number=1)
    assert reminder.due_at == sent_at + timedelta(days=rules.reminder_after_days)

    invitations.invitation_rules_update(fields={"reminder_after_days": 5}, by=manager, now=timezone.now())
    reminder.refresh_from_db()
    assert reminder.due_at == sent_at + timedelta(days=5)


def test_the_html_email_wears_the_practices_colour_and_logo(
    invite, eager_tasks, mailoutbox, settings, manager
):
    logo = identity.PreparedLogo(png=b"\x89PNG fake", width=300, height=100)
    identity.identity_save(accent="#6a1b9a", logo=logo, remove_logo=False, by=manager)
    invite()
    invitations_sweep()
    html = mailoutbox[0].alternatives[0][0]
    look = identity.current()
    src = settings.SITE_URL + look.logo_url
    assert f'<img src="{src}" alt="{settings.PRACTICE_NAME}" width="144" height="48"' in html
    assert "background:#6a1b9a;color:#ffffff" in html  # the button
    assert "#0b5ed7" not in html
