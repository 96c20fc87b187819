"""Closing the loop with the patient: a one-question "Did we put it right?" link, no login."""

from __future__ import annotations

import hashlib
import logging
import secrets
from datetime import datetime
from typing import Any

from django.conf import settings
from django.db import transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext as _

from recovery.models import (
    FollowUp,
    Incident,
)
from recovery.services.incidents import TransitionRefused, lock_incident, log_change
from servicedesk.models import User
from servicedesk.outbox import message_key, outbox_email, outbox_erase_recipient, outbox_sms

logger = logging.getLogger(__name__)


Status = Incident.Status


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def loop_link_send(*, incident: Incident, by: User, now: datetime) -> str:
    """Send the patient a one-question "Did we put it right?" link, by email or else SMS. Returns the channel.

    Only the token's hash is kept on the incident; the message holding the link is queued in the
    outbox, which drops its body once sent, so the link cannot be rebuilt from the database.
    """
    with transaction.atomic():
        incident = lock_incident(incident)
        if incident.status not in (Status.RESOLVED, Status.CLOSED):
            raise TransitionRefused("Resolve the incident before asking the patient whether it is put right.")
        if not incident.has_patient_contact:
            raise TransitionRefused("The patient did not agree to be contacted, or left no email or phone.")
        if incident.loop_sent_at is not None:
            raise TransitionRefused("The patient has already been sent the question.")
        token = secrets.token_urlsafe(32)
        incident.loop_token_hash = hash_token(token)
        incident.loop_sent_at = now
        incident.save(update_fields=["loop_token_hash", "loop_sent_at", "updated_at"])
        link = settings.SITE_URL + reverse("recovery:put_right", args=[token])
        context = {"incident": incident, "link": link, "practice_name": settings.PRACTICE_NAME}
        key = message_key("recovery_loop", incident.pk)  # the link is sent once per incident
        # Written in the patient's language when queued: the outbox keeps the words it sends.
        with translation.override(incident.patient_language):
            if incident.patient_email:
                channel = "email"
                outbox_email(
                    key=key,
                    to=incident.patient_email,
                    subject=_("%(practice)s: did we put it right?") % {"practice": settings.PRACTICE_NAME},
                    text=render_to_string("recovery/email/loop.txt", context),
                    kind="recovery_loop",
                    now=now,
                )
            else:
                channel = "text message"
                outbox_sms(
                    key=key,
                    to=incident.patient_phone,
                    text=render_to_string("recovery/email/loop_sms.txt", context).strip(),
                    kind="recovery_loop",
                    now=now,
                )
        log_change(
            incident,
            at=now,
            kind=FollowUp.Kind.LOOP,
            by=by,
            body=f'Asked the patient "Did we put it right?" by {channel}.',
        )
    return channel


def loop_incident_for_token(token: str) -> Incident | None:
    """The incident a patient's link belongs to, if the link is still unanswered."""
    if not token or len(token) > 100:
        return None
    return Incident.objects.filter(loop_token_hash=hash_token(token), loop_answered_at__isnull=True).first()


def _use_link(token: str, *, now: datetime, body: str, changes: dict[str, Any], **fields: Any) -> bool:
    """Use up a patient's link, setting ``fields``, and say so on the timeline. Only the first use
    counts: a second one (a double click, a concurrent request) changes nothing and returns False."""
    incident = loop_incident_for_token(token)
    if incident is None:
        return False
    used = Incident.objects.filter(pk=incident.pk, loop_answered_at__isnull=True).update(
        loop_answered_at=now, **fields
    )
    if used:
        log_change(incident, at=now, kind=FollowUp.Kind.LOOP, by=None, body=body, changes=changes)
    return bool(used)


@transaction.atomic
def loop_answer(*, token: str, recovered: bool, now: datetime) -> bool:
    """Record the patient's answer once; a second answer through the same link changes nothing."""
    verdict = "it was put right" if recovered else "it was not put right"
    return _use_link(
        token,
        now=now,
        body=f"The patient answered: {verdict}.",
        changes={"patient_recovered": [None, recovered]},
        patient_recovered=recovered,
    )


@transaction.atomic
def loop_opt_out(*, token: str, now: datetime) -> bool:
    """The patient wants no more contact about this: erase their details, and the messages to them
    the outbox still holds, and use up the link."""
    incident = loop_incident_for_token(token)
    if incident is not None:
        for address in filter(None, (incident.patient_email, incident.patient_phone)):
            outbox_erase_recipient(to=address)
    return _use_link(
        token,
        now=now,
        body="The patient asked not to be contacted again; their contact details were erased.",
        changes={"patient_consented": [True, False]},
        patient_consented=False,
        patient_name="",
        patient_phone="",
        patient_email="",
    )
