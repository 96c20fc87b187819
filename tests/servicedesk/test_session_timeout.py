"""Staff sessions end after 30 minutes idle and 12 hours in all."""

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.urls import reverse

START = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)


def log_in_through_the_form(client, user):
    response = client.post(reverse("login"), {"username": user.username, "password": "correct horse battery"})
    assert response.status_code == 302


@pytest.mark.django_db
def test_a_session_idle_for_more_than_30_minutes_ends(client, staff):
    with time_machine.travel(START, tick=False) as traveller:
        log_in_through_the_form(client, staff)
        assert client.get(reverse("my_work")).status_code == 200
        traveller.shift(timedelta(minutes=31))
        response = client.get(reverse("my_work"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


@pytest.mark.django_db
def test_activity_keeps_a_session_alive(client, staff):
    with time_machine.travel(START, tick=False) as traveller:
        log_in_through_the_form(client, staff)
        for _ in range(4):
            traveller.shift(timedelta(minutes=20))
            assert client.get(reverse("my_work")).status_code == 200


@pytest.mark.django_db
def test_a_session_ends_after_12_hours_even_when_active(client, staff):
    with time_machine.travel(START, tick=False) as traveller:
        log_in_through_the_form(client, staff)
        for _ in range(12 * 3 + 1):  # a request every 20 minutes for just over 12 hours
            traveller.shift(timedelta(minutes=20))
            response = client.get(reverse("my_work"))
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("login"))
