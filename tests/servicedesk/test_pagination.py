"""One pagination for every list: the next page keeps the list's filters and sort."""

from __future__ import annotations

import pytest
from django.urls import reverse

from recovery.views import PAGE_SIZE
from tests.factories import open_incident

pytestmark = pytest.mark.django_db


def test_the_next_page_keeps_the_filters_and_the_sort(manager_client):
    for _ in range(PAGE_SIZE + 1):
        open_incident(severity="high")
    open_incident(severity="low")
    url = reverse("recovery:incident_list")

    first = manager_client.get(url, {"severity": "high", "sort": "oldest"}).content.decode()
    assert 'href="?severity=high&amp;sort=oldest&amp;page=2">Next</a>' in first
    assert "Page 1 of 2" in first

    second = manager_client.get(url, {"severity": "high", "sort": "oldest", "page": 2}).content.decode()
    assert 'href="?severity=high&amp;sort=oldest&amp;page=1">Previous</a>' in second
    assert "Next</a>" not in second
    assert 'aria-current="page"' in second


def test_a_short_list_has_no_pagination(manager_client):
    open_incident()
    assert "pagination" not in manager_client.get(reverse("recovery:incident_list")).content.decode()
