"""Integration tokens for the practice-management system that posts visit lists."""

from __future__ import annotations

import hashlib
import logging
import secrets
from datetime import datetime, timedelta

from django.db import transaction

from feedback.models import (
    IntegrationToken,
    Invitation,
    InvitationMessage,
)
from servicedesk.audit import Action, log_action
from servicedesk.models import User

logger = logging.getLogger(__name__)


INTEGRATION_TOKEN_PREFIX = "sdv_"  # noqa: S105 — a marker, not a secret

Status = Invitation.Status
MessageStatus = InvitationMessage.Status


# --- Integration tokens for the practice-management system -----------------------------------------


def _token_digest(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


@transaction.atomic
def integration_token_create(*, name: str, by: User) -> tuple[IntegrationToken, str]:
    """A new token; the raw secret is returned once, to show the manager, and never stored."""
    raw = INTEGRATION_TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = IntegrationToken.objects.create(
        name=name, token_hash=_token_digest(raw), hint=raw[-4:], created_by=by
    )
    log_action(token, Action.CREATED, by, label=_label(token))  # who let another system in
    return token, raw


@transaction.atomic
def integration_token_revoke(*, token: IntegrationToken, by: User, now: datetime) -> bool:
    revoked = IntegrationToken.objects.filter(pk=token.pk, revoked_at__isnull=True).update(
        revoked_at=now, revoked_by=by, updated_at=now
    )
    if revoked:
        log_action(token, Action.REMOVED, by, label=_label(token))
    return bool(revoked)


def _label(token: IntegrationToken) -> str:
    return f"the visits API token “{token.name}” (ending {token.hint})"


def integration_token_authenticate(*, raw: str, now: datetime) -> IntegrationToken | None:
    """The active token with this secret, or None. Records when it was last used (once a minute)."""
    if not raw.startswith(INTEGRATION_TOKEN_PREFIX) or len(raw) > 100:
        return None
    token = IntegrationToken.objects.active().filter(token_hash=_token_digest(raw)).first()
    if token is not None and (token.last_used_at is None or token.last_used_at < now - timedelta(minutes=1)):
        IntegrationToken.objects.filter(pk=token.pk).update(last_used_at=now)
    return token
