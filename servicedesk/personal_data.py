"""The core's tables that can hold a patient's data, on the declared list (``servicedesk.privacy``).

Registered last (after every pillar's), because they are found from what the pillars found: the
outbox from every address and number the person's rows held, the audit log and the admin's
history from mentions of them and from the records they were about.
"""

from __future__ import annotations

from functools import reduce
from operator import or_
from typing import Any

from django.contrib.admin.models import LogEntry
from django.contrib.contenttypes.models import ContentType
from django.db.models import Q, QuerySet, TextField
from django.db.models.functions import Cast, Lower

from servicedesk.models import OutboxMessage
from servicedesk.outbox import kind_label
from servicedesk.privacy import Person, PersonalData, Rule, digits_of, personal_data
from servicedesk.security.models import AuditEvent


def _when(value: Any) -> str | None:
    return value.isoformat() if value else None


def _outbox_rows(person: Person) -> QuerySet[OutboxMessage]:
    return OutboxMessage.objects.annotate(to_lower=Lower("to"), to_digits=digits_of("to")).filter(
        Q(to_lower__in=person.emails) | Q(to_digits__in=person.phones)
    )


def _outbox_export(pks: list[int]) -> list[dict[str, Any]]:
    return [
        {
            "kind": kind_label(m.kind),
            "channel": m.channel,
            "to": m.to,
            "subject": m.subject,
            "text": m.text,  # kept only until sent
            "status": m.status,
            "queued_at": _when(m.created_at),
            "sent_at": _when(m.sent_at),
        }
        for m in OutboxMessage.objects.filter(pk__in=pks).order_by("pk")
    ]


def _audit_rows(person: Person) -> QuerySet[AuditEvent]:
    """Events whose label or facts might mention the person; ``mentions_only`` keeps the ones that do."""
    mentions = person.emails | person.phones | {name for name in person.names if " " in name}
    if not mentions:
        return AuditEvent.objects.none()
    events = AuditEvent.objects.annotate(data_text=Cast("data", TextField()))
    return events.filter(
        reduce(or_, (Q(data_text__icontains=m) | Q(target_label__icontains=m) for m in mentions))
    )


def _audit_export(pks: list[int]) -> list[dict[str, Any]]:
    return [
        {"at": _when(e.at), "action": e.action, "about": e.target_label, "details": e.data}
        for e in AuditEvent.objects.filter(pk__in=pks).order_by("pk")
    ]


def _admin_history_rows(person: Person) -> QuerySet[LogEntry]:
    """The admin site's history of the records found to hold the person (its labels quote them)."""
    about = Q(pk__in=[])
    for item in personal_data:
        pks = person.rows.get(item.label)
        if pks and item.model is not LogEntry:
            content_type = ContentType.objects.get_for_model(item.model)
            about |= Q(content_type=content_type, object_id__in=[str(pk) for pk in pks])
    return LogEntry.objects.filter(about)


def _admin_history_export(pks: list[int]) -> list[dict[str, Any]]:
    return [
        {"at": _when(e.action_time), "record": e.object_repr, "change": e.get_change_message()}
        for e in LogEntry.objects.filter(pk__in=pks).order_by("pk")
    ]


def register_all() -> None:
    personal_data.register(
        "servicedesk.outboxmessage",
        PersonalData(
            model=OutboxMessage,
            name="messages",
            # Deleted: a message to them that is waiting must not be sent, and a sent one is done.
            fields={
                "to": Rule.BLANK,
                "subject": Rule.SCRUB,
                "text": Rule.SCRUB,
                "html": Rule.SCRUB,
                "last_error": Rule.SCRUB,
                "provider_id": Rule.BLANK,
            },
            find=_outbox_rows,
            export=_outbox_export,
            delete=True,
        ),
        order=900,
    )
    personal_data.register(
        "security.auditevent",
        PersonalData(
            model=AuditEvent,
            name="audit events that mention them",
            fields={"target_label": Rule.SCRUB, "data": Rule.SCRUB},
            find=_audit_rows,
            export=_audit_export,
            mentions_only=True,
        ),
        order=910,
    )
    personal_data.register(
        "admin.logentry",
        PersonalData(
            model=LogEntry,
            name="admin site history",
            fields={"object_repr": Rule.SCRUB, "change_message": Rule.SCRUB},
            find=_admin_history_rows,
            export=_admin_history_export,
        ),
        order=920,
    )
