"""The one way to record who did what: ``log_action(obj, action, by, data)``.

Every change a manager makes to how the practice is set up (team and roles, opening hours, SLA
policies, checklists, surveys, goals, protocols, sending rules) and every view, export or erasure
of patient-identifying data writes one ``AuditEvent``, in the same transaction as what it
describes, so a change that rolled back is not recorded as done. Services call it (they are the
only writers); ``log_actions`` writes many such events in one query; ``create_logged`` and
``update_logged`` save a configuration record and log the fields that changed, before → after, in
one step.

An incident's timeline stays the patient-facing story of that incident, a goal's ``GoalChange``
rows the versions staff acknowledge, a protocol's versions its text: this log is who changed or
read what, across the practice.

Never pass patient data: a label names the object ("the SLA policy “High”", "the contact details
on response #12"), never a patient's name, address, token or words.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date, datetime, time
from decimal import Decimal
from typing import Any, NamedTuple, TypeVar

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import ngettext

from servicedesk.models import User
from servicedesk.partitions import Month, PartitionsSwept, sweep_months
from servicedesk.security.models import AuditEvent

Action = AuditEvent.Action
Outcome = AuditEvent.Outcome
# Actions on the practice's set-up, whose records may be named by their str; reads, exports and
# erasures are of patient data and are named by kind and number unless the caller says otherwise.
CONFIGURATION = {
    Action.CREATED,
    Action.CHANGED,
    Action.REMOVED,
    Action.ENABLED,
    Action.DISABLED,
    Action.MOVED,
    Action.RESENT,
}

M = TypeVar("M", bound=models.Model)


class Kind(NamedTuple):
    plural: str  # the audit page's "About" filter
    singular: str  # a sentence about an event that has no label of its own (events before labels)


# The kinds of record the log speaks about.
KINDS: dict[str, Kind] = {
    "servicedesk.user": Kind("Team members", "team member"),
    "servicedesk.location": Kind("Locations", "location"),
    "servicedesk.touchpoint": Kind("Touchpoints", "touchpoint"),
    "servicedesk.openinghours": Kind("Opening hours", "opening hours"),
    "servicedesk.closedday": Kind("Closed days", "closed day"),
    "servicedesk.practiceidentity": Kind("Logo and colour", "practice's logo and colour"),
    "servicedesk.practicesettings": Kind("Practice settings", "practice settings"),
    "design.servicegoal": Kind("Service goals", "service goal"),
    "delivery.checklisttemplate": Kind("Checklists", "checklist"),
    "delivery.checklistitem": Kind("Checklist items", "checklist item"),
    "delivery.protocol": Kind("Protocols", "protocol"),
    "feedback.survey": Kind("Surveys and their exports", "survey"),
    "feedback.question": Kind("Survey questions", "survey question"),
    "feedback.invitationrules": Kind("Invitation sending rules", "invitation sending rules"),
    "feedback.integrationtoken": Kind("Visits API tokens", "visits API token"),
    "feedback.contact": Kind("Access and erasure requests", "patient contact"),
    "feedback.invitation": Kind("Invitations (patients' contact details)", "invitation"),
    "feedback.response": Kind("Patient responses", "patient response"),
    "recovery.slapolicy": Kind("SLA policies", "SLA policy"),
    "recovery.incident": Kind("Incidents", "incident"),
    "attachments.attachment": Kind("Photos and attachments", "attachment"),
}

EMPTY = "—"
LONG_TEXT = 60  # characters of a long text (a survey's introduction) the log keeps, to say which one


def log_action(
    obj: models.Model | None,
    action: str,
    by: User | None,
    data: Mapping[str, Any] | None = None,
    *,
    label: str = "",
    target_type: str = "",
    outcome: str = Outcome.SUCCESS,
    count: int | None = None,
) -> AuditEvent:
    """Record that ``by`` did ``action`` to ``obj`` (or to ``count`` records of ``target_type``).

    ``label`` names the object as a manager reads it, with its article: "the SLA policy “High”".
    A configuration change defaults it to the object's kind and ``str``; a read, export or erasure
    of patient data must name its object without patient data (an incident's reference, a
    response's number). ``data`` holds what changed, ``{"respond within": ["2 h", "1 h"]}``, or
    small facts (``{"invitations": 2}``); never a patient's details or words. Call it inside the
    caller's transaction; ``by`` is None (or anonymous) for the system.
    """
    event = audit_event(
        obj, action, by, data, label=label, target_type=target_type, outcome=outcome, count=count
    )
    event.save()
    return event


def log_actions(events: Iterable[AuditEvent]) -> list[AuditEvent]:
    """Record many events in one query, each its own row as ``log_action`` would write it: one change
    carried to many records (a group goal's new wording reaching every site's copy). Build each with
    ``audit_event``; call it inside the caller's transaction."""
    return AuditEvent.objects.bulk_create(events)


def audit_event(
    obj: models.Model | None,
    action: str,
    by: User | None,
    data: Mapping[str, Any] | None = None,
    *,
    label: str = "",
    target_type: str = "",
    outcome: str = Outcome.SUCCESS,
    count: int | None = None,
) -> AuditEvent:
    """The event ``log_action`` records (same arguments), not saved yet: for ``log_actions``."""
    target_id = ""
    if obj is not None:
        target_type = target_type or obj._meta.label_lower
        target_id = "" if obj.pk is None else str(obj.pk)
        if not label and action in CONFIGURATION:  # a patient record's str may hold patient data
            label = default_label(obj)
    if not target_type:
        raise ValueError("log_action needs an object or a target_type")
    actor = by if by is not None and by.is_authenticated else None
    return AuditEvent(
        actor=actor,
        actor_label=actor.get_username() if actor else "",
        action=action,
        outcome=outcome,
        target_type=target_type,
        target_id=target_id,
        target_label=label[:200],
        count=count,
        data=_plain(dict(data or {})),
    )


def default_label(obj: models.Model) -> str:
    return f"the {obj._meta.verbose_name} “{obj}”"


def _plain(value: Any) -> Any:
    """JSON the database can store: translated labels and other lazy text become plain strings."""
    if isinstance(value, dict):
        return {str(key): _plain(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(item) for item in value]
    if value is None or isinstance(value, bool | int | float):
        return value
    return str(value)


# --- What changed, in words ------------------------------------------------------------------------


def value_text(value: Any) -> str:
    """A value as a manager reads it: "yes", "09:00", "25 Dec 2026", a record's name, "—" for nothing."""
    if value is None or value == "" or value == [] or value == {}:
        return EMPTY
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, datetime):
        return f"{timezone.localtime(value):%d %b %Y %H:%M}" if timezone.is_aware(value) else f"{value:%H:%M}"
    if isinstance(value, date):
        return f"{value:%d %b %Y}"
    if isinstance(value, time):
        return f"{value:%H:%M}"
    if isinstance(value, Decimal):
        return f"{value.normalize():f}"
    if isinstance(value, dict):
        return ", ".join(f"{key} {value_text(item)}" for key, item in sorted(value.items()))
    if isinstance(value, list | tuple | set | frozenset):
        return ", ".join(value_text(item) for item in value)
    return str(value)


def changes(before: Mapping[str, Any], after: Mapping[str, Any]) -> dict[str, list[str]]:
    """The entries whose value differs, as ``{label: [before, after]}`` in words."""
    return {
        name: [value_text(before.get(name)), value_text(value)]
        for name, value in after.items()
        if value_text(before.get(name)) != value_text(value)
    }


def field_label(obj: models.Model, name: str) -> str:
    """A model field's name as the manager's form calls it: ``respond_within`` → "respond within"."""
    field = obj._meta.get_field(name)
    label = str(field.verbose_name if isinstance(field, models.Field) else name.replace("_", " "))
    return label[3:] if label.startswith("is ") else label


def field_text(obj: models.Model, name: str) -> str:
    """A field's value in words: a choice's label, a related record's name, the start of a long text."""
    field = obj._meta.get_field(name)
    value = getattr(obj, name)
    if isinstance(field, models.Field) and field.choices and not isinstance(value, list):
        value = dict(field.flatchoices).get(value, value)
    text = value_text(value)
    if isinstance(field, models.TextField) and len(text) > LONG_TEXT:
        return text[: LONG_TEXT - 1].rstrip() + "…"
    return text


def _comparable(obj: models.Model, name: str) -> Any:
    field = obj._meta.get_field(name)
    return field.value_from_object(obj) if isinstance(field, models.Field) else getattr(obj, name)


def create_logged(
    model: type[M],
    *,
    fields: Mapping[str, Any],
    by: User | None,
    label: str = "",
    extra: Mapping[str, list[str]] | None = None,
) -> M:
    """Add a configuration record (a location, a checklist) from ``fields`` (a form's cleaned data
    for the model's own fields) and log it with what it was set to, and ``extra`` facts the caller
    set beside them. Call inside the caller's transaction."""
    obj = model(**fields)
    obj.save()
    data = {field_label(obj, name): [EMPTY, field_text(obj, name)] for name in fields}
    data = {name: value for name, value in data.items() if value[1] != EMPTY}
    log_action(obj, Action.CREATED, by, {**data, **(extra or {})}, label=label)
    return obj


def update_logged(
    obj: M,
    *,
    fields: Mapping[str, Any],
    by: User | None,
    label: str = "",
    extra: Mapping[str, list[str]] | None = None,
) -> bool:
    """Change a configuration record and log the fields that changed, before → after, with
    ``extra`` changes the caller made beside them (a protocol's text: version 2 → 3).

    The before values come from the database row, locked for the transaction: a validated form
    has already written its values onto ``obj``. Saves and logs nothing when nothing changed;
    returns whether something did.
    """
    stored = type(obj)._default_manager.select_for_update().get(pk=obj.pk)
    before = {name: (_comparable(stored, name), field_text(stored, name)) for name in fields}
    for name, value in fields.items():
        setattr(stored, name, value)
        setattr(obj, name, value)
    data = {
        field_label(stored, name): [old_text, field_text(stored, name)]
        for name, (old, old_text) in before.items()
        if old != _comparable(stored, name)
    }
    if data:
        stored.save()
    if data or extra:
        log_action(stored, Action.CHANGED, by, {**data, **(extra or {})}, label=label)
    return bool(data or extra)


# --- Reading the log -------------------------------------------------------------------------------


def sentence(event: AuditEvent) -> str:
    """One event as a manager reads it: "Sam Jones changed the SLA policy “High”: respond within
    2 h → 1 h". Reads ``event.actor``: select it with the events."""
    text = f"{_who(event)} {event.get_action_display()} {_about(event)}"
    if event.count is not None:
        text += " " + ngettext("(%(n)s record)", "(%(n)s records)", event.count) % {"n": event.count}
    details = _details(event)
    return f"{text}: {details}" if details else text


def _who(event: AuditEvent) -> str:
    if event.actor is not None:
        return event.actor.get_full_name() or event.actor.get_username()
    return event.actor_label or "The system"


def _about(event: AuditEvent) -> str:
    label = event.target_label
    if label:
        # Labels written before they carried their article start with a capital ("Survey “Kiosk”").
        return label[0].lower() + label[1:] if label[:2].istitle() else label
    kind = KINDS.get(event.target_type)
    noun = kind.singular if kind else event.target_type
    return f"{noun} #{event.target_id}" if event.target_id else (kind.plural.lower() if kind else noun)


def _details(event: AuditEvent) -> str:
    parts = []
    for name, value in event.data.items():
        if not isinstance(value, list) or len(value) != 2:
            parts.append(f"{name} {value_text(value)}")
        elif value[0] == EMPTY:
            parts.append(f"{name} {value[1]}")
        elif value[1] == EMPTY and event.action == Action.REMOVED:
            parts.append(f"{name} {value[0]}")
        else:
            parts.append(f"{name} {value[0]} → {value[1]}")
    return "; ".join(parts)


# --- The log's months (issue 19) ---------------------------------------------------------------------


def audit_partitions_sweep(*, now: datetime, keep_months: int | None = None) -> PartitionsSwept:
    """Hourly, on PostgreSQL, where the log is partitioned by the month of ``at``: the coming months'
    partitions made (and any event that landed in DEFAULT moved into its month); with
    ``AUDIT_RETENTION_MONTHS`` set, each month older than that dropped whole, one statement."""
    keep_months = settings.AUDIT_RETENTION_MONTHS if keep_months is None else keep_months
    keep_from = Month.of(now).plus(-keep_months) if keep_months > 0 else None
    return sweep_months(tables=[AuditEvent._meta.db_table], column="at", now=now, keep_from=keep_from)
