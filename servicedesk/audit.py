"""The one way to record who did what: ``log_action(obj, action, by, data)``.

Every change a manager makes to how the practice is set up (team and roles, opening hours, SLA
policies, checklist templates, surveys, goals, sending rules) and every view, export or erasure
of patient-identifying data writes one ``AuditEvent``, in the same transaction as what it
describes, so a change that rolled back is not recorded as done. An incident's timeline stays
the patient-facing story of that incident; this log is who changed or read what.

Never pass patient data: name the object (its label is the object's ``str`` unless given) and,
for configuration, the fields that changed (``changes(before, after)``).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from django.db import models, transaction
from django.forms import ModelForm

from servicedesk.models import User
from servicedesk.security.models import AuditEvent

Action = AuditEvent.Action
Outcome = AuditEvent.Outcome
CONFIGURATION = {Action.CREATED, Action.CHANGED, Action.REMOVED}

# The kinds of object the log speaks about, as the audit page's filter offers them.
KINDS = {
    "servicedesk.user": "Team members",
    "servicedesk.location": "Locations",
    "servicedesk.touchpoint": "Touchpoints",
    "servicedesk.openinghours": "Opening hours",
    "servicedesk.closedday": "Closed days",
    "design.servicegoal": "Service goals",
    "delivery.checklisttemplate": "Checklist templates",
    "delivery.checklistitem": "Checklist items",
    "feedback.survey": "Surveys",
    "feedback.invitationrules": "Invitation sending rules",
    "feedback.invitation": "Invitations (patients' contact details)",
    "feedback.response": "Patient responses",
    "recovery.slapolicy": "SLA policies",
    "recovery.incident": "Incidents",
}


def _as_text(value: Any) -> str:
    if value is None or value == "":
        return "—"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, models.Model):
        return str(value)
    if isinstance(value, list | tuple | set):
        return ", ".join(_as_text(v) for v in value) or "—"
    return str(value)


def changes(before: Mapping[str, Any], after: Mapping[str, Any]) -> dict[str, list[str]]:
    """The fields whose value differs, as ``{field: [before, after]}`` in words."""
    return {
        name: [_as_text(before.get(name)), _as_text(value)]
        for name, value in after.items()
        if _as_text(before.get(name)) != _as_text(value)
    }


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

    ``label`` names the object for people ("SLA policy “High”"). A configuration change
    (added, changed, removed) defaults it to the object's ``str``; a view, export or erasure of
    patient data names its object by type and id only, unless the caller gives a label it knows
    holds no patient data (an incident's reference). Never a name, address, token or answer.
    """
    target_id = ""
    if obj is not None:
        target_type = target_type or obj._meta.label_lower
        target_id = "" if obj.pk is None else str(obj.pk)
        if not label and action in CONFIGURATION:
            label = str(obj)
    if not target_type:
        raise ValueError("log_action needs an object or a target_type")
    actor = by if by is not None and by.is_authenticated else None
    return AuditEvent.objects.create(
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


def _plain(value: Any) -> Any:
    """JSON the database can store: translated labels and other lazy text become plain strings."""
    if isinstance(value, dict):
        return {str(key): _plain(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(item) for item in value]
    if value is None or isinstance(value, bool | int | float):
        return value
    return str(value)


def log_actions(
    *,
    target_type: str,
    target_ids: Iterable[int | str],
    action: str,
    by: User | None,
    outcome: str = Outcome.SUCCESS,
) -> int:
    """One event per object, in one insert: an access request that read, exported or erased
    several records names each of them (by id only). Returns how many were recorded."""
    actor = by if by is not None and by.is_authenticated else None
    events = [
        AuditEvent(
            actor=actor,
            actor_label=actor.get_username() if actor else "",
            action=action,
            outcome=outcome,
            target_type=target_type,
            target_id=str(target_id),
        )
        for target_id in target_ids
    ]
    AuditEvent.objects.bulk_create(events)
    return len(events)


@transaction.atomic
def form_save_logged(form: ModelForm[Any], *, by: User | None, label: str = "") -> Any:
    """Save a valid ModelForm of configuration (a location, a checklist template, the sending
    rules) and record what it added or changed: the fields the manager changed, before → after."""
    adding = form.instance.pk is None
    fields = list(form.fields) if adding else list(form.changed_data)
    before = {} if adding else {name: _initial(form, name) for name in fields}
    obj = form.save()
    if adding or fields:
        after = {name: form.cleaned_data.get(name) for name in fields}
        action = Action.CREATED if adding else Action.CHANGED
        log_action(obj, action, by, changes(before, after), label=label or _label(obj))
    return obj


def _initial(form: ModelForm[Any], name: str) -> Any:
    value = form.initial.get(name)
    field = form.fields[name]
    if hasattr(field, "queryset") and value is not None and not isinstance(value, models.Model | list):
        return field.queryset.filter(pk=value).first()  # a foreign key's id, as the person saw it
    return value


def _label(obj: models.Model) -> str:
    return f"{str(obj._meta.verbose_name).capitalize()} “{obj}”"
