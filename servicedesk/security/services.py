"""Writes for the security app: the audit log, and the second factor of a manager's login."""

from __future__ import annotations

from collections.abc import Iterable

from django.db import models

from servicedesk.models import User
from servicedesk.security.models import AuditEvent


def audit_record(
    *,
    actor: User | None,
    action: AuditEvent.Action,
    target: models.Model | None = None,
    target_type: str = "",
    target_id: str | int = "",
    outcome: AuditEvent.Outcome = AuditEvent.Outcome.SUCCESS,
    count: int | None = None,
) -> AuditEvent:
    """Record that ``actor`` did ``action`` to patient-identifying data.

    Pass the object (``target=invitation``), or its type and id when there is no instance
    (an export of many rows: ``target_type="feedback.invitation", count=120``). Only the
    type and primary key are stored: never a name, an address, a token or any answer.

    Call it in the same transaction as the change it describes when the change can fail,
    so that an erasure that rolled back is not recorded as done; record a refusal or a
    failure after the transaction with ``outcome=DENIED`` / ``FAILED``.
    """
    if target is not None:
        target_type, target_id = target._meta.label_lower, target.pk
    if not target_type:
        raise ValueError("audit_record needs a target or a target_type")
    authenticated = actor is not None and actor.is_authenticated
    return AuditEvent.objects.create(
        actor=actor if authenticated else None,
        actor_label=actor.get_username() if authenticated else "",
        action=action,
        outcome=outcome,
        target_type=target_type,
        target_id="" if target_id in ("", None) else str(target_id),
        count=count,
    )


def audit_record_many(
    *,
    actor: User | None,
    action: AuditEvent.Action,
    target_type: str,
    target_ids: Iterable[int | str],
    outcome: AuditEvent.Outcome = AuditEvent.Outcome.SUCCESS,
) -> int:
    """One event per object, in one insert: an access request that read, exported or erased
    several records names each of them (by id only). Returns how many were recorded."""
    authenticated = actor is not None and actor.is_authenticated
    events = [
        AuditEvent(
            actor=actor if authenticated else None,
            actor_label=actor.get_username() if authenticated else "",
            action=action,
            outcome=outcome,
            target_type=target_type,
            target_id=str(target_id),
        )
        for target_id in target_ids
    ]
    AuditEvent.objects.bulk_create(events)
    return len(events)
