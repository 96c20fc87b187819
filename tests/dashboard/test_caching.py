"""The dashboard's feedback sections are computed once per summary sweep and shared, never stale."""

from __future__ import annotations

import pytest
from django.urls import reverse

from servicedesk import caching
from tests.factories import TouchpointFactory

pytestmark = pytest.mark.django_db

URL = reverse("dashboard")


def _responses(client, **query) -> float | None:
    return client.get(URL, query).context["feedback"].current.responses


def test_feedback_the_sweep_has_counted_shows_at_once_despite_the_cache(manager_client, feedback, summarise):
    feedback(6)
    summarise(days=3)
    assert _responses(manager_client) == 6
    assert _responses(manager_client) == 6  # from the cache

    feedback(4)
    assert _responses(manager_client) == 6, "the dashboard counts what the sweep has summarised"
    summarise(days=3)
    assert _responses(manager_client) == 10


def test_a_cached_figure_is_never_shown_for_another_filter(manager_client, feedback, summarise):
    desk, phone = TouchpointFactory(name="Desk"), TouchpointFactory(name="Phone")
    feedback(5, touchpoint=desk)
    feedback(7, touchpoint=phone)
    summarise(days=3)

    assert _responses(manager_client) == 12
    assert _responses(manager_client, touchpoint=desk.pk) == 5
    assert _responses(manager_client, touchpoint=phone.pk) == 7
    assert _responses(manager_client, days=7) == 12


def test_the_second_view_of_the_same_figures_reads_them_from_the_cache(
    manager_client, feedback, summarise, count_queries
):
    feedback(5, choice="poor", comment="Waited an hour")
    summarise(days=3)
    manager_client.get(URL)  # computes and keeps the feedback sections
    cached = count_queries(lambda: manager_client.get(URL))
    caching.cache.clear()
    computed = count_queries(lambda: manager_client.get(URL))
    assert cached <= computed - 5, (cached, computed)


def test_before_the_first_count_nothing_is_cached_so_the_page_fills_in_after_it(
    manager_client, feedback, summarise
):
    feedback(5)
    assert _responses(manager_client) == 0
    summarise(days=3)
    assert _responses(manager_client) == 5


class BrokenCache:
    """Redis gone: every call fails the way a connection error does."""

    def get(self, *args, **kwargs):
        raise ConnectionError("cache down")

    set = get


def test_with_the_cache_down_the_dashboard_still_shows_every_figure(
    manager_client, feedback, summarise, monkeypatch, caplog
):
    feedback(5)
    summarise(days=3)
    monkeypatch.setattr(caching, "cache", BrokenCache())

    response = manager_client.get(URL)

    assert response.status_code == 200
    assert response.context["feedback"].current.responses == 5
    assert "cache unavailable" in caplog.text
