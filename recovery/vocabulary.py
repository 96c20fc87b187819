"""Recovery's words: how bad an incident is and what it is about, as staff are trained to say them."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class Severity(models.TextChoices):
    """How bad it is for the patient, in the words staff are trained in."""

    LOW = "low", _("Low")
    MEDIUM = "medium", _("Medium")
    HIGH = "high", _("High")
    CRITICAL = "critical", _("Critical")


SEVERITY_HELP = {
    Severity.LOW: _("An inconvenience; no repeat expected."),
    Severity.MEDIUM: _("The patient is upset and needs a call back."),
    Severity.HIGH: _("A complaint is likely; the patient's trust is at risk."),
    Severity.CRITICAL: _("Safety, privacy or legal exposure. Tell a manager at once."),
}

# The same severities for an incident a failed check opened: a risk found before a patient met it.
CHECK_SEVERITY_HELP = {
    Severity.LOW: _("A small lapse; put it right at the next check."),
    Severity.MEDIUM: _("A check failed: put it right before it affects patients."),
    Severity.HIGH: _("A critical check failed: a safety risk to patients and staff until it is put right."),
    Severity.CRITICAL: _("Safety, privacy or legal exposure. Tell a manager at once."),
}

# Most severe first: lists sort on this, the sweep does not care.
SEVERITY_RANK = {Severity.CRITICAL: 4, Severity.HIGH: 3, Severity.MEDIUM: 2, Severity.LOW: 1}


class Category(models.TextChoices):
    ACCESS = "access", _("Access and appointments")
    WAITING = "waiting", _("Waiting time")
    COMMUNICATION = "communication", _("Communication")
    ATTITUDE = "attitude", _("Staff attitude")
    CARE = "care", _("Care and treatment")
    PRESCRIPTIONS = "prescriptions", _("Prescriptions")
    ADMIN = "admin", _("Billing and paperwork")
    PRIVACY = "privacy", _("Privacy and records")
    PREMISES = "premises", _("Premises and cleanliness")
    SAFETY = "safety", _("Safety")
    SYSTEMS = "systems", _("Phones and IT systems")
    OTHER = "other", _("Something else")
