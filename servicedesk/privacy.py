"""Personal data: one declared list of where a patient's details and words are held.

Each app declares, in ``AppConfig.ready()``, every model that can hold a patient's data
(``personal_data.register``): its personal fields and what an erasure does to each, how to find
one person's rows, and what an access request shows of them. Access and erasure requests walk
this list and nothing else, so a table that is not on it is a table they would miss: a test
(``tests/security/test_personal_data.py``) fails when a model has a personal-looking field that
is neither declared here nor on its list of reviewed, non-personal fields.

1. **Find** (``person_find``) — the declarations in order, each finding the person's rows from
   their email or phone and from what the earlier ones found (an incident from their response,
   an outbox message from an address an incident held). Each may learn more about the person
   as it goes: the name they gave, the words they wrote. Nothing is written.
2. **Export** (``person_export``) — every declaration's rows, as JSON-ready data, in its own
   section or inside its parent's (answers inside their response, timeline inside its incident).
3. **Erase** (``person_erase``) — every found row, field by field: contact details the practice
   uses to reach someone become empty (there is nothing left to reach), whatever was wholly the
   person's words becomes ``MARKER``, and text written by staff or the system has each mention of
   the person (address, number, name, their words) replaced by ``MARKER``. Rows stay, so counts,
   scores and an incident's history survive without the person; a declaration may delete its
   rows instead (a message not yet sent must not be).
"""

from __future__ import annotations

import enum
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.conf import settings
from django.db import models
from django.db.models.functions import Replace

from servicedesk.registry import Registry

MARKER = "[erased]"

# A word shorter than this is not searched for in other text ("No", "ok" would match everywhere).
SHORTEST_WORDS = 4
SHORTEST_NAME = 2
PHONE_PUNCTUATION = r"[\s\-().\u00a0/]*"


class Rule(enum.Enum):
    BLANK = "emptied"  # a contact field: the practice would use it to reach the person
    MARKER = "replaced by the marker"  # wholly the person's words
    SCRUB = "mentions replaced by the marker"  # others' words that may quote or name the person


@dataclass
class Person:
    """One data subject as a request names them (email and/or phone, normalised), and what finding
    their rows taught: the addresses, numbers and names they gave, the words they wrote."""

    emails: set[str] = field(default_factory=set)
    phones: set[str] = field(default_factory=set)
    names: set[str] = field(default_factory=set)
    words: set[str] = field(default_factory=set)
    rows: dict[str, list[int]] = field(default_factory=dict)

    @classmethod
    def named(cls, *, email: str = "", phone: str = "") -> Person:
        return cls(emails={email.lower()} - {""}, phones=set(phone_forms(phone)))

    def learn(self, *, emails: Iterable[str] = (), phones: Iterable[str] = (), names: Iterable[str] = (),
              words: Iterable[str] = ()) -> None:  # fmt: skip
        self.emails |= {e.strip().lower() for e in emails if e and e.strip() and e != MARKER}
        for phone in phones:
            self.phones |= set(phone_forms(phone))
        self.names |= {n.strip() for n in names if len(n.strip()) >= SHORTEST_NAME and n != MARKER}
        self.words |= {w.strip() for w in words if len(w.strip()) >= SHORTEST_WORDS and w != MARKER}

    @property
    def addresses(self) -> set[str]:
        """Where the practice could reach them: what an outbox row's ``to`` would hold."""
        return self.emails | self.phones

    def pattern(self, *, strict: bool = False) -> re.Pattern[str] | None:
        """Every mention, longest first (a comment that quotes a name is replaced whole).

        ``strict``: only what names this person alone — addresses, numbers, full names — for
        records not otherwise about them (a team member called Alex is not the patient Alex)."""
        names = {n for n in self.names if " " in n} if strict else self.names | self.words
        mentions = sorted(self.emails | names, key=len, reverse=True)
        if not mentions and not self.phones:
            return None
        # A number however it was typed ("07700 900-123"), never the middle of a longer one.
        numbers = sorted(self.phones, key=len, reverse=True)
        parts = [r"(?<!\d)" + PHONE_PUNCTUATION.join(map(re.escape, n)) + r"(?!\d)" for n in numbers]
        # Word boundaries where the mention starts or ends with a word character: "Ana" is not "Analysis".
        parts += [
            (r"\b" if m[0].isalnum() else "") + re.escape(m) + (r"\b" if m[-1].isalnum() else "")
            for m in mentions
        ]
        return re.compile("|".join(parts), re.IGNORECASE)

    def scrub(self, value: Any, pattern: re.Pattern[str] | None = None) -> Any:
        """Text (or JSON) with each mention of the person replaced by the marker."""
        pattern = pattern or self.pattern()
        if pattern is None:
            return value
        if isinstance(value, str):
            return pattern.sub(MARKER, value)
        if isinstance(value, dict):
            return {key: self.scrub(item, pattern) for key, item in value.items()}
        if isinstance(value, list):
            return [self.scrub(item, pattern) for item in value]
        return value

    def mentioned_in(self, value: Any, *, strict: bool = False) -> bool:
        pattern = self.pattern(strict=strict)
        return pattern is not None and self.scrub(value, pattern) != value


def phone_forms(phone: str) -> list[str]:
    """The forms a number is written in, without spaces: +447700900123, 07700900123, 00447700900123.

    Patients and staff type numbers their own way; requests arrive normalised (international)."""
    number = re.sub(PHONE_PUNCTUATION, "", phone or "")
    if not number:
        return []
    forms = {number}
    country = f"+{settings.INVITATION_PHONE_COUNTRY_CODE}"
    if number.startswith("00"):
        number = "+" + number[2:]
    elif number.startswith("0"):
        number = country + number[1:]
    forms |= {number, "00" + number[1:]} if number.startswith("+") else set()
    if number.startswith(country):
        forms.add("0" + number[len(country) :])
    return sorted(forms)


def digits_of(field_name: str) -> Replace:
    """A phone column without the spaces and punctuation people type, to compare with ``phone_forms``."""
    expression = Replace(models.F(field_name), models.Value(" "), models.Value(""))
    for character in ("-", "(", ")", ".", "/"):
        expression = Replace(expression, models.Value(character), models.Value(""))
    return expression


Export = Callable[[list[int]], list[dict[str, Any]]]


@dataclass(frozen=True)
class PersonalData:
    """One model that can hold a patient's data.

    ``name`` names its rows in an export and in the audit event's counts ("incidents").
    ``find`` returns the person's rows (it may read ``person.rows`` found by earlier declarations);
    ``learn`` reads them for more about the person. ``export`` turns rows into data, or ``within``
    names the declaration whose export includes them. ``erased`` gives other columns an erasure
    sets (``{"consent_to_contact": False}``); ``delete`` removes the rows instead of erasing fields.
    ``mentions_only`` keeps only the rows that actually mention the person (a search by text), and
    erases only what names them alone (``Person.pattern(strict=True)``).
    """

    model: type[models.Model]
    name: str
    fields: Mapping[str, Rule]
    find: Callable[[Person], models.QuerySet[Any]]
    export: Export | None = None
    within: str = ""
    learn: Callable[[models.QuerySet[Any], Person], None] | None = None
    erased: Callable[[datetime], dict[str, Any]] | None = None
    delete: bool = False
    mentions_only: bool = False

    @property
    def label(self) -> str:
        return self.model._meta.label_lower


personal_data: Registry[PersonalData] = Registry("models that hold a patient's data")


def person_find(*, email: str = "", phone: str = "") -> Person:
    """Everyone's rows that hold this person, by declaration (nothing written, nothing logged)."""
    person = Person.named(email=email, phone=phone)
    if not person.addresses:
        return person
    for item in personal_data:
        rows = item.find(person)
        if item.mentions_only:  # the pattern compiled once for all the rows, not once a row
            strict = person.pattern(strict=True)
            pks = []
            for row in rows.values("pk", *item.fields) if strict is not None else []:
                text = [row[name] for name in item.fields]
                if person.scrub(text, strict) != text:
                    pks.append(row["pk"])
        else:
            pks = list(rows.values_list("pk", flat=True))
        person.rows[item.label] = pks
        if item.learn is not None and pks:
            item.learn(item.model._default_manager.filter(pk__in=pks), person)
    return person


def person_counts(person: Person) -> dict[str, int]:
    """How many rows of each kind hold the person (the audit event's facts), non-zero ones only."""
    return {item.name: len(person.rows.get(item.label, [])) for item in personal_data
            if person.rows.get(item.label)}  # fmt: skip


def person_export(person: Person) -> dict[str, list[dict[str, Any]]]:
    """Every declared table's rows about the person, as JSON-ready sections (an access request)."""
    return {
        item.name: item.export(person.rows.get(item.label, []))
        for item in personal_data
        if item.export is not None
    }


def person_erase(*, person: Person, now: datetime) -> dict[str, int]:
    """Erase the person from every row ``person_find`` found. Call inside the caller's transaction.

    Returns the rows changed or deleted per declaration's name."""
    patterns = {False: person.pattern(), True: person.pattern(strict=True)}
    done: dict[str, int] = {}
    for item in personal_data:
        pks = person.rows.get(item.label, [])
        if not pks:
            continue
        rows = item.model._default_manager.filter(pk__in=pks)
        if item.delete:
            rows.delete()
            done[item.name] = len(pks)
            continue
        fixed = item.erased(now) if item.erased is not None else {}
        for row in rows.values("pk", *item.fields):
            pattern = patterns[item.mentions_only]
            values = {name: _erase(row[name], rule, person, pattern) for name, rule in item.fields.items()}
            item.model._default_manager.filter(pk=row["pk"]).update(**values, **fixed)
        done[item.name] = len(pks)
    return done


def _erase(value: Any, rule: Rule, person: Person, pattern: re.Pattern[str] | None) -> Any:
    if rule is Rule.BLANK:
        blanks: dict[type, Any] = {str: "", dict: {}, list: [], bytes: b"", memoryview: b""}
        return blanks.get(type(value), value)
    if rule is Rule.MARKER:
        return MARKER if value else value  # nothing written stays nothing
    return person.scrub(value, pattern) if pattern is not None else value
