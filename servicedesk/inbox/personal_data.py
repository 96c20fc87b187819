"""The practice mailbox's emails, on the declared list of personal data (``servicedesk.privacy``)."""

from __future__ import annotations

from typing import Any

from django.db.models import Q, QuerySet
from django.db.models.functions import Lower

from servicedesk.inbox.models import InboundMail
from servicedesk.privacy import Person, PersonalData, Rule, personal_data


def _rows(person: Person) -> QuerySet[InboundMail]:
    if not person.emails:
        return InboundMail.objects.none()
    return InboundMail.objects.annotate(sender_lower=Lower("sender")).filter(
        Q(sender_lower__in=person.emails)
    )


def _learn(rows: QuerySet[InboundMail], person: Person) -> None:
    for name, subject, text in rows.values_list("sender_name", "subject", "text"):
        person.learn(names=[name], words=[subject, text])


def _export(pks: list[int]) -> list[dict[str, Any]]:
    return [
        {
            "from": f"{mail.sender_name} <{mail.sender}>".strip(),
            "subject": mail.subject,
            "text": mail.text,
            "received_at": mail.received_at.isoformat(),
            "what_it_became": mail.handled_as,
        }
        for mail in InboundMail.objects.filter(pk__in=pks).order_by("pk")
    ]


def register_all() -> None:
    personal_data.register(
        "inbox.inboundmail",
        PersonalData(
            model=InboundMail,
            name="emails to the practice",
            fields={
                "sender": Rule.BLANK,
                "sender_name": Rule.MARKER,
                "subject": Rule.MARKER,
                "text": Rule.MARKER,
                "references": Rule.BLANK,
                "in_reply_to": Rule.BLANK,
                "message_id": Rule.BLANK,
            },
            find=_rows,
            learn=_learn,
            export=_export,
            erased=lambda now: {"raw": b""},
        ),
        order=50,
    )
