"""Complaints' words, in one place: how a complaint arrived, what it is about (the KO41b subject
areas NHS England counts complaints by), how it ended, and how the patient wants to hear back.

A later KO41b return counts ``Complaint`` rows by ``SubjectArea`` and ``Outcome``; the incident a
complaint rides on takes the recovery category nearest its subject (``CATEGORY_FOR_SUBJECT``), so
recurrence and the incident figures see complaints too.
"""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from recovery.vocabulary import Category


class ReceivedBy(models.TextChoices):
    LETTER = "letter", _("Letter")
    EMAIL = "email", _("Email")
    PHONE = "phone", _("Phone call")
    IN_PERSON = "in_person", _("In person")
    ONLINE = "online", _("Online form")


# What staff record by hand; "online" is only ever the public form's.
STAFF_RECEIVED_BY = [choice for choice in ReceivedBy.choices if choice[0] != ReceivedBy.ONLINE]


class SubjectArea(models.TextChoices):
    """The KO41b subject areas (NHS England's written complaints return), simplified to the ones a
    practice uses."""

    CLINICAL = "clinical", _("Clinical treatment")
    ATTITUDE = "attitude", _("Staff attitude, behaviour or values")
    COMMUNICATIONS = "communications", _("Communications")
    APPOINTMENTS = "appointments", _("Appointments")
    PRESCRIBING = "prescribing", _("Prescribing")
    FACILITIES = "facilities", _("Facilities")
    OTHER = "other", _("Other")


CATEGORY_FOR_SUBJECT: dict[str, str] = {
    SubjectArea.CLINICAL: Category.CARE,
    SubjectArea.ATTITUDE: Category.ATTITUDE,
    SubjectArea.COMMUNICATIONS: Category.COMMUNICATION,
    SubjectArea.APPOINTMENTS: Category.ACCESS,
    SubjectArea.PRESCRIBING: Category.PRESCRIPTIONS,
    SubjectArea.FACILITIES: Category.PREMISES,
    SubjectArea.OTHER: Category.OTHER,
}


class ContactPreference(models.TextChoices):
    EMAIL = "email", _("Email")
    PHONE = "phone", _("Phone")
    LETTER = "letter", _("Letter")


class Outcome(models.TextChoices):
    UPHELD = "upheld", _("Upheld")
    PARTLY_UPHELD = "partly_upheld", _("Partly upheld")
    NOT_UPHELD = "not_upheld", _("Not upheld")
    WITHDRAWN = "withdrawn", _("Withdrawn")


# The statutory acknowledgement: within 3 working days of the day received.
ACKNOWLEDGE_WITHIN_WORKING_DAYS = 3
