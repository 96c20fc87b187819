"""Incidents other apps report through signals: a negative response, a failed critical check. Once each."""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from django.db import IntegrityError, transaction

from delivery.models import ChecklistResult, Dimension
from feedback.models import Question, Response, Survey
from recovery.models import (
    Incident,
)
from recovery.services.incidents import incident_open
from recovery.vocabulary import Category, Severity

logger = logging.getLogger(__name__)


# Words in a feedback theme's name or a check's text, and the incident category they suggest.
SAFETY_WORDS = (
    "fire",
    "safety",
    "alarm",
    "hazard",
    "defibrillator",
    "first aid",
    "sharps",
    "oxygen",
    "evacuat",
)
CATEGORY_WORDS: list[tuple[tuple[str, ...], str]] = [
    (SAFETY_WORDS, Category.SAFETY),
    (("privacy", "confidential", "record", "data"), Category.PRIVACY),
    (("wait", "delay", "late"), Category.WAITING),
    (("attitude", "rude", "staff", "courte"), Category.ATTITUDE),
    (("communicat", "explain", "information", "listen"), Category.COMMUNICATION),
    (("prescri", "medication", "pharmac"), Category.PRESCRIPTIONS),
    (("portal", "phone", "telephone", "system", "it ", "computer", "online"), Category.SYSTEMS),
    (("access", "appointment", "booking"), Category.ACCESS),
    (("billing", "invoice", "payment", "paperwork", "letter"), Category.ADMIN),
    (("clean", "toilet", "premises", "waiting room", "building", "hygiene", "equipment"), Category.PREMISES),
    (("care", "treatment", "clinical", "doctor", "nurse"), Category.CARE),
]

# Answers bad enough that trust is at risk: FFT "very poor", NPS 0-2, a 1-star rating, very negative text.
HIGH_SEVERITY_SENTIMENT = -0.6


def category_for(*texts: str) -> str:
    haystack = " ".join(texts).lower()
    for words, category in CATEGORY_WORDS:
        if any(word in haystack for word in words):
            return category
    return Category.OTHER


def _check_category(*texts: str, dimension: str) -> str:
    """What a failed check is about: its words first, else its dimension (a place check: premises)."""
    category = category_for(*texts)
    if category == Category.OTHER and dimension == Dimension.PLACE:
        return Category.PREMISES
    return category


def severity_for_response(response: Response) -> str:
    """High when the patient was very unhappy (see above), medium otherwise: they need a call back."""
    if response.sentiment is not None and response.sentiment <= HIGH_SEVERITY_SENTIMENT:
        return Severity.HIGH
    for answer in response.answers.all():
        kind = answer.question.kind
        if kind == Question.Kind.FFT and answer.choice == "very_poor":
            return Severity.HIGH
        if kind == Question.Kind.NPS and answer.value is not None and answer.value <= 2:
            return Severity.HIGH
        if kind == Question.Kind.RATING and answer.value == 1:
            return Severity.HIGH
    return Severity.MEDIUM


def _open_once(lookup: dict[str, Any], **kwargs: Any) -> Incident | None:
    """Open an incident for a source at most once. A duplicate delivery, even a concurrent one,
    loses on the unique source link and its reference number rolls back with it."""
    existing = Incident.objects.filter(**lookup).first()
    if existing is not None:
        return None
    try:
        with transaction.atomic():
            return incident_open(source_links=lookup, **kwargs)
    except IntegrityError:
        if Incident.objects.filter(**lookup).exists():
            return None
        raise


def incident_open_from_response(*, response_id: int, now: datetime) -> Incident | None:
    """A negative patient response opens one incident, with contact details only if the patient consented."""
    response = (
        Response.objects.select_related("survey", "touchpoint", "location")
        .prefetch_related("answers__question", "themes")
        .filter(pk=response_id, is_negative=True)
        .exclude(survey__audience=Survey.Audience.STAFF)  # staff pulses are anonymous, not incidents
        .first()
    )
    if response is None:
        return None
    words = [a.text for a in response.answers.all() if a.text]
    themes = [theme.name for theme in response.themes.all()]
    description = "\n\n".join(words) or "The patient gave negative answers and left no comment."
    consent = response.consent_to_contact
    return _open_once(
        {"source_response": response},
        title=f"Negative feedback: {response.survey.title}"[:200],
        description=description,
        category=category_for(*themes, *words),
        severity=severity_for_response(response),
        touchpoint=response.touchpoint,
        location=response.location,
        source=Incident.Source.FEEDBACK,
        now=now,
        patient_consented=consent,
        patient_name=response.contact_name if consent else "",
        patient_phone=response.contact_phone if consent else "",
        patient_email=response.contact_email if consent else "",
    )


def incident_open_from_check(*, result_id: int, now: datetime) -> Incident | None:
    """A failed check opens one incident at the check's touchpoint, reported by whoever recorded it."""
    result = (
        ChecklistResult.objects.select_related(
            "item", "run__template__touchpoint", "run__template__location", "run__location", "recorded_by"
        )
        .filter(pk=result_id, outcome=ChecklistResult.Outcome.FAIL)
        .first()
    )
    if result is None:
        return None
    run, item = result.run, result.item
    template = run.template
    description = f'"{item.text}" failed on the checklist "{template.title}" ({run.period_start:%d %b %Y}).'
    if result.note:
        description += f"\n\nNote: {result.note}"
    return _open_once(
        {"source_check": result},
        title=f"Failed check: {item.text}"[:200],
        description=description,
        category=_check_category(template.title, item.text, dimension=template.dimension),
        severity=Severity.HIGH if item.is_critical else Severity.MEDIUM,
        touchpoint=template.touchpoint,
        location=run.location or template.location,
        source=Incident.Source.CHECKLIST,
        reporter=result.recorded_by,
        now=now,
    )
