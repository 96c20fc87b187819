from __future__ import annotations

from datetime import date, datetime

import pytest
from django.utils import timezone

from complaints import services


def record(*, by=None, now: datetime | None = None, received_on: date | None = None, **kwargs):
    """A complaint recorded through the service, as staff would (a letter about appointments)."""
    now = now or timezone.now()
    values = {
        "description": "My appointment was cancelled three times without anyone telling me why.",
        "subject_area": "appointments",
        "received_by": "letter",
        "received_on": received_on or timezone.localdate(now),
        "severity": "high",
        "patient_consented": True,
        "patient_name": "Ada Lovelace",
        "patient_email": "ada@example.org",
        "contact_preference": "email",
    }
    values.update(kwargs)
    return services.complaint_record(**values, by=by, now=now)


@pytest.fixture
def complaint(staff):
    return record(by=staff)
