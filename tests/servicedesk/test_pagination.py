"""One pagination for every list: the next page keeps the list's filters and sort."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from recovery.models import Incident
from recovery.views import PAGE_SIZE
from servicedesk import paging
from tests.factories import open_incident

pytestmark = pytest.mark.django_db


def test_the_next_page_keeps_the_filters_and_the_sort(manager_client):
    for _ in range(PAGE_SIZE + 1):
        open_incident(severity="high")
    open_incident(severity="low")
    url = reverse("recovery:incident_list")

    first = manager_client.get(url, {"severity": "high", "sort": "oldest"}).content.decode()
    assert 'href="?severity=high&amp;sort=oldest&amp;page=2">Next</a>' in first
    assert "Page 1<" in first  # long lists are not counted to number their pages
    assert f"{PAGE_SIZE + 1} incidents" in first

    second = manager_client.get(url, {"severity": "high", "sort": "oldest", "page": 2}).content.decode()
    assert 'href="?severity=high&amp;sort=oldest&amp;page=1">Previous</a>' in second
    assert "Next</a>" not in second
    assert 'aria-current="page"' in second


def test_a_short_list_has_no_pagination(manager_client):
    open_incident()
    assert "pagination" not in manager_client.get(reverse("recovery:incident_list")).content.decode()


def test_a_page_past_the_end_or_not_a_number_shows_the_first(manager_client):
    open_incident(title="Only one")
    url = reverse("recovery:incident_list")
    for page in ("9", "last", "x", "0", "-1", "99999999999999999999"):
        response = manager_client.get(url, {"page": page})
        assert response.status_code == 200
        assert response.context["page"].number == 1
        assert "Only one" in response.content.decode()


def test_a_list_counts_up_to_a_thousand_and_says_more_beyond(manager_client, monkeypatch):
    monkeypatch.setattr(paging, "COUNT_UP_TO", 3)
    for _ in range(4):
        open_incident()
    page = manager_client.get(reverse("recovery:incident_list")).content.decode()
    assert "More than 3 incidents" in page
    assert paging.count_up_to(Incident.objects.all(), limit=10) == paging.BoundedCount(n=4, more=False)


def test_the_growing_lists_never_count_their_rows(manager_client):
    """A list of five years of rows costs its page: no COUNT(*) over the list, only a bounded one."""
    for _ in range(3):
        open_incident()
    urls = [
        reverse("recovery:incident_list") + "?status=all",
        reverse("feedback:response_list"),
        reverse("invitations:invitation_list"),
        reverse("security:audit_log"),
    ]
    for url in urls:
        with CaptureQueriesContext(connection) as queries:
            assert manager_client.get(url).status_code == 200
        counts = [q["sql"] for q in queries if "COUNT(" in q["sql"].upper()]
        assert all("LIMIT" in sql.upper() for sql in counts), (url, counts)
