"""Migration 0011 tells every stored incident when the latest earlier one of its kind at its
touchpoint was logged, so the recurrence rate reads one column instead of searching the history."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from tests.migrating import migrate, migrate_to_latest

BEFORE = [("recovery", "0010_period_figure_indexes")]
AFTER = [("recovery", "0011_incident_similar_before")]
T0 = datetime(2026, 3, 2, 9, 0, tzinfo=ZoneInfo("Europe/London"))


@pytest.mark.django_db(transaction=True)
def test_stored_incidents_learn_their_predecessor_and_a_rerun_writes_the_same():
    old = migrate(BEFORE)
    Location = old.get_model("servicedesk", "Location")
    Touchpoint = old.get_model("servicedesk", "Touchpoint")
    Incident = old.get_model("recovery", "Incident")
    site = Location.objects.create(name="Riverside (migration test)")
    desk = Touchpoint.objects.create(name="Desk (migration test)", channel="in_person", location=site)
    phone = Touchpoint.objects.create(name="Phone (migration test)", channel="phone", location=site)

    def logged(reference: str, category: str, touchpoint, at: datetime):
        incident = Incident.objects.create(
            reference=reference,
            title=reference,
            category=category,
            severity="medium",
            touchpoint=touchpoint,
            location=site,
            respond_by=at + timedelta(days=1),
            resolve_by=at + timedelta(days=7),
        )
        Incident.objects.filter(pk=incident.pk).update(created_at=at)
        return reference

    logged("M-1", "waiting", desk, T0)
    logged("M-2", "waiting", desk, T0 + timedelta(days=3))
    logged("M-3", "waiting", desk, T0 + timedelta(days=90))
    logged("M-4", "waiting", phone, T0 + timedelta(days=4))  # another touchpoint
    logged("M-5", "attitude", desk, T0 + timedelta(days=5))  # another category
    logged("M-6", "waiting", None, T0 + timedelta(days=6))  # no touchpoint: never a repeat

    migrate(AFTER)
    from recovery.models import Incident as LiveIncident

    def before() -> dict[str, datetime | None]:
        return dict(LiveIncident.objects.values_list("reference", "similar_before_at"))

    assert before() == {
        "M-1": None,
        "M-2": T0,
        "M-3": T0 + timedelta(days=3),
        "M-4": None,
        "M-5": None,
        "M-6": None,
    }
    assert LiveIncident.objects.all().fill_similar_before() == 5  # the live method writes the same
    assert before()["M-3"] == T0 + timedelta(days=3)
    migrate(BEFORE)
    migrate(AFTER)
    assert before()["M-2"] == T0
    migrate_to_latest()
