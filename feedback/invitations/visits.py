"""Visits as the practice sends them, checked row by row: a CSV visit list's rows and the visits
API's JSON items are read, parsed and resolved here, then decided (invite, skip, or error) with
the same rules, so an upload and the API treat a visit alike."""

from __future__ import annotations

import csv
import io
import logging
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db.models import Q
from django.utils import timezone

from design.models import PatientNeedProfile
from feedback.invitations.sending import (
    Contact,
    Outcome,
    Visit,
    invitation_prepare,
    practice_zone,
)
from feedback.models import (
    Invitation,
    InvitationRules,
    Suppression,
    Survey,
)
from feedback.sites import overrides
from servicedesk.models import Location, Touchpoint

logger = logging.getLogger(__name__)

BATCH = 1000
MAX_ISSUES_KEPT = 1000

# Column → the header spellings accepted for it (compared lower-case, with _ and - as spaces).
COLUMNS: dict[str, tuple[str, ...]] = {
    "first_name": ("first name", "firstname", "forename", "given name", "name"),
    "email": ("email", "email address", "e mail"),
    "phone": ("mobile", "mobile phone", "mobile number", "phone", "phone number", "cell"),
    "visit_at": ("visit", "visit date and time", "visit at", "visit date", "appointment", "date"),
    "visit_time": ("visit time", "time", "appointment time"),
    "location": ("location", "site"),
    "touchpoint": ("touchpoint",),
    "clinician": ("clinician", "doctor", "seen by"),
    "language": ("language", "lang"),
    "need_profile": ("need profile", "patient need profile"),
    "external_id": ("visit id", "external id", "appointment id"),
}
REQUIRED = ("first_name", "visit_at", "location")
LANGUAGE_NAMES = {"en": "en", "english": "en", "es": "es", "spanish": "es", "español": "es", "espanol": "es"}
DATE_FORMATS = (
    "%Y-%m-%d %H:%M",
    "%Y-%m-%d %H:%M:%S",
    "%d/%m/%Y %H:%M",
    "%d/%m/%Y %H:%M:%S",
    "%d/%m/%y %H:%M",
)
TIME_FORMATS = ("%H:%M", "%H:%M:%S")


class FileRejected(Exception):
    """The whole file cannot be read: wrong encoding, no header, missing columns, too big."""


@dataclass(frozen=True)
class VisitList:
    columns: dict[str, int]  # column → index in each row
    rows: list[list[str]]  # data rows, header excluded

    @property
    def total(self) -> int:
        return len(self.rows)


def _header_key(value: str) -> str:
    return re.sub(r"\s+", " ", value.strip().lower().replace("_", " ").replace("-", " "))


def read_visit_list(content: bytes) -> VisitList:
    """Decode and split the file. Raises FileRejected with a message a manager can act on."""
    if len(content) > settings.INVITATION_IMPORT_MAX_BYTES:
        limit = settings.INVITATION_IMPORT_MAX_BYTES // (1024 * 1024)
        raise FileRejected(f"The file is larger than {limit} MB. Split it into smaller files.")
    if content.startswith(b"PK\x03\x04") or content.startswith(b"\xd0\xcf\x11\xe0"):
        raise FileRejected(
            "This is a spreadsheet workbook, not a CSV file. In Excel use Save As → CSV UTF-8."
        )
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise FileRejected(
            "The file is not in UTF-8 encoding, so names with accents would be garbled. "
            "In Excel use Save As → 'CSV UTF-8 (Comma delimited)'; in other programs choose UTF-8."
        ) from None
    if "\x00" in text:
        raise FileRejected("The file contains binary data; upload the visit list as a CSV text file.")
    try:
        dialect = csv.Sniffer().sniff(text[:4096], delimiters=",;\t")
    except csv.Error:
        dialect = csv.excel
    try:
        rows = [row for row in csv.reader(io.StringIO(text), dialect) if any(cell.strip() for cell in row)]
    except csv.Error as exc:
        raise FileRejected(f"The file is not valid CSV ({exc}).") from None
    if not rows:
        raise FileRejected("The file is empty.")
    header = [_header_key(cell) for cell in rows[0]]
    columns: dict[str, int] = {}
    for column, spellings in COLUMNS.items():
        for index, name in enumerate(header):
            if name in spellings and index not in columns.values():
                columns[column] = index
                break
    missing = [c.replace("_", " ") for c in REQUIRED if c not in columns]
    if "email" not in columns and "phone" not in columns:
        missing.append("email or mobile")
    if missing:
        raise FileRejected(
            f"Missing column{'s' if len(missing) > 1 else ''}: {', '.join(missing)}. The first row must name "
            "the columns: first name, email and/or mobile, visit (date and time), location; optionally "
            "touchpoint, clinician, language, need profile and visit id."
        )
    data = rows[1:]
    if not data:
        raise FileRejected("The file has column names but no visits.")
    if len(data) > settings.INVITATION_IMPORT_MAX_ROWS:
        raise FileRejected(
            f"The file has {len(data):,} visits; at most {settings.INVITATION_IMPORT_MAX_ROWS:,} per file. "
            "Split it into smaller files."
        )
    return VisitList(columns=columns, rows=data)


# --- Checking rows -------------------------------------------------------------------------------


class Vocabulary:
    """Locations, touchpoints and need profiles by lower-case name: three queries per file."""

    def __init__(self) -> None:
        self.locations = {loc.name.lower(): loc for loc in Location.objects.active()}
        self.touchpoints = {tp.name.lower(): tp for tp in Touchpoint.objects.active()}
        self.need_profiles = {
            name.lower(): pk for pk, name in PatientNeedProfile.objects.active().values_list("pk", "name")
        }
        self._overrides: dict[int, dict[int, Survey]] = {}

    def survey_in_force(self, survey: Survey, location: Location | None) -> Survey:
        """The survey a visit at ``location`` is invited to: the site's own for the same purpose
        when it has one, else ``survey`` (``feedback.sites``; one query per survey and file)."""
        if location is None:
            return survey
        if survey.pk not in self._overrides:
            self._overrides[survey.pk] = overrides(survey)
        return self._overrides[survey.pk].get(location.pk, survey)


def _parse_visit_at(date_text: str, time_text: str) -> datetime:
    text = f"{date_text.strip()} {time_text.strip()}".strip()
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        value = None
        for fmt in DATE_FORMATS:
            try:
                value = datetime.strptime(text, fmt)  # noqa: DTZ007 — made aware below, in practice time
                break
            except ValueError:
                continue
        if value is None:
            raise ValidationError(
                "not a date and time we can read (use 2026-11-27 14:30 or 27/11/2026 14:30)"
            ) from None
    if timezone.is_naive(value):
        value = value.replace(tzinfo=practice_zone())
    return value


@dataclass
class RowResult:
    row: int  # the spreadsheet row number (header is row 1)
    visit: Visit | None = None
    errors: list[tuple[str, str]] = field(default_factory=list)  # (column, message)


def _cell(row: list[str], columns: dict[str, int], column: str) -> str:
    index = columns.get(column)
    if index is None or index >= len(row):
        return ""
    return row[index].strip()


def _too_long(value: str, limit: int) -> str:
    """Why a cell is refused for its length ("" if it fits): both lengths said, nothing cut."""
    if len(value) <= limit:
        return ""
    return f"keep it to {limit} characters (it has {len(value)})"


def check_row(
    row: list[str],
    *,
    number: int,
    columns: dict[str, int],
    survey: Survey,
    vocabulary: Vocabulary,
    now: datetime,
) -> RowResult:
    """Parse one row into a Visit, or into its errors (column, message) — never the cell's value."""
    result = RowResult(row=number)
    errors = result.errors

    def cell(column: str) -> str:
        return _cell(row, columns, column)

    first_name = cell("first_name")
    if not first_name:
        errors.append(("first name", "missing"))
    elif too_long := _too_long(first_name, 80):
        errors.append(("first name", too_long))
    contact = None
    if not cell("email") and not cell("phone"):
        errors.append(("email / mobile", "neither an email address nor a mobile number"))
    else:
        try:
            contact = Contact.parse(email=cell("email"), phone=cell("phone"))
        except ValidationError as exc:
            errors.extend(
                ("mobile" if column == "phone" else column, messages[0])
                for column, messages in exc.message_dict.items()
            )
    visit_at = None
    if not cell("visit_at"):
        errors.append(("visit", "missing"))
    else:
        try:
            visit_at = _parse_visit_at(cell("visit_at"), cell("visit_time"))
        except ValidationError as exc:
            errors.append(("visit", exc.messages[0]))
        else:
            if visit_at > now + timedelta(days=1):
                errors.append(("visit", "is in the future; check the date (day/month order?)"))
    location = vocabulary.locations.get(cell("location").lower())
    if location is None:
        errors.append(
            ("location", "missing" if not cell("location") else "not one of the practice's locations")
        )
    touchpoint = None
    if cell("touchpoint"):
        touchpoint = vocabulary.touchpoints.get(cell("touchpoint").lower())
        if touchpoint is None:
            errors.append(("touchpoint", "not one of the practice's touchpoints"))
    if location is not None:
        survey = vocabulary.survey_in_force(survey, location)
    language = LANGUAGE_NAMES.get(cell("language").lower() or "en")
    if language is None or language not in survey.languages:
        errors.append(("language", f"use one of: {', '.join(survey.languages)}"))
    need_profile_id = None
    if cell("need_profile"):
        need_profile_id = vocabulary.need_profiles.get(cell("need_profile").lower())
        if need_profile_id is None:
            errors.append(("need profile", "not one of the practice's patient need profiles"))
    for column, name, limit in (("clinician", "clinician", 120), ("external_id", "visit id", 100)):
        if too_long := _too_long(cell(column), limit):
            errors.append((name, too_long))
    if not errors:
        result.visit = Visit(
            survey=survey,
            visit_at=visit_at,
            contact=contact,
            first_name=first_name,
            location=location,
            touchpoint=touchpoint,
            clinician=cell("clinician"),
            language=language,
            need_profile_id=need_profile_id,
            external_id=cell("external_id"),
        )
    return result


@dataclass
class Decision:
    """What the import will do with each row."""

    counts: dict[str, int] = field(default_factory=dict)
    issues: list[dict] = field(default_factory=list)
    ready: list = field(default_factory=list)  # Prepared objects, in file order

    def note(self, kind: str, row: int, column: str, message: str, *, count: bool = True) -> None:
        """One issue with a row; ``counts`` counts rows, so a row's second problem passes count=False."""
        if count:
            self.counts[kind] = self.counts.get(kind, 0) + 1
        if len(self.issues) < MAX_ISSUES_KEPT:
            self.issues.append({"kind": kind, "row": row, "column": column, "message": message})

    @property
    def errors(self) -> int:
        return self.counts.get("error", 0)


def decide(
    visit_list: VisitList,
    *,
    survey: Survey,
    now: datetime,
    keep_prepared: bool,
    progress: Callable[[int], None] | None = None,
) -> Decision:
    """Check every row and decide its fate, with a handful of queries per thousand rows."""
    rules = InvitationRules.current()
    vocabulary = Vocabulary()
    decision = Decision()
    seen_ids: set[str] = set()
    seen_visits: set[tuple[str, datetime]] = set()
    seen_contacts: set[str] = set()
    cap_since = now - timedelta(days=rules.frequency_cap_days)
    for start in range(0, visit_list.total, BATCH):
        chunk = [
            check_row(
                row,
                number=start + offset + 2,
                columns=visit_list.columns,
                survey=survey,
                vocabulary=vocabulary,
                now=now,
            )
            for offset, row in enumerate(visit_list.rows[start : start + BATCH])
        ]
        visits = [r.visit for r in chunk if r.visit is not None]
        hashes = {h for v in visits for h in v.contact.hashes}
        suppressed = set(
            Suppression.objects.filter(contact_hash__in=hashes).values_list("contact_hash", flat=True)
        )
        recent: set[str] = set()
        if rules.frequency_cap_days:
            for email_hash, phone_hash in (
                Invitation.objects.filter(
                    Q(email_hash__in=hashes) | Q(phone_hash__in=hashes), created_at__gte=cap_since
                )
                .exclude(status=Invitation.Status.FAILED)
                .values_list("email_hash", "phone_hash")
            ):
                recent.update(h for h in (email_hash, phone_hash) if h)
        ids = {v.external_id for v in visits if v.external_id}
        known_ids = set(Invitation.objects.filter(external_id__in=ids).values_list("external_id", flat=True))
        for result in chunk:
            _decide_row(
                result,
                decision=decision,
                rules=rules,
                now=now,
                suppressed=suppressed,
                recent=recent,
                known_ids=known_ids,
                seen=(seen_ids, seen_visits, seen_contacts),
                keep_prepared=keep_prepared,
            )
        if progress is not None:
            progress(min(start + BATCH, visit_list.total))
    return decision


def _decide_row(result, *, decision, rules, now, suppressed, recent, known_ids, seen, keep_prepared) -> None:
    seen_ids, seen_visits, seen_contacts = seen
    if result.errors:
        for index, (column, message) in enumerate(result.errors):
            decision.note("error", result.row, column, message, count=index == 0)  # a row counts once
        return
    visit = result.visit
    hashes = visit.contact.hashes
    if visit.external_id and visit.external_id in seen_ids:
        decision.note(Outcome.DUPLICATE, result.row, "visit id", "same visit id as an earlier row")
        return
    if any((h, visit.visit_at) in seen_visits for h in hashes):
        decision.note(Outcome.DUPLICATE, result.row, "", "same patient and visit time as an earlier row")
        return
    if visit.external_id and visit.external_id in known_ids:
        decision.note(Outcome.ALREADY_IMPORTED, result.row, "visit id", "this visit was received before")
        return
    in_file_repeat = rules.frequency_cap_days > 0 and any(h in seen_contacts for h in hashes)
    prepared = invitation_prepare(
        visit=visit,
        rules=rules,
        now=now,
        source=Invitation.Source.CSV,
        suppressed=any(h in suppressed for h in hashes),
        recently_invited=in_file_repeat or any(h in recent for h in hashes),
        build=keep_prepared,
    )
    if prepared.outcome != Outcome.CREATED:
        decision.note(prepared.outcome, result.row, "", Outcome.LABELS[prepared.outcome])
        return
    if visit.external_id:
        seen_ids.add(visit.external_id)
    seen_visits.update((h, visit.visit_at) for h in hashes)
    seen_contacts.update(hashes)
    decision.counts["ready"] = decision.counts.get("ready", 0) + 1
    if keep_prepared:
        decision.ready.append(prepared)


# --- Visits posted as JSON (the practice-management system's API) ---------------------------------

JSON_FIELDS = {
    "external_id": "external_id",
    "first_name": "first_name",
    "email": "email",
    "mobile": "phone",
    "visit_at": "visit_at",
    "location": "location",
    "touchpoint": "touchpoint",
    "clinician": "clinician",
    "language": "language",
    "need_profile": "need_profile",
}
JSON_COLUMNS = {column: index for index, column in enumerate(JSON_FIELDS.values())}


def check_posted_visit(item: object, *, survey: Survey, vocabulary: Vocabulary, now: datetime) -> RowResult:
    """One posted visit, checked by the same rules as a CSV row. ``external_id`` is required."""
    if not isinstance(item, dict):
        return RowResult(row=0, errors=[("", "each visit must be a JSON object")])
    unknown = sorted(set(item) - set(JSON_FIELDS) - {"survey"})
    not_text = sorted(
        k for k, v in item.items() if k in JSON_FIELDS and v is not None and not isinstance(v, str)
    )
    row = ["" if item.get(key) is None else str(item.get(key)) for key in JSON_FIELDS]
    result = check_row(row, number=0, columns=JSON_COLUMNS, survey=survey, vocabulary=vocabulary, now=now)
    extra = [(key, "unknown field") for key in unknown] + [(key, "must be a string") for key in not_text]
    if not str(item.get("external_id") or "").strip():
        extra.append(("external_id", "missing: the visit's id in your system makes posting twice safe"))
    if extra:
        result.errors.extend(extra)
        result.visit = None
    return result
