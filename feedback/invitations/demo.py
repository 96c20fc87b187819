"""Demo invitations in every state, consistent with the demo responses. Idempotent.

Called from ``feedback/demo.py`` after the surveys and responses exist: answered invitations
are linked to demo responses that came through a link (channel "link"), with times that fit
(visit, then message, then answer). Running it twice gives the same data: the demo's own
invitations (source "demo") are replaced, nothing else is touched.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from feedback.invitations import Contact, contact_suppress
from feedback.invitations.delivery import message_to_outbox
from feedback.models import Invitation, InvitationMessage, InvitationRules, Response, Suppression, Survey
from servicedesk.models import Location, OutboxMessage

FIRST_NAMES = [
    "Alex",
    "Sam",
    "Jordan",
    "Priya",
    "Tom",
    "Grace",
    "Mohammed",
    "Ana",
    "Luis",
    "Eve",
    "Noah",
    "Mia",
]
# (status, how many, days since the visit) — the answered ones come from the demo responses.
PLAN = [
    ("pending", 6, 0),
    ("sent", 10, 1),
    ("reminded", 6, 5),
    ("opted_out", 3, 2),
    ("expired", 8, 20),
    ("failed", 2, 1),
]
ANSWERED = 40  # at most this many demo responses get the invitation they came from


@transaction.atomic
def seed(*, options: dict, out: Callable[[str], None]) -> None:
    survey = Survey.objects.for_patients().active().filter(slug="after-your-visit").first()
    survey = survey or Survey.objects.for_patients().active().first()
    locations = list(Location.objects.active())
    if survey is None or not locations:
        out("Invitations: skipped (no active patient survey or location yet).")
        return
    rules = InvitationRules.current()
    if rules.default_survey_id is None:
        InvitationRules.objects.filter(pk=rules.pk).update(default_survey=survey)
    demo = Invitation.objects.filter(source=Invitation.Source.DEMO)
    handed = InvitationMessage.objects.filter(invitation__in=demo, outbox__isnull=False)
    OutboxMessage.objects.filter(pk__in=handed.values("outbox_id")).delete()
    demo.delete()
    rng = random.Random(20261128)
    now = timezone.now().replace(second=0, microsecond=0)
    rows: list[tuple[Invitation, list[InvitationMessage]]] = []
    serial = 0

    def person() -> dict:
        nonlocal serial
        serial += 1
        name = rng.choice(FIRST_NAMES)
        by_sms = serial % 3 == 0
        contact = Contact(
            email="" if by_sms else f"{name.lower()}.{serial}@example.org",
            phone=f"+4477009{serial:05d}" if by_sms else "",
        )
        return {
            "first_name": name,
            "email": contact.email,
            "phone": contact.phone,
            "email_hash": contact.email_hash,
            "phone_hash": contact.phone_hash,
            "language": "es" if serial % 8 == 0 else "en",
            "channel": "sms" if by_sms else "email",
        }

    def invitation(status: str, visit_at, **fields) -> Invitation:
        details = person()
        channel = details.pop("channel")
        values = {
            "survey": survey,
            "visit_at": visit_at,
            "location": rng.choice(locations),
            "status": status,
            "source": Invitation.Source.DEMO,
            "external_id": f"DEMO-{serial:04d}",
            "expires_at": visit_at + timedelta(days=rules.expiry_days),
            **details,
        }
        inv = Invitation(**(values | fields))
        inv.demo_channel = channel
        return inv

    def message(inv: Invitation, number: int, status: str, due_at, **fields) -> InvitationMessage:
        return InvitationMessage(
            invitation=inv,
            kind="first" if number == 0 else "reminder",
            number=number,
            channel=inv.demo_channel,
            status=status,
            due_at=due_at,
            attempts=0 if status == "queued" else fields.pop("attempts", 1),
            sent_at=due_at if status == "sent" else None,
            provider_id=f"demo-{inv.external_id}-{number}" if status == "sent" else "",
            **fields,
        )

    delay = timedelta(minutes=rules.delay_minutes)
    remind = timedelta(days=rules.reminder_after_days)
    for status, count, days in PLAN:
        for _ in range(count):
            visit_at = now - timedelta(days=days, hours=rng.randint(1, 8) if days else rng.randint(0, 1))
            first_at = visit_at + delay
            if status == "pending":
                inv = invitation(status, visit_at)
                rows.append((inv, [message(inv, 0, "queued", first_at)]))
            elif status == "sent":
                inv = invitation(status, visit_at, sent_at=first_at)
                rows.append(
                    (inv, [message(inv, 0, "sent", first_at), message(inv, 1, "queued", first_at + remind)])
                )
            elif status == "reminded":
                inv = invitation(
                    status, visit_at, sent_at=first_at, reminder_count=1, last_reminded_at=first_at + remind
                )
                rows.append(
                    (inv, [message(inv, 0, "sent", first_at), message(inv, 1, "sent", first_at + remind)])
                )
            elif status == "opted_out":
                inv = invitation(
                    status, visit_at, sent_at=first_at, opted_out_at=first_at + timedelta(hours=1)
                )
                rows.append(
                    (
                        inv,
                        [message(inv, 0, "sent", first_at), message(inv, 1, "cancelled", first_at + remind)],
                    )
                )
            elif status == "expired":
                inv = invitation(
                    status, visit_at, sent_at=first_at, reminder_count=1, last_reminded_at=first_at + remind
                )
                rows.append(
                    (inv, [message(inv, 0, "sent", first_at), message(inv, 1, "sent", first_at + remind)])
                )
            else:  # failed
                inv = invitation(status, visit_at)
                error = "SMTPRecipientsRefused: 550 5.1.1 mailbox unavailable"
                if inv.demo_channel == "sms":
                    error = "SendError: provider rejected the number (unreachable handset)"
                rows.append((inv, [message(inv, 0, "failed", first_at, last_error=error)]))

    # Answered invitations: the demo responses that arrived by link, each after its invitation.
    answered = list(
        Response.objects.filter(
            survey=survey,
            channel=Response.Channel.LINK,
            invitation__isnull=True,
            submitted_at__gte=now - timedelta(days=min(60, rules.purge_after_days - 1)),
            submitted_at__lt=now - timedelta(hours=6),
        ).order_by("-submitted_at", "pk")[:ANSWERED]
    )
    links: list[tuple[Invitation, Response]] = []
    for index, response in enumerate(answered):
        after_reminder = index % 4 == 0
        first_at = response.submitted_at - (
            remind + timedelta(hours=3) if after_reminder else timedelta(hours=3)
        )
        visit_at = first_at - delay
        inv = invitation(
            "completed",
            visit_at,
            sent_at=first_at,
            completed_at=response.submitted_at,
            location=response.location or rng.choice(locations),
            touchpoint=response.touchpoint,
            reminder_count=1 if after_reminder else 0,
            last_reminded_at=first_at + remind if after_reminder else None,
        )
        messages = [message(inv, 0, "sent", first_at)]
        messages.append(message(inv, 1, "sent" if after_reminder else "cancelled", first_at + remind))
        rows.append((inv, messages))
        links.append((inv, response))

    Invitation.objects.bulk_create([inv for inv, _m in rows])
    InvitationMessage.objects.bulk_create([m for _inv, messages in rows for m in messages])
    for _inv, messages in rows:
        for m in messages:
            if m.status == InvitationMessage.Status.FAILED:
                _failed_in_outbox(m, now=now)
    for inv, response in links:
        Response.objects.filter(pk=response.pk).update(invitation=inv, language=inv.language)
    for inv, _messages in rows:
        if inv.status == "opted_out":
            contact_suppress(
                contact=Contact(email=inv.email, phone=inv.phone), reason=Suppression.Reason.OPT_OUT, now=now
            )
    out(
        f"Invitations: {len(rows)} demo invitations ({len(links)} answered, linked to demo responses), "
        "in every state."
    )


def _failed_in_outbox(message: InvitationMessage, *, now) -> None:
    """A demo message the provider refused: failed in the outbox, so it is on the failed-messages
    page with "Send again", as a real one would be (the demo's addresses are fictional)."""
    outbox_id = message_to_outbox(message, now=now)
    OutboxMessage.objects.filter(pk=outbox_id).update(
        status=OutboxMessage.Status.FAILED,
        attempts=settings.OUTBOX_MAX_ATTEMPTS,
        last_error=message.last_error[:200],
    )
    InvitationMessage.objects.filter(pk=message.pk).update(outbox_id=outbox_id)
