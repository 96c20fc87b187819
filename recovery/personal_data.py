"""Recovery's tables that can hold a patient's data, on the declared list (``servicedesk.privacy``).

An incident holds a person when it was opened from their feedback or carries their contact
details. Its description is their words (an incident from feedback copies the comments) or staff's
account of what happened; its timeline is staff's notes of calls and actions. After an erasure the
incident and every timeline row stay — the clocks, the status changes, who did what and when, the
figures — with the contact details emptied and each mention of the person replaced by the marker.
Photos and files on its timeline are deleted, rows and stored files both: a picture cannot be
scrubbed of a person, and the note they were on stays.
"""

from __future__ import annotations

from typing import Any

from django.db.models import Q, QuerySet
from django.db.models.functions import Lower

from recovery.models import FollowUp, Incident
from servicedesk.attachments.models import Attachment
from servicedesk.privacy import Person, PersonalData, Rule, digits_of, personal_data


def _when(value: Any) -> str | None:
    return value.isoformat() if value else None


def _incidents(person: Person) -> QuerySet[Incident]:
    rows = Incident.objects.annotate(
        email_lower=Lower("patient_email"), phone_digits=digits_of("patient_phone")
    )
    return rows.filter(
        Q(source_response__in=person.rows.get("feedback.response", []))
        | Q(email_lower__in=person.emails)
        | Q(phone_digits__in=person.phones)
    )


def _learn_from_incidents(rows: QuerySet[Incident], person: Person) -> None:
    for name, email, phone in rows.values_list("patient_name", "patient_email", "patient_phone"):
        person.learn(emails=[email], phones=[phone], names=[name])


def _incidents_export(pks: list[int]) -> list[dict[str, Any]]:
    rows = Incident.objects.filter(pk__in=pks).prefetch_related("timeline").order_by("pk")
    return [
        {
            "reference": incident.reference,
            "title": incident.title,
            "what_happened": incident.description,
            "category": incident.category,
            "severity": incident.severity,
            "status": incident.status,
            "logged_at": _when(incident.created_at),
            "resolved_at": _when(incident.resolved_at),
            "patient_agreed_to_be_contacted": incident.patient_consented,
            "patient_name": incident.patient_name,
            "patient_email": incident.patient_email,
            "patient_phone": incident.patient_phone,
            "resolution_summary": incident.resolution_summary,
            "root_cause": incident.root_cause,
            "patient_felt_it_was_put_right": incident.patient_recovered,
            "timeline": [
                {
                    "at": _when(entry.at),
                    "kind": entry.kind,
                    "text": entry.body,
                    "contact_channel": entry.contact_channel,
                    "contact_outcome": entry.contact_outcome,
                }
                for entry in incident.timeline.all()
            ],
        }
        for incident in rows
    ]


def _attachments(person: Person) -> QuerySet[Attachment]:
    entries = FollowUp.objects.filter(
        incident__in=person.rows.get("recovery.incident", []), attachment__isnull=False
    )
    return Attachment.objects.filter(pk__in=entries.values("attachment_id"))


def _attachments_export(pks: list[int]) -> list[dict[str, Any]]:
    """What each file is (the files themselves are sent on request, through the guarded view)."""
    entries = dict(
        FollowUp.objects.filter(attachment__in=pks).values_list("attachment_id", "incident__reference")
    )
    return [
        {
            "incident": entries.get(a.pk, ""),
            "file_name": a.original_name,
            "kind": a.kind,
            "content_type": a.content_type,
            "size_bytes": a.size,
            "sha256": a.sha256,
            "attached_at": _when(a.created_at),
        }
        for a in Attachment.objects.filter(pk__in=pks).order_by("pk")
    ]


def register_all() -> None:
    personal_data.register(
        "recovery.incident",
        PersonalData(
            model=Incident,
            name="incidents",
            fields={
                "patient_name": Rule.BLANK,
                "patient_email": Rule.BLANK,
                "patient_phone": Rule.BLANK,
                "title": Rule.SCRUB,
                "description": Rule.SCRUB,
                "resolution_summary": Rule.SCRUB,
                "root_cause": Rule.SCRUB,
            },
            find=_incidents,
            learn=_learn_from_incidents,
            export=_incidents_export,
            # Nobody left to contact (the database allows contact details only with consent).
            erased=lambda now: {"patient_consented": False, "updated_at": now},
        ),
        order=30,
    )
    personal_data.register(
        "recovery.followup",
        PersonalData(
            model=FollowUp,
            name="incident timeline entries",
            fields={"body": Rule.SCRUB, "changes": Rule.SCRUB},
            find=lambda person: FollowUp.objects.filter(
                incident__in=person.rows.get("recovery.incident", [])
            ),
            within="incidents",
        ),
        order=31,
    )
    personal_data.register(
        "attachments.attachment",
        PersonalData(
            model=Attachment,
            name="photos and files on incidents",
            # Deleted, files and all: a photo on an incident about the person may show them.
            fields={"original_name": Rule.BLANK},
            find=_attachments,
            export=_attachments_export,
            delete=True,
        ),
        order=32,
    )
