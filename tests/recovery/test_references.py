"""Reference numbers: INC-YYYY-NNNN, unique and without gaps within a year, even under concurrency."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.utils import timezone

from recovery import services
from recovery.models import Incident, IncidentCounter
from tests.concurrency import at_once
from tests.factories import TouchpointFactory, open_incident

LONDON = ZoneInfo("Europe/London")


@pytest.mark.django_db
def test_references_count_up_within_a_year_and_restart_in_the_next():
    touchpoint = TouchpointFactory()
    refs = [
        open_incident(touchpoint=touchpoint, now=datetime(2026, 12, 31, 23, 0, tzinfo=LONDON)).reference
        for _ in range(3)
    ]
    new_year = open_incident(touchpoint=touchpoint, now=datetime(2027, 1, 1, 0, 5, tzinfo=LONDON))
    assert refs == ["INC-2026-0001", "INC-2026-0002", "INC-2026-0003"]
    assert new_year.reference == "INC-2027-0001"


@pytest.mark.django_db
def test_the_year_is_the_practices_local_year():
    # 23:30 UTC on 31 December is already 1 January in a practice east of Greenwich.
    with timezone.override("Europe/Berlin"):
        incident = open_incident(now=datetime(2026, 12, 31, 23, 30, tzinfo=ZoneInfo("UTC")))
    assert incident.reference == "INC-2027-0001"


@pytest.mark.django_db
def test_a_failed_creation_gives_its_number_back(staff):
    touchpoint = TouchpointFactory()
    open_incident(touchpoint=touchpoint)
    with pytest.raises(ValidationError):
        services.incident_open(
            description="Rude at the desk",
            category="attitude",
            severity="low",
            touchpoint=touchpoint,
            now=timezone.now(),
            patient_phone="07700 900123",  # no consent: refused, rolled back
        )
    second = open_incident(touchpoint=touchpoint)
    assert second.reference.endswith("-0002")


def test_concurrent_creation_gives_unique_gap_free_references(postgres, transactional_db):
    touchpoint = TouchpointFactory()
    threads_count, per_thread = 4, 5

    def create() -> None:
        for _ in range(per_thread):
            open_incident(touchpoint=touchpoint)

    at_once(*[create] * threads_count)  # raises what any thread raised
    numbers = sorted(
        int(ref.rsplit("-", 1)[1]) for ref in Incident.objects.values_list("reference", flat=True)
    )
    assert numbers == list(range(1, threads_count * per_thread + 1))
    year = timezone.localdate().year
    assert IncidentCounter.objects.get(year=year).last_number == threads_count * per_thread
    assert connection.vendor == "postgresql"
