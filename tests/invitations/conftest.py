"""Shared set-up for the invitation-sending tests: a practice, its rules, and visits to invite about."""

from __future__ import annotations

from datetime import datetime, time, timedelta

import pytest
from django.utils import timezone

from feedback import invitations
from feedback.invitations import Contact, Visit
from feedback.models import Invitation, InvitationRules
from servicedesk import queue
from servicedesk.celery import app as celery_app
from tests.factories import LocationFactory, SurveyFactory


@pytest.fixture(autouse=True)
def _broker_breaker_reset():
    queue.broker.reset()
    yield
    queue.broker.reset()


@pytest.fixture
def eager_tasks():
    """Run published tasks in-process at once, as a worker would (the outbox's too)."""
    import feedback.tasks  # noqa: F401  (registers them, as a worker's autodiscovery does)
    import servicedesk.tasks  # noqa: F401

    previous = celery_app.conf.task_always_eager
    celery_app.conf.task_always_eager = True
    yield
    celery_app.conf.task_always_eager = previous


@pytest.fixture
def rules(db) -> InvitationRules:
    """Defaults, without quiet hours (tests about them set them)."""
    rules = InvitationRules.current()
    rules.quiet_hours_start = rules.quiet_hours_end = time(0, 0)
    rules.save()
    return rules


@pytest.fixture
def survey(db):
    return SurveyFactory(title="After your visit", languages=["en", "es"])


@pytest.fixture
def site(db):
    return LocationFactory(name="Riverside Surgery")


@pytest.fixture
def invite(rules, survey, site):
    """``invite(email=..., phone=..., visit_at=..., **visit fields)`` → (outcome, invitation)."""
    counter = iter(range(1, 1_000_000))

    def _invite(*, now: datetime | None = None, source: str = "api", **fields):
        now = now or timezone.now()
        n = next(counter)
        email = fields.pop("email", f"patient{n}@example.org")
        contact = Contact.parse(email=email, phone=fields.pop("phone", ""))
        visit = Visit(
            survey=fields.pop("survey", survey),
            visit_at=fields.pop("visit_at", now - timedelta(hours=3)),
            contact=contact,
            first_name=fields.pop("first_name", "Alex"),
            location=fields.pop("location", site),
            **fields,
        )
        return invitations.invitation_create(visit=visit, source=source, now=now)

    return _invite


def refresh(invitation: Invitation) -> Invitation:
    invitation.refresh_from_db()
    return invitation
