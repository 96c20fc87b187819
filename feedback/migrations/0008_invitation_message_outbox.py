# Invitation messages are sent by the outbox from now on (feedback.invitations.delivery).

import django.db.models.deletion
from django.db import migrations, models
from django.utils import timezone

INTERRUPTED = "Interrupted while sending"


def hand_pending_work_to_the_outbox(apps, schema_editor):
    """Messages the old sender left mid-way, moved to the new states without messaging anyone twice.

    - "sending" (a worker died mid-send): failed, as the old sweep would have marked it; it may
      have arrived, so it is never sent again automatically.
    - "failed" because the provider refused it (it did not arrive), while the link still works:
      queued again, so it goes through the outbox and, if refused again, appears on the one
      failed-messages page with "Send again". The invitation is pending again, as after a retry.
    """
    InvitationMessage = apps.get_model("feedback", "InvitationMessage")
    Invitation = apps.get_model("feedback", "Invitation")
    now = timezone.now()
    InvitationMessage.objects.filter(status="sending", outbox__isnull=True).update(
        status="failed",
        last_error=f"{INTERRUPTED}; not sent again so the patient is not messaged twice.",
        updated_at=now,
    )
    refused = (
        InvitationMessage.objects.filter(status="failed", outbox__isnull=True)
        .exclude(last_error__startswith=INTERRUPTED)
        .filter(
            invitation__status__in=("pending", "sent", "reminded", "failed"),
            invitation__expires_at__gt=now,
            invitation__purged_at__isnull=True,
        )
    )
    ids = list(refused.values_list("pk", flat=True))
    InvitationMessage.objects.filter(pk__in=ids).update(
        status="queued", attempts=0, due_at=now, claimed_at=None, enqueued_at=None, updated_at=now
    )
    Invitation.objects.filter(status="failed", messages__pk__in=ids, messages__number=0).update(
        status="pending", updated_at=now
    )


class Migration(migrations.Migration):
    dependencies = [
        ("feedback", "0007_negative_latest_index"),
        ("servicedesk", "0008_outbox_sent_index"),
    ]

    operations = [
        migrations.AddField(
            model_name="invitationmessage",
            name="outbox",
            field=models.OneToOneField(
                blank=True,
                editable=False,
                null=True,
                on_delete=django.db.models.deletion.SET_NULL,
                related_name="+",
                to="servicedesk.outboxmessage",
            ),
        ),
        migrations.RunPython(hand_pending_work_to_the_outbox, migrations.RunPython.noop),
    ]
