"""Letters to a complainant: the acknowledgement and the final response, in the patient's language,
from the words managers keep in ``LetterTemplate``, emailed through the outbox or printed to post.

Each letter sent is recorded on the incident's timeline (what was sent, how, by whom) and in the
audit log; an email goes once per complaint and kind (the outbox's key), so a second press of
"Email it" sends nothing more. The letter's words are filled by plain ``$placeholder``
substitution (``string.Template``), never by a template engine: a manager's words cannot run code.
"""

from __future__ import annotations

import string
from dataclasses import dataclass
from datetime import datetime

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import translation
from django.utils.formats import date_format

from complaints.models import Complaint, LetterTemplate
from complaints.services import complaint_step
from recovery.services.incidents import lock_incident
from servicedesk.models import User
from servicedesk.outbox import message_key, outbox_email

Kind = LetterTemplate.Kind
OUTBOX_KIND = "complaint_letter"

PLACEHOLDERS = {
    "patient_name": "the patient's name as recorded ('Dear $patient_name')",
    "reference": "the complaint's reference (INC-…), to quote in a reply",
    "practice": "the practice's name",
    "received_on": "the day the complaint was received",
    "response_due_on": "the agreed date for the final response (blank until agreed)",
    "outcome": "the outcome (final response only)",
    "summary": "what the response told the patient (final response only)",
}


# The words a practice starts with (managers edit them under Complaints → Letters), as
# (kind, language, email subject, letter). The migration that made the table wrote these.
OMBUDSMAN = "www.ombudsman.org.uk, 0345 015 4033"
DEFAULTS = [
    ("acknowledgement", "en", "Your complaint $reference", (
        "Dear $patient_name,\n\n"
        "Thank you for telling us about your experience. We received your complaint on $received_on; "
        "its reference is $reference.\n\n"
        "We take every complaint seriously. We would like to talk with you about how we will look into "
        "it and when you can expect our full response. Please call the practice, or reply quoting "
        "$reference.\n\nYours sincerely,\n\n$practice"
    )),
    ("final_response", "en", "Our response to your complaint $reference", (
        "Dear $patient_name,\n\n"
        "We have now looked into the complaint you made on $received_on (reference $reference).\n\n"
        "$summary\n\nOur conclusion: your complaint is $outcome.\n\n"
        "If you are not satisfied with this response, you can ask the Parliamentary and Health Service "
        f"Ombudsman to look at your complaint ({OMBUDSMAN}).\n\nYours sincerely,\n\n$practice"
    )),
    ("acknowledgement", "es", "Su queja $reference", (
        "Estimado/a $patient_name:\n\n"
        "Gracias por contarnos su experiencia. Recibimos su queja el $received_on; su referencia es "
        "$reference.\n\n"
        "Tomamos en serio todas las quejas. Nos gustaría hablar con usted sobre cómo la vamos a "
        "investigar y cuándo recibirá nuestra respuesta completa. Llame a la consulta o responda "
        "indicando $reference.\n\nAtentamente,\n\n$practice"
    )),
    ("final_response", "es", "Nuestra respuesta a su queja $reference", (
        "Estimado/a $patient_name:\n\n"
        "Hemos investigado la queja que presentó el $received_on (referencia $reference).\n\n"
        "$summary\n\nNuestra conclusión: su queja queda $outcome.\n\n"
        "Si no está satisfecho/a con esta respuesta, puede pedir al Parliamentary and Health Service "
        f"Ombudsman que revise su queja ({OMBUDSMAN}).\n\nAtentamente,\n\n$practice"
    )),
]  # fmt: skip


def letter_templates() -> list[LetterTemplate]:
    """Every letter's words, the starting ones put back where a row is missing (idempotent)."""
    for kind, language, subject, body in DEFAULTS:
        LetterTemplate.objects.get_or_create(
            kind=kind, language=language, defaults={"subject": subject, "body": body}
        )
    return list(LetterTemplate.objects.all())


@dataclass(frozen=True)
class Letter:
    kind: str
    language: str
    subject: str
    body: str


def check_placeholders(text: str) -> None:
    """Refuse a ``$name`` that is not a placeholder, or a lone ``$`` (write ``$$`` for a dollar sign)."""
    template = string.Template(text)
    if not template.is_valid():
        raise ValidationError("A $ must start a placeholder from the list; write $$ for a dollar sign.")
    unknown = sorted(set(template.get_identifiers()) - set(PLACEHOLDERS))
    if unknown:
        raise ValidationError(
            "Not a placeholder: %(names)s. Use one from the list.",
            params={"names": ", ".join(f"${name}" for name in unknown)},
        )


def _template(kind: str, language: str) -> LetterTemplate:
    found = LetterTemplate.objects.filter(kind=kind, language__in=(language, "en"))
    by_language = {template.language: template for template in found}
    if "en" not in by_language:
        letter_templates()
        return _template(kind, language)
    return by_language.get(language) or by_language["en"]


def letter_render(*, complaint: Complaint, kind: str) -> Letter:
    """The letter in the patient's language (English when the practice has no words in theirs)."""
    if kind == Kind.FINAL_RESPONSE and complaint.responded_at is None:
        raise ValidationError("Record the final response and its outcome first.")
    template = _template(kind, complaint.language)
    incident = complaint.incident
    with translation.override(template.language):
        values = {
            "patient_name": incident.patient_name or "",
            "reference": incident.reference,
            "practice": settings.PRACTICE_NAME,
            "received_on": date_format(complaint.received_on, "j F Y"),
            "response_due_on": date_format(complaint.response_due_on, "j F Y")
            if complaint.response_due_on
            else "",
            "outcome": complaint.get_outcome_display().lower() if complaint.outcome else "",
            "summary": complaint.response_summary,
        }
    return Letter(
        kind=kind,
        language=template.language,
        subject=string.Template(template.subject).safe_substitute(values),
        body=string.Template(template.body).safe_substitute(values),
    )


def can_email(complaint: Complaint) -> bool:
    return bool(complaint.incident.patient_consented and complaint.incident.patient_email)


@transaction.atomic
def letter_email(*, complaint: Complaint, kind: str, by: User, now: datetime) -> bool:
    """Email the letter to the patient. False when it was emailed before (nothing sent again)."""
    if not can_email(complaint):
        raise ValidationError("There is no email address the patient agreed to be written to at.")
    letter = letter_render(complaint=complaint, kind=kind)
    incident = lock_incident(complaint.incident)
    queued = outbox_email(
        key=message_key(OUTBOX_KIND, complaint.pk, kind),
        to=incident.patient_email,
        subject=letter.subject,
        text=letter.body,
        kind=OUTBOX_KIND,
        now=now,
    )
    if queued:
        _record(complaint, kind, how="emailed to the patient", by=by, now=now)
    return queued


@transaction.atomic
def letter_posted(*, complaint: Complaint, kind: str, by: User, now: datetime) -> None:
    """Staff printed the letter and posted it (or handed it over)."""
    letter_render(complaint=complaint, kind=kind)  # refuses a final response not yet recorded
    lock_incident(complaint.incident)
    _record(complaint, kind, how="printed and posted", by=by, now=now)


def _record(complaint: Complaint, kind: str, *, how: str, by: User, now: datetime) -> None:
    complaint_step(
        complaint, by=by, now=now, body=f"{Kind(kind).label} letter {how}.", audit={"letter": [kind, how]}
    )
