"""Patients' contacts: normalising and hashing an email or phone, suppression and frequency checks."""

from __future__ import annotations

import hashlib
import hmac
import logging
import re
from dataclasses import dataclass
from datetime import datetime
from functools import cached_property

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db.models import Q, QuerySet

from feedback.models import (
    Invitation,
    InvitationMessage,
    Suppression,
)

logger = logging.getLogger(__name__)


Status = Invitation.Status
MessageStatus = InvitationMessage.Status


# --- Contacts: normalising and hashing ---------------------------------------------------------

_PHONE_PUNCTUATION = re.compile(r"[\s\-().\u00a0/]")
_E164 = re.compile(r"^\+[1-9]\d{7,14}$")


def normalise_email(value: str) -> str:
    """The comparable form of an address: trimmed and lower-cased. Raises ValidationError if invalid."""
    email = value.strip().lower()
    validate_email(email)
    return email


def normalise_phone(value: str) -> str:
    """A mobile number in international form (+447700900123). Raises ValidationError if invalid.

    National numbers (leading 0) get the practice's country code; 00 becomes +.
    """
    number = _PHONE_PUNCTUATION.sub("", value.strip())
    if number.startswith("00"):
        number = "+" + number[2:]
    elif number.startswith("0"):
        number = f"+{settings.INVITATION_PHONE_COUNTRY_CODE}{number[1:]}"
    elif not number.startswith("+"):
        number = "+" + number
    if not _E164.match(number):
        raise ValidationError("not a mobile number we can text (use e.g. 07700 900123 or +44 7700 900123)")
    return number


def contact_hash(kind: str, normalised: str) -> str:
    """A keyed hash of a normalised email or phone (HMAC-SHA256 under CONTACT_HASH_KEY).

    Keyed, because phone numbers are few enough to hash them all: a plain hash would be no secret.
    """
    message = f"{kind}:{normalised}".encode()
    return hmac.new(settings.CONTACT_HASH_KEY.encode(), message, hashlib.sha256).hexdigest()


@dataclass(frozen=True)
class Contact:
    """A patient's normalised email and/or phone, with their hashes ('' when absent)."""

    email: str = ""
    phone: str = ""

    @classmethod
    def parse(cls, *, email: str = "", phone: str = "") -> Contact:
        """Raises ValidationError({"email"/"phone": ...}) for a value that cannot be used."""
        errors = {}
        normalised_email = normalised_phone = ""
        if email.strip():
            try:
                normalised_email = normalise_email(email)
            except ValidationError:
                errors["email"] = "not a valid email address"
        if phone.strip():
            try:
                normalised_phone = normalise_phone(phone)
            except ValidationError as exc:
                errors["phone"] = exc.messages[0]
        if errors:
            raise ValidationError(errors)
        return cls(email=normalised_email, phone=normalised_phone)

    @classmethod
    def from_search(cls, value: str) -> Contact:
        """What a manager typed to find a patient: an email address or a phone number."""
        return cls.parse(email=value) if "@" in value else cls.parse(phone=value)

    # Cached: a 50,000-row import asks for each several times (cached_property suits a frozen
    # dataclass, it writes to the instance's __dict__ directly).
    @cached_property
    def email_hash(self) -> str:
        return contact_hash("email", self.email) if self.email else ""

    @cached_property
    def phone_hash(self) -> str:
        return contact_hash("phone", self.phone) if self.phone else ""

    @cached_property
    def hashes(self) -> list[str]:
        return [h for h in (self.email_hash, self.phone_hash) if h]

    def __bool__(self) -> bool:
        return bool(self.email or self.phone)


def contact_invitations(contact: Contact) -> QuerySet[Invitation]:
    """Every invitation to this email or phone (none for an empty contact, without a query)."""
    matches = Q(pk__in=[])
    if contact.email_hash:
        matches |= Q(email_hash=contact.email_hash)
    if contact.phone_hash:
        matches |= Q(phone_hash=contact.phone_hash)
    return Invitation.objects.filter(matches)


def contact_is_suppressed(*, contact: Contact) -> bool:
    return Suppression.objects.filter(contact_hash__in=contact.hashes).exists()


def contact_recently_invited(*, contact: Contact, since: datetime) -> bool:
    """The frequency cap: was this contact invited (not failed) since ``since``?"""
    invited = contact_invitations(contact).filter(created_at__gte=since)
    return invited.exclude(status=Status.FAILED).exists()
