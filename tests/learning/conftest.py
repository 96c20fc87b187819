from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from learning import services
from learning.models import Change, Pattern
from tests.factories import TouchpointFactory, open_incident

LONDON = ZoneInfo("Europe/London")


def london(text: str) -> datetime:
    """An instant given as London wall-clock time: "2026-06-01 00:30"."""
    return datetime.fromisoformat(text).replace(tzinfo=LONDON)


@pytest.fixture
def touchpoint(db):
    return TouchpointFactory(name="Front desk")


@pytest.fixture
def similar(touchpoint):
    """``similar(when)``: a waiting-time incident at the front desk, logged at ``when``."""

    def make(when: datetime, **kwargs):
        return open_incident(now=when, touchpoint=touchpoint, **kwargs)

    return make


@pytest.fixture
def pattern_with_change(similar, manager):
    """``pattern_with_change(made_on=…)``: a recorded pattern answered with a checklist change."""

    def make(*, made_on, incidents_at: list[datetime]):
        incidents = [similar(when) for when in incidents_at]
        # Recorded as it stands, whatever the rule: these tests are about what is measured after.
        pattern = Pattern.objects.create(
            kind=Pattern.Kind.PLACE,
            key=services.place_key("waiting", incidents[0].touchpoint_id),
            category="waiting",
            touchpoint_id=incidents[0].touchpoint_id,
            first_seen_at=max(incidents_at),
            last_incident_at=max(incidents_at),
        )
        pattern.incidents.set(incidents)
        return services.change_record(
            pattern=pattern,
            kind=Change.Kind.CHECKLIST_ITEM,
            description="Tell patients about delays.",
            made_on=made_on,
            by=manager,
            now=london(f"{made_on.isoformat()} 12:00"),
        )

    return make
