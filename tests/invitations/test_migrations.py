"""Moving invitation sending onto the outbox keeps every message row, and turns what the old
sender left mid-way into the new states without messaging anyone twice (feedback 0008)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from feedback.models import Invitation, InvitationMessage
from tests.invitations.conftest import refresh
from tests.migrating import migrate, migrate_to_latest

pytestmark = pytest.mark.django_db(transaction=True)


def test_messages_left_by_the_old_sender_are_moved_to_the_outbox_states(invite):
    def left_as(status: str, *, error: str = "", invitation_status: str = "pending", expired: bool = False):
        _outcome, invitation = invite()
        fields = {"status": invitation_status}
        if expired:
            fields["expires_at"] = timezone.now() - timedelta(days=1)
        Invitation.objects.filter(pk=invitation.pk).update(**fields)
        invitation.messages.update(status=status, attempts=5, last_error=error)
        return invitation

    interrupted = left_as("sending")
    refused = left_as("failed", error="SMTPRecipientsRefused: 550", invitation_status="failed")
    refused_expired = left_as("failed", error="550", invitation_status="failed", expired=True)
    sent = left_as("sent", invitation_status="sent")
    before = InvitationMessage.objects.count()

    migrate([("feedback", "0007_negative_latest_index")])
    migrate_to_latest()

    assert InvitationMessage.objects.count() == before  # every row kept
    message = interrupted.messages.get()
    assert message.status == "failed"  # it may have arrived: never sent again automatically
    assert message.last_error.startswith("Interrupted while sending")
    message = refused.messages.get()
    assert (message.status, message.attempts) == ("queued", 0)  # refused: it did not arrive; goes again
    assert message.due_at <= timezone.now()
    assert refresh(refused).status == "pending"
    assert refused_expired.messages.get().status == "failed"  # its link is dead: nothing to send
    assert refresh(refused_expired).status == "failed"
    assert sent.messages.get().status == "sent"
    assert InvitationMessage.objects.filter(outbox__isnull=False).count() == 0
