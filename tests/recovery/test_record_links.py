"""Records link both ways: a response and the incident it opened, a checklist run and the incidents
its failed checks opened; and a failed safety check reads as a safety risk, not a complaint."""

from __future__ import annotations

import pytest
from django.urls import reverse

from delivery.signals import check_failed
from feedback.signals import response_submitted
from recovery.models import Category, Incident
from tests.factories import ChecklistItemFactory, ChecklistResultFactory
from tests.recovery.test_sources import negative_response

pytestmark = pytest.mark.django_db


def test_a_blocked_fire_exit_is_a_high_safety_incident_described_as_a_safety_risk(manager_client):
    item = ChecklistItemFactory(text="Fire exit clear and unlocked", is_critical=True)
    result = ChecklistResultFactory(item=item, run__template=item.template, outcome="fail", note="Boxes")
    check_failed.send(sender=None, result_id=result.pk, run_id=result.run_id)
    incident = Incident.objects.get()
    assert (incident.category, incident.severity) == (Category.SAFETY, "high")
    assert "safety risk" in incident.severity_help
    assert "complaint" not in incident.severity_help

    page = manager_client.get(reverse("recovery:incident_detail", args=[incident.reference])).content.decode()
    assert reverse("delivery:run_detail", args=[result.run_id]) in page
    run_page = manager_client.get(reverse("delivery:run_detail", args=[result.run_id])).content.decode()
    assert reverse("recovery:incident_detail", args=[incident.reference]) in run_page
    assert "Followed up as" in run_page


def test_a_place_check_with_no_telling_words_is_about_the_premises():
    item = ChecklistItemFactory(text="Leaflet rack tidy", is_critical=True, template__dimension="place")
    result = ChecklistResultFactory(item=item, run__template=item.template, outcome="fail", note="Messy")
    check_failed.send(sender=None, result_id=result.pk, run_id=result.run_id)
    assert Incident.objects.get().category == Category.PREMISES


def test_a_response_and_the_incident_it_opened_link_to_each_other(manager_client):
    response = negative_response(text="Nobody called me back")
    response_submitted.send(sender=None, response_id=response.pk, is_negative=True)
    incident = Incident.objects.get()

    page = manager_client.get(reverse("recovery:incident_detail", args=[incident.reference])).content.decode()
    assert reverse("feedback:response_detail", args=[response.pk]) in page
    response_page = manager_client.get(
        reverse("feedback:response_detail", args=[response.pk])
    ).content.decode()
    assert reverse("recovery:incident_detail", args=[incident.reference]) in response_page


def test_a_response_that_opened_nothing_shows_no_follow_up(manager_client):
    response = negative_response()
    page = manager_client.get(reverse("feedback:response_detail", args=[response.pk])).content.decode()
    assert "Followed up as" not in page
