"""A refused form is answered one way everywhere: the page again, its errors shown, status 400."""

from __future__ import annotations

import pytest
from django.urls import reverse

pytestmark = pytest.mark.django_db

MANAGER_FORMS = [
    "staff_member_create",
    "location_create",
    "touchpoint_create",
    "delivery:template_create",
    "delivery:protocol_create",
    "feedback:survey_create",
    "feedback:theme_create",
    "design:goal_create",
    "design:profile_create",
    "recovery:plan_create",
    "invitations:invitation_rules",
    "invitations:contact_requests",
]


@pytest.mark.parametrize("name", MANAGER_FORMS)
def test_an_empty_manager_form_is_refused_with_a_400_and_its_errors(manager_client, name):
    response = manager_client.post(reverse(name), {"days-TOTAL_FORMS": "0", "days-INITIAL_FORMS": "0"})
    assert response.status_code == 400, name
    assert b"error" in response.content.lower()


def test_an_empty_incident_is_refused_with_a_400_for_staff_too(staff_client):
    assert staff_client.post(reverse("recovery:incident_log"), {}).status_code == 400


@pytest.mark.parametrize("query", [{"days": "abc"}, {"until": "0001-01-01"}])
def test_a_bad_dashboard_filter_is_a_400(manager_client, query):
    assert manager_client.get(reverse("dashboard"), query).status_code == 400
