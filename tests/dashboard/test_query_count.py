"""The dashboard's cost does not grow with the data: the same number of queries at two sizes."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.cache import cache
from django.urls import reverse
from django.utils import timezone

from tests.factories import (
    ChecklistRunFactory,
    PatientNeedProfileFactory,
    ServiceGoalFactory,
    ThemeFactory,
    TouchpointFactory,
)

pytestmark = pytest.mark.django_db


def _grow(feedback, summarise, *, size: int) -> None:
    """Add ``size`` of everything the dashboard counts: responses, places, groups, themes, runs."""
    for i in range(size):
        touchpoint = TouchpointFactory()
        profile = PatientNeedProfileFactory()
        theme = ThemeFactory(name=f"Theme {size}-{i}")
        when = timezone.now() - timedelta(days=i % 50, hours=1)
        place = {"touchpoint": touchpoint, "need_profile": profile, "when": when}
        feedback(5, choice="poor", comment="Slow", themes=(theme,), **place)
        feedback(2, choice="good", nps=9, touchpoint=touchpoint, when=when)
        ChecklistRunFactory(status="missed", due_at=timezone.now() - timedelta(hours=i + 1))
    summarise(days=60)


@pytest.mark.parametrize("params", [{}, {"days": 90}, {"need_profile": "profile"}])
def test_the_dashboard_runs_the_same_number_of_queries_as_data_grows(
    manager_client, feedback, summarise, count_queries, params
):
    ServiceGoalFactory(metric_key="tests.fixed", metric_params={"now": "95"})
    ServiceGoalFactory(metric_key="tests.unregistered")

    def load():
        query = dict(params)
        if query.get("need_profile") == "profile":
            query["need_profile"] = PatientNeedProfileFactory._meta.model.objects.order_by("pk").first().pk
        response = manager_client.get(reverse("dashboard"), query)
        assert response.status_code == 200

    def load_cold():  # the feedback sections computed, not read from the cache
        cache.clear()
        load()

    _grow(feedback, summarise, size=2)
    load()  # warm: sessions, content types
    small = count_queries(load_cold)
    _grow(feedback, summarise, size=8)
    large = count_queries(load_cold)
    assert small == large, f"{small} queries with little data, {large} with more"
    assert count_queries(load) < large, "a second view of the same figures reads the cached feedback sections"


def test_the_csv_export_runs_the_same_number_of_queries_as_data_grows(
    manager_client, feedback, summarise, count_queries
):
    def load():
        assert manager_client.get(reverse("dashboard_export")).status_code == 200

    _grow(feedback, summarise, size=2)
    load()
    small = count_queries(load)
    _grow(feedback, summarise, size=8)
    assert count_queries(load) == small
