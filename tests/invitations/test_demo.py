"""The demo invitations: every state, linked to demo responses, the same after a second run."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from feedback.invitations import demo as invitation_demo
from feedback.models import Invitation, InvitationMessage
from tests.factories import LocationFactory, ResponseFactory, SurveyFactory

pytestmark = pytest.mark.django_db


def test_the_demo_has_invitations_in_every_state_linked_to_link_responses_and_is_idempotent():
    LocationFactory()
    survey = SurveyFactory(slug="after-your-visit")
    now = timezone.now()
    for day in range(1, 11):
        ResponseFactory(survey=survey, channel="link", submitted_at=now - timedelta(days=day))
    ResponseFactory(survey=survey, channel="kiosk", submitted_at=now - timedelta(days=2))
    lines: list[str] = []

    invitation_demo.seed(options={}, out=lines.append)
    first = sorted(Invitation.objects.values_list("status", "external_id"))
    invitation_demo.seed(options={}, out=lines.append)

    assert sorted(Invitation.objects.values_list("status", "external_id")) == first
    assert {status for status, _id in first} == set(Invitation.Status.values)
    completed = Invitation.objects.filter(status="completed")
    assert completed.count() == 10
    for invitation in completed.prefetch_related("responses"):
        [response] = invitation.responses.all()
        assert response.channel == "link"
        assert invitation.sent_at < invitation.completed_at == response.submitted_at
    assert InvitationMessage.objects.filter(status="failed").exclude(last_error="").exists()
    assert "Invitations:" in lines[-1]
