from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from django.utils import timezone

from recovery import services
from recovery.models import Incident
from tests.factories import open_incident

Status = Incident.Status


def covering_every_site(user) -> None:
    """``user`` works at every site there is so far: for tests of the incident pages themselves,
    whose incidents happen at a new site each (what staff may see is tested in test_need_to_know)."""
    from servicedesk.models import Location

    user.other_locations.set(Location.objects.all())


def drive_to(status: str, *, by, now: datetime | None = None, **kwargs) -> Incident:
    """An incident brought to ``status`` through the services, as staff would."""
    now = now or timezone.now()
    incident = open_incident(now=now, **kwargs)
    if status == Status.NEW:
        return incident
    incident = services.incident_acknowledge(incident=incident, by=by, now=now + timedelta(minutes=5))
    if status == Status.ACKNOWLEDGED:
        return incident
    if status == Status.IN_PROGRESS:
        return services.incident_start(incident=incident, by=by, now=now + timedelta(minutes=6))
    if status == Status.PAUSED:
        return services.incident_pause(
            incident=incident,
            by=by,
            reason="Waiting for the patient to call back",
            now=now + timedelta(minutes=7),
        )
    incident = services.incident_resolve(
        incident=incident,
        by=by,
        summary="Apologised and rebooked.",
        root_cause="Clinic overran.",
        now=now + timedelta(hours=1),
    )
    if status == Status.RESOLVED:
        return incident
    return services.incident_close(incident=incident, by=by, now=now + timedelta(hours=2))


@pytest.fixture
def sla_defaults(transactional_db) -> None:
    """Transactional tests start from a flushed database: put the migration's policies back."""
    services.sla_policies_ensure_defaults()


@pytest.fixture
def eager_tasks():
    """Run enqueued Celery tasks in-process, as a worker would."""
    from servicedesk.celery import app

    app.conf.task_always_eager = True
    yield
    app.conf.task_always_eager = False


def resolved_for_patient(*, by, language: str, **contact: str) -> Incident:
    """A resolved incident opened from a patient's feedback in ``language``, with their consent to be
    contacted and ``contact`` (patient_email or patient_phone): ready for "Did we put it right?"."""
    from tests.factories import ResponseFactory

    incident = drive_to(Status.RESOLVED, by=by, patient_consented=True, patient_name="Ana", **contact)
    Incident.objects.filter(pk=incident.pk).update(source_response=ResponseFactory(language=language))
    incident.refresh_from_db()
    return incident
