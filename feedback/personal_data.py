"""Feedback's tables that can hold a patient's data, on the declared list (``servicedesk.privacy``).

A person is found by their invitations (the keyed hashes of their email or phone), then by the
responses from those invitations or that left the same address with consent, then the answers in
those responses. Invitations and responses stay, without the person, so response rates, scores
and themes are the same after an erasure; what they wrote becomes the marker.
"""

from __future__ import annotations

from typing import Any

from django.db.models import Q, QuerySet
from django.db.models.functions import Lower

from feedback.invitations.contacts import contact_hash
from feedback.models import (
    Answer,
    Invitation,
    InvitationImport,
    InvitationMessage,
    Response,
    ThemeMention,
)
from servicedesk.privacy import MARKER, Person, PersonalData, Rule, digits_of, personal_data


def _when(value: Any) -> str | None:
    return value.isoformat() if value else None


def _hashes(person: Person) -> list[str]:
    return [contact_hash("email", e) for e in person.emails] + [
        contact_hash("phone", p) for p in person.phones if p.startswith("+")
    ]


def _invitations(person: Person) -> QuerySet[Invitation]:
    hashes = _hashes(person)
    return Invitation.objects.filter(Q(email_hash__in=hashes) | Q(phone_hash__in=hashes))


def _learn_from_invitations(rows: QuerySet[Invitation], person: Person) -> None:
    for email, phone, first_name in rows.values_list("email", "phone", "first_name"):
        person.learn(emails=[email], phones=[phone], names=[first_name])


def _invitations_export(pks: list[int]) -> list[dict[str, Any]]:
    rows = (
        Invitation.objects.filter(pk__in=pks)
        .select_related("survey", "location", "touchpoint", "need_profile")
        .prefetch_related("messages")
        .order_by("pk")
    )
    return [
        {
            "survey": inv.survey.title,
            "first_name": inv.first_name,
            "email": inv.email,
            "phone": inv.phone,
            "visit_at": _when(inv.visit_at),
            "visit_id": inv.external_id,
            "location": str(inv.location or ""),
            "touchpoint": str(inv.touchpoint or ""),
            "clinician": inv.clinician,
            "need_profile": str(inv.need_profile or ""),
            "language": inv.language,
            "status": inv.status,
            "source": inv.source,
            "created_at": _when(inv.created_at),
            "expires_at": _when(inv.expires_at),
            "completed_at": _when(inv.completed_at),
            "opted_out_at": _when(inv.opted_out_at),
            "messages": [
                {
                    "kind": m.kind,
                    "number": m.number,
                    "channel": m.channel,
                    "status": m.status,
                    "sent_at": _when(m.sent_at),
                    "error": m.last_error,
                }
                for m in inv.messages.all()
            ],
        }
        for inv in rows
    ]


def _imports(person: Person) -> QuerySet[InvitationImport]:
    """Visit lists that imported the person, and any still waiting to be confirmed that hold them."""
    invited = Invitation.objects.filter(pk__in=person.rows.get("feedback.invitation", []))
    pending = InvitationImport.objects.exclude(content=b"").values_list("pk", "content")
    addresses = [a.encode() for a in person.emails | person.phones]
    holding = [pk for pk, content in pending if any(a in bytes(content).lower() for a in addresses)]
    return InvitationImport.objects.filter(
        Q(pk__in=invited.values("import_job")) | Q(pk__in=holding)
    ).distinct()


def _imports_export(pks: list[int]) -> list[dict[str, Any]]:
    return [
        {
            "file": job.filename,
            "uploaded_at": _when(job.created_at),
            "status": job.status,
            "problems_found": job.issues,
        }
        for job in InvitationImport.objects.filter(pk__in=pks).order_by("pk")
    ]


def _responses(person: Person) -> QuerySet[Response]:
    """From their invitations, or any that left one of their addresses or numbers with consent."""
    rows = Response.objects.annotate(
        email_lower=Lower("contact_email"), phone_digits=digits_of("contact_phone")
    )
    matches = Q(invitation__in=person.rows.get("feedback.invitation", []))
    matches |= Q(email_lower__in=person.emails) | Q(phone_digits__in=person.phones)
    return rows.filter(matches)


def _learn_from_responses(rows: QuerySet[Response], person: Person) -> None:
    for name, email, phone in rows.values_list("contact_name", "contact_email", "contact_phone"):
        person.learn(emails=[email], phones=[phone], names=[name])
    person.learn(words=Answer.objects.filter(response__in=rows).values_list("text", flat=True))


def _responses_export(pks: list[int]) -> list[dict[str, Any]]:
    rows = (
        Response.objects.filter(pk__in=pks)
        .select_related("survey")
        .prefetch_related("answers__question")
        .order_by("pk")
    )
    return [
        {
            "survey": r.survey.title,
            "submitted_at": _when(r.submitted_at),
            "language": r.language,
            "contact_name": r.contact_name,
            "contact_email": r.contact_email,
            "contact_phone": r.contact_phone,
            "answers": [{"question": a.question.text, "answer": a.display()} for a in r.answers.all()],
        }
        for r in rows
    ]


def register_all() -> None:
    personal_data.register(
        "feedback.invitation",
        PersonalData(
            model=Invitation,
            name="invitations",
            fields={
                "email": Rule.BLANK,
                "phone": Rule.BLANK,
                "first_name": Rule.BLANK,
                "email_hash": Rule.BLANK,
                "phone_hash": Rule.BLANK,
                "external_id": Rule.BLANK,
            },
            find=_invitations,
            learn=_learn_from_invitations,
            export=_invitations_export,
            # As the retention purge leaves it: the row counts in response rates, with no one in it.
            erased=lambda now: {"purged_at": now, "updated_at": now},
        ),
        order=10,
    )
    personal_data.register(
        "feedback.invitationmessage",
        PersonalData(
            model=InvitationMessage,
            name="invitation messages",
            # Provider errors can quote the address ("550 no such user bob@...").
            fields={"last_error": Rule.SCRUB, "provider_id": Rule.BLANK},
            find=lambda person: InvitationMessage.objects.filter(
                invitation__in=person.rows.get("feedback.invitation", [])
            ),
            within="invitations",
        ),
        order=11,
    )
    personal_data.register(
        "feedback.invitationimport",
        PersonalData(
            model=InvitationImport,
            name="visit lists",
            # The uploaded file is kept only until a manager confirms it: one holding them goes.
            fields={"issues": Rule.SCRUB, "content": Rule.BLANK, "filename": Rule.SCRUB},
            find=_imports,
            export=_imports_export,
        ),
        order=12,
    )
    personal_data.register(
        "feedback.response",
        PersonalData(
            model=Response,
            name="responses",
            fields={"contact_name": Rule.BLANK, "contact_email": Rule.BLANK, "contact_phone": Rule.BLANK},
            find=_responses,
            learn=_learn_from_responses,
            export=_responses_export,
            # Unlinked from the invitation, so the answers that stay no longer point to the person.
            erased=lambda now: {"invitation": None, "consent_to_contact": False},
        ),
        order=20,
    )
    personal_data.register(
        "feedback.answer",
        PersonalData(
            model=Answer,
            name="answers",
            fields={"text": Rule.MARKER},
            find=lambda person: Answer.objects.filter(response__in=person.rows.get("feedback.response", [])),
            within="responses",
        ),
        order=21,
    )
    personal_data.register(
        "feedback.thememention",
        PersonalData(
            model=ThemeMention,
            name="theme mentions",
            # A span of the answer's text, not a copy: it now spans the marker, and still counts.
            fields={},
            find=lambda person: ThemeMention.objects.filter(
                response__in=person.rows.get("feedback.response", [])
            ),
            within="responses",
            erased=lambda now: {"start": 0, "end": len(MARKER)},
        ),
        order=22,
    )
