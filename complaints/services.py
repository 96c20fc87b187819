"""Every write to complaints goes through these functions: each is one transaction, leaves one row
on the incident's timeline (the story of the complaint) and one audit event (who did it)."""

from __future__ import annotations

import logging
from datetime import date, datetime
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.formats import date_format

from complaints.models import Complaint, ComplaintExtension
from complaints.vocabulary import (
    ACKNOWLEDGE_WITHIN_WORKING_DAYS,
    CATEGORY_FOR_SUBJECT,
    ContactPreference,
    Outcome,
    ReceivedBy,
    SubjectArea,
)
from recovery.models import FollowUp, Incident
from recovery.services import incident_acknowledge, incident_open
from recovery.services.incidents import lock_incident, log_change
from servicedesk.audit import Action, log_action
from servicedesk.clock import local_today
from servicedesk.models import Location, Touchpoint, User
from servicedesk.working_days import WorkingCalendar

logger = logging.getLogger(__name__)


def _day(value: date) -> str:
    return date_format(value, "D j M Y")


def _label(complaint: Complaint) -> str:
    """How the audit log names a complaint: its reference, never the patient."""
    return f"complaint {complaint.incident.reference}"


def acknowledgement_due(received_on: date, calendar: WorkingCalendar | None = None) -> date:
    """The statutory acknowledgement day: 3 working days after the day received."""
    calendar = calendar or WorkingCalendar.current()
    return calendar.add_working_days(received_on, ACKNOWLEDGE_WITHIN_WORKING_DAYS)


def _check_contact(
    *, consented: bool, preference: str, email: str, phone: str, address: str
) -> dict[str, ValidationError]:
    errors: dict[str, ValidationError] = {}
    if address and not consented:
        errors["patient_address"] = ValidationError(
            "An address can only be kept when the patient has agreed to be contacted.", code="no_consent"
        )
    if consented and preference:
        needed = {
            ContactPreference.EMAIL: ("patient_email", email, "Give an email address to reply by email."),
            ContactPreference.PHONE: ("patient_phone", phone, "Give a phone number to reply by phone."),
            ContactPreference.LETTER: (
                "patient_address",
                address,
                "Give a postal address to reply by letter.",
            ),
        }[ContactPreference(preference)]
        if not needed[1]:
            errors[needed[0]] = ValidationError(needed[2], code="required")
    return errors


@transaction.atomic
def complaint_record(
    *,
    description: str,
    subject_area: str,
    received_by: str,
    received_on: date,
    severity: str,
    now: datetime,
    by: User | None,
    patient_consented: bool = False,
    patient_name: str = "",
    patient_phone: str = "",
    patient_email: str = "",
    patient_address: str = "",
    contact_preference: str = "",
    language: str = "en",
    title: str = "",
    touchpoint: Touchpoint | None = None,
    location: Location | None = None,
) -> Complaint:
    """Record a complaint: open its incident (recovery's clocks and timeline), then start the
    statutory clock — acknowledge within 3 working days of the day it was received."""
    errors = _check_contact(
        consented=patient_consented,
        preference=contact_preference,
        email=patient_email.strip(),
        phone=patient_phone.strip(),
        address=patient_address.strip(),
    )
    if received_on > local_today(now):
        errors["received_on"] = ValidationError("The day received cannot be in the future.", code="future")
    if errors:
        raise ValidationError(errors)
    subject = SubjectArea(subject_area)
    source = Incident.Source.STAFF if by is not None else Incident.Source.FEEDBACK
    incident = incident_open(
        description=description,
        title=title,
        category=CATEGORY_FOR_SUBJECT[subject],
        severity=severity,
        touchpoint=touchpoint,
        location=location,
        now=now,
        reporter=by,
        source=source,
        patient_consented=patient_consented,
        patient_name=patient_name,
        patient_phone=patient_phone,
        patient_email=patient_email,
    )
    complaint = Complaint.objects.create(
        incident=incident,
        received_by=ReceivedBy(received_by),
        received_on=received_on,
        subject_area=subject,
        contact_preference=contact_preference if patient_consented else "",
        patient_address=patient_address.strip(),
        language=language,
        acknowledge_by=acknowledgement_due(received_on),
        recorded_by=by,
    )
    log_change(
        incident,
        at=now,
        kind=FollowUp.Kind.NOTE,
        by=by,
        body=f"Formal complaint ({subject.label.lower()}) received by "
        f"{ReceivedBy(received_by).label.lower()} on {_day(received_on)}: "
        f"acknowledge by {_day(complaint.acknowledge_by)}.",
        changes={"complaint": [None, "received"]},
    )
    log_action(
        complaint,
        Action.CREATED,
        by,
        {"received by": received_by, "subject area": subject.value},
        label=_label(complaint),
    )
    logger.info("complaint %s recorded (%s)", incident.reference, received_by)
    return complaint


def _lock(complaint: Complaint) -> Complaint:
    lock_incident(complaint.incident)  # the incident first, as every recovery service does
    locked: Complaint = (
        Complaint.objects.select_related("incident").select_for_update(of=("self",)).get(pk=complaint.pk)
    )
    return locked


def _refuse_when_answered(complaint: Complaint, doing: str) -> None:
    if complaint.responded_at is not None:
        raise ValidationError(
            f"This complaint has had its final response: it cannot be {doing}.", code="answered"
        )


def complaint_step(
    complaint: Complaint, *, by: User | None, now: datetime, body: str, audit: dict[str, Any], **fields: Any
) -> None:
    """One step of a complaint: a note on its incident's timeline (the story) and an audit event
    (who did it), the complaint named by its reference only. ``fields`` go on the timeline row."""
    log_change(complaint.incident, at=now, kind=FollowUp.Kind.NOTE, by=by, body=body, **fields)
    log_action(complaint, Action.CHANGED, by, audit, label=_label(complaint))


@transaction.atomic
def complaint_acknowledge(*, complaint: Complaint, by: User, now: datetime) -> bool:
    """Record the acknowledgement (once: a colleague may have done it a moment ago). A new incident
    is acknowledged with it, which stops its respond clock."""
    complaint = _lock(complaint)
    if complaint.acknowledged_at is not None:
        return False
    complaint.acknowledged_at = now
    complaint.save(update_fields=["acknowledged_at", "updated_at"])
    late = complaint.acknowledge_by < local_today(now)
    when = " (after the 3 working days)." if late else " within 3 working days."
    complaint_step(
        complaint, by=by, now=now, body=f"Complaint acknowledged{when}",
        changes={"complaint": ["received", "acknowledged"]}, audit={"acknowledged": [None, "yes"]},
    )  # fmt: skip
    if complaint.incident.status == Incident.Status.NEW:
        incident_acknowledge(incident=complaint.incident, by=by, now=now)
    return True


@transaction.atomic
def complaint_set_subject(*, complaint: Complaint, subject_area: str, by: User, now: datetime) -> bool:
    """Put the complaint under another subject area (one that came by email starts as *Other* until
    someone reads it): what the KO41b return counts it under. False when it already was."""
    complaint = _lock(complaint)
    subject = SubjectArea(subject_area)
    if complaint.subject_area == subject:
        return False
    before = SubjectArea(complaint.subject_area)
    complaint.subject_area = subject
    complaint.save(update_fields=["subject_area", "updated_at"])
    changed = {"subject area": [before.value, subject.value]}
    complaint_step(
        complaint, by=by, now=now, body=f"Subject area: {before.label} → {subject.label}.", changes=changed,
        audit=changed,
    )  # fmt: skip
    return True


@transaction.atomic
def complaint_agree_response_date(*, complaint: Complaint, on: date, by: User, now: datetime) -> Complaint:
    """The date the practice and the patient agreed for the final response. Moving it later is an
    extension (``complaint_extend``), which needs a reason."""
    complaint = _lock(complaint)
    _refuse_when_answered(complaint, "given a response date")
    if complaint.response_due_on is not None:
        raise ValidationError(
            "A response date is already agreed: extend it instead, with a reason.", code="agreed"
        )
    if on < local_today(now):
        raise ValidationError({"on": ValidationError("The agreed date cannot be in the past.", code="past")})
    complaint.response_due_on, complaint.response_agreed_at = on, now
    complaint.save(update_fields=["response_due_on", "response_agreed_at", "updated_at"])
    complaint_step(
        complaint, by=by, now=now, body=f"Final response agreed for {_day(on)}.", due_on=on,
        changes={"response due": [None, on.isoformat()]}, audit={"response due": [None, on]},
    )  # fmt: skip
    return complaint


@transaction.atomic
def complaint_extend(
    *, complaint: Complaint, new_date: date, reason: str, by: User, now: datetime
) -> ComplaintExtension:
    """Move the agreed response date later, with a reason (one row per extension)."""
    complaint = _lock(complaint)
    _refuse_when_answered(complaint, "extended")
    previous = complaint.response_due_on
    if previous is None:
        raise ValidationError("Agree a response date first; an extension moves it.", code="not_agreed")
    errors = {}
    if not reason.strip():
        errors["reason"] = ValidationError("Say why the response needs more time.", code="required")
    if new_date <= previous:
        errors["new_date"] = ValidationError(
            "The new date must be after %(day)s.", code="not_later", params={"day": _day(previous)}
        )
    if errors:
        raise ValidationError(errors)
    extension = ComplaintExtension.objects.create(
        complaint=complaint, previous_date=previous, new_date=new_date, reason=reason.strip(), by=by, at=now
    )
    complaint.response_due_on = new_date
    complaint.save(update_fields=["response_due_on", "updated_at"])
    complaint_step(
        complaint, by=by, now=now,
        body=f"Final response moved from {_day(previous)} to {_day(new_date)}: {reason.strip()}",
        due_on=new_date,
        changes={"response due": [previous.isoformat(), new_date.isoformat()]},
        audit={"response due": [previous, new_date]},
    )  # fmt: skip
    return extension


@transaction.atomic
def complaint_respond(
    *, complaint: Complaint, outcome: str, summary: str, by: User, now: datetime
) -> Complaint:
    """The final response was sent (or the patient withdrew): the outcome a KO41b return counts."""
    complaint = _lock(complaint)
    _refuse_when_answered(complaint, "answered twice")
    result = Outcome(outcome)
    if result != Outcome.WITHDRAWN and not summary.strip():
        raise ValidationError(
            {"summary": ValidationError("Say briefly what the response told the patient.", code="required")}
        )
    complaint.responded_at, complaint.outcome = now, result
    complaint.response_summary = summary.strip()
    complaint.save(update_fields=["responded_at", "outcome", "response_summary", "updated_at"])
    verb = "Complaint withdrawn" if result == Outcome.WITHDRAWN else "Final response sent"
    complaint_step(
        complaint, by=by, now=now,
        body=f"{verb}: {result.label.lower()}. {complaint.response_summary}".strip(),
        changes={"complaint outcome": [None, result.value]}, audit={"outcome": [None, result.value]},
    )  # fmt: skip
    return complaint
