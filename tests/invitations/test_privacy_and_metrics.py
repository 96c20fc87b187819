"""Privacy duties (purge after the retention period) and the invitation metrics."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from feedback import invitations
from feedback.models import Invitation, InvitationMessage, Suppression
from feedback.tasks import invitations_purge
from servicedesk.metrics import Filters, Period, registry
from tests.invitations.conftest import refresh

pytestmark = pytest.mark.django_db


def test_contact_details_are_purged_n_days_after_completion_or_expiry(invite, rules):
    now = timezone.now()
    _o, answered = invite(email="a@example.org")
    _o, expired = invite(email="b@example.org")
    _o, recent = invite(email="c@example.org")
    _o, still_open = invite(email="d@example.org")
    past = now - timedelta(days=rules.purge_after_days + 1)
    Invitation.objects.filter(pk=answered.pk).update(status="completed", completed_at=past)
    Invitation.objects.filter(pk=expired.pk).update(status="expired", expires_at=past)
    Invitation.objects.filter(pk=recent.pk).update(status="completed", completed_at=now - timedelta(days=5))
    Invitation.objects.filter(pk=still_open.pk).update(visit_at=past)  # open: never purged
    InvitationMessage.objects.filter(invitation=expired).update(last_error="550 b@example.org unknown")

    assert invitations_purge() == 2
    for invitation in (answered, expired):
        invitation = refresh(invitation)
        assert (invitation.email, invitation.phone, invitation.first_name) == ("", "", "")
        assert (invitation.email_hash, invitation.phone_hash) == ("", "")
        assert invitation.purged_at is not None
    assert InvitationMessage.objects.get(invitation=expired).last_error == ""
    assert refresh(recent).email == "c@example.org"
    assert refresh(still_open).email == "d@example.org"
    assert invitations_purge() == 0  # nothing left to do


def test_the_retention_period_is_configurable(invite, rules):
    _o, answered = invite()
    Invitation.objects.filter(pk=answered.pk).update(
        status="completed", completed_at=timezone.now() - timedelta(days=10)
    )
    assert invitations_purge() == 0
    rules.purge_after_days = 7
    rules.save()
    assert invitations_purge() == 1


def test_an_opt_out_survives_the_purge_of_the_invitation_that_carried_it(client, invite, rules):
    _o, invitation = invite(email="ana@example.org")
    invitations.invitation_opt_out(invitation=invitation, now=timezone.now())
    Invitation.objects.filter(pk=invitation.pk).update(expires_at=timezone.now() - timedelta(days=400))
    invitations_purge()
    assert refresh(invitation).email == ""
    assert Suppression.objects.count() == 1
    assert "ana@example.org" not in str(list(Suppression.objects.values()))
    assert invite(email="Ana@example.org")[0] == "opted_out"


def test_the_invitation_metrics_are_registered_and_count_sent_answered_and_opted_out(invite, site):
    now = timezone.now()
    rows = [invite()[1] for _ in range(8)]  # at least the small-number threshold of invitations
    Invitation.objects.filter(pk__in=[i.pk for i in rows]).update(status="sent", sent_at=now)
    Invitation.objects.filter(pk__in=[rows[0].pk, rows[1].pk]).update(status="completed", completed_at=now)
    Invitation.objects.filter(pk__in=[rows[2].pk, rows[3].pk]).update(status="opted_out", opted_out_at=now)
    period = Period.last_days(7, now=now + timedelta(seconds=1))
    assert registry.value("feedback.invitations_sent", period=period) == 8
    assert registry.value("feedback.response_rate_pct", period=period) == 25.0
    assert registry.value("feedback.opt_out_rate_pct", period=period) == 25.0
    elsewhere = Filters(location_id=site.pk + 1000)
    assert registry.value("feedback.response_rate_pct", period=period, filters=elsewhere) is None
    assert (
        registry.value("feedback.invitations_sent", period=period, filters=Filters(location_id=site.pk)) == 8
    )


def test_a_visit_list_never_confirmed_is_discarded_after_a_day(manager, survey, site, rules, time_machine):
    from feedback.invitations import imports as invitation_import

    start = timezone.now()
    time_machine.move_to(start, tick=False)
    visit = f"{timezone.localtime():%Y-%m-%d %H:%M}"
    content = f"first name,email,visit,location\nAna,ana@example.org,{visit},{site.name}\n"
    job = invitation_import.import_start(
        survey=survey, filename="v.csv", content=content.encode(), by=manager
    )
    invitation_import.import_validate(import_id=job.pk)
    time_machine.move_to(start + timedelta(days=1, minutes=1), tick=False)
    invitations_purge()
    job.refresh_from_db()
    assert job.status == "discarded"
    assert bytes(job.content) == b""
