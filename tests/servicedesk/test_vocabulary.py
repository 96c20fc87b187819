"""Managers keep the practice's locations and touchpoints up to date in the UI."""

import pytest
import time_machine
from django.urls import reverse
from django.utils import timezone

from servicedesk.models import Location, Touchpoint
from tests.factories import LocationFactory, TouchpointFactory


@pytest.mark.django_db
def test_manager_adds_a_location(manager_client):
    response = manager_client.post(reverse("location_create"), {"name": "Hillcrest Clinic", "phone": "0161"})
    assert response.status_code == 302
    assert Location.objects.get(name="Hillcrest Clinic").is_active


@pytest.mark.django_db
def test_a_duplicate_location_name_is_refused_with_a_message(manager_client):
    LocationFactory(name="Hillcrest Clinic")
    response = manager_client.post(reverse("location_create"), {"name": "Hillcrest Clinic"})
    assert response.status_code == 400
    assert "Location with this Name already exists" in response.content.decode()
    assert Location.objects.count() == 1


@pytest.mark.django_db
def test_manager_adds_and_edits_a_touchpoint(manager_client, location):
    response = manager_client.post(
        reverse("touchpoint_create"), {"name": "Front desk", "channel": "in_person", "location": location.pk}
    )
    assert response.status_code == 302
    touchpoint = Touchpoint.objects.get(name="Front desk")
    response = manager_client.post(
        reverse("touchpoint_update", args=[touchpoint.pk]),
        {"name": "Front desk — East", "channel": "in_person"},
    )
    touchpoint.refresh_from_db()
    assert touchpoint.name == "Front desk — East"
    assert touchpoint.location is None


@pytest.mark.django_db
def test_a_touchpoint_needs_a_known_channel(manager_client):
    response = manager_client.post(
        reverse("touchpoint_create"), {"name": "Carrier pigeon", "channel": "pigeon"}
    )
    assert response.status_code == 400
    assert "Select a valid choice" in response.content.decode()
    assert not Touchpoint.objects.exists()


@pytest.mark.django_db
def test_deactivating_keeps_the_record_and_hides_it_from_new_choices(manager_client):
    location = LocationFactory(name="Old Annexe")
    manager_client.post(reverse("location_set_active", args=[location.pk]), {"active": "0"}, follow=True)
    location.refresh_from_db()
    assert not location.is_active
    form_page = manager_client.get(reverse("touchpoint_create")).content.decode()
    assert "Old Annexe" not in form_page
    manager_client.post(reverse("location_set_active", args=[location.pk]), {"active": "1"})
    location.refresh_from_db()
    assert location.is_active


@pytest.mark.django_db
def test_deactivation_only_accepts_post(manager_client, location):
    assert manager_client.get(reverse("location_set_active", args=[location.pk])).status_code == 405


@pytest.mark.django_db
@pytest.mark.parametrize(
    "url_name", ["location_list", "location_create", "touchpoint_list", "touchpoint_create"]
)
def test_staff_cannot_manage_locations_or_touchpoints(staff_client, url_name):
    assert staff_client.get(reverse(url_name)).status_code == 403


@pytest.mark.django_db
def test_staff_cannot_deactivate_a_touchpoint(staff_client):
    touchpoint = TouchpointFactory()
    response = staff_client.post(reverse("touchpoint_set_active", args=[touchpoint.pk]), {"active": "0"})
    assert response.status_code == 403
    touchpoint.refresh_from_db()
    assert touchpoint.is_active


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("url_name", "factory"), [("location_list", LocationFactory), ("touchpoint_list", TouchpointFactory)]
)
def test_list_pages_run_the_same_queries_for_3_or_30_rows(manager_client, count_queries, url_name, factory):
    factory.create_batch(3)
    manager_client.get(reverse(url_name))  # the first request may touch the session
    small = count_queries(lambda: manager_client.get(reverse(url_name)))
    factory.create_batch(27)
    assert count_queries(lambda: manager_client.get(reverse(url_name))) == small


@pytest.mark.django_db
def test_dashboard_query_count_does_not_grow_with_the_practice(manager_client, count_queries):
    # The clock stands still: on a slow machine a minute could pass between the counts, and the
    # session's "last seen" (written at most once a minute) would add a query to one of them.
    with time_machine.travel(timezone.now(), tick=False):
        TouchpointFactory.create_batch(2)
        manager_client.get(reverse("dashboard"))
        small = count_queries(lambda: manager_client.get(reverse("dashboard")))
        TouchpointFactory.create_batch(25)
        assert count_queries(lambda: manager_client.get(reverse("dashboard"))) == small
