"""Complaints' tables that hold a patient's data, on the declared list (``servicedesk.privacy``).

A complaint belongs to the person its incident belongs to (found by recovery's declaration from
their email, phone or feedback): its postal address is emptied on erasure, and staff's summary of
the response and the reasons for extensions have each mention of the person replaced. The rows
stay, so a complaints return still counts them by subject area and outcome.
"""

from __future__ import annotations

from typing import Any

from complaints.models import Complaint, ComplaintExtension
from servicedesk.privacy import Person, PersonalData, Rule, personal_data


def _complaints(person: Person):
    return Complaint.objects.filter(incident__in=person.rows.get("recovery.incident", []))


def _learn(rows, person: Person) -> None:
    for (address,) in rows.values_list("patient_address"):
        person.learn(words=[line for line in address.splitlines() if line.strip()])


def _export(pks: list[int]) -> list[dict[str, Any]]:
    rows = Complaint.objects.filter(pk__in=pks).select_related("incident").prefetch_related("extensions")
    return [
        {
            "incident": complaint.incident.reference,
            "received_by": complaint.received_by,
            "received_on": complaint.received_on.isoformat(),
            "subject_area": complaint.subject_area,
            "contact_preference": complaint.contact_preference,
            "postal_address": complaint.patient_address,
            "language": complaint.language,
            "acknowledged_at": complaint.acknowledged_at.isoformat() if complaint.acknowledged_at else None,
            "response_due_on": complaint.response_due_on.isoformat() if complaint.response_due_on else None,
            "final_response_sent_at": complaint.responded_at.isoformat() if complaint.responded_at else None,
            "outcome": complaint.outcome,
            "what_we_told_you": complaint.response_summary,
            "extensions": [
                {"from": e.previous_date.isoformat(), "to": e.new_date.isoformat(), "reason": e.reason}
                for e in complaint.extensions.all()
            ],
        }
        for complaint in rows.order_by("pk")
    ]


def register_all() -> None:
    personal_data.register(
        "complaints.complaint",
        PersonalData(
            model=Complaint,
            name="complaints",
            fields={"patient_address": Rule.BLANK, "response_summary": Rule.SCRUB},
            find=_complaints,
            learn=_learn,
            export=_export,
            # Nobody left to write to.
            erased=lambda now: {"contact_preference": "", "updated_at": now},
        ),
        order=35,
    )
    personal_data.register(
        "complaints.complaintextension",
        PersonalData(
            model=ComplaintExtension,
            name="complaint extensions",
            fields={"reason": Rule.SCRUB},
            find=lambda person: ComplaintExtension.objects.filter(
                complaint__in=person.rows.get("complaints.complaint", [])
            ),
            within="complaints",
        ),
        order=36,
    )
