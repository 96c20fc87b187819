"""The managers' dashboard page: who may open it, its period and filters, and what it says."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from tests.factories import LocationFactory, PatientNeedProfileFactory, TouchpointFactory, UserFactory

pytestmark = pytest.mark.django_db

URL = reverse("dashboard")


@pytest.mark.parametrize("name", ["dashboard", "dashboard_export", "dashboard_report"])
def test_anonymous_visitors_are_sent_to_log_in(client, name):
    response = client.get(reverse(name))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


@pytest.mark.parametrize("name", ["dashboard", "dashboard_export", "dashboard_report"])
def test_staff_cannot_open_the_dashboard_or_its_exports(staff_client, name):
    response = staff_client.get(reverse(name))
    assert response.status_code == 403
    assert "Only practice managers" in response.content.decode()


@pytest.mark.parametrize("name", ["dashboard", "dashboard_export", "dashboard_report"])
def test_an_account_without_a_role_cannot_open_the_dashboard(client, name):
    client.force_login(UserFactory(role=None))
    assert client.get(reverse(name)).status_code == 403


def test_the_dashboard_refuses_to_change_anything(manager_client):
    assert manager_client.post(URL).status_code == 405


def test_by_default_the_dashboard_shows_the_last_30_days_against_the_30_before(manager_client):
    response = manager_client.get(URL)
    scope = response.context["scope"]
    today = timezone.localdate()
    assert (scope.first_day, scope.last_day) == (today - timedelta(days=29), today)
    assert (scope.previous_first_day, scope.previous_last_day) == (
        today - timedelta(days=59),
        today - timedelta(days=30),
    )
    assert f"{scope.first_day:%-d %b %Y} to {today:%-d %b %Y}" in response.content.decode()


def test_a_chosen_period_and_end_date_are_used(manager_client):
    until = timezone.localdate() - timedelta(days=40)
    response = manager_client.get(URL, {"days": 7, "until": until.isoformat()})
    scope = response.context["scope"]
    assert (scope.first_day, scope.last_day) == (until - timedelta(days=6), until)
    assert scope.previous_last_day == until - timedelta(days=7)


def test_filters_by_location_touchpoint_and_need_profile_are_applied(manager_client):
    location = LocationFactory(name="Hillcrest Clinic")
    touchpoint = TouchpointFactory(name="Front desk — Hillcrest", location=location)
    profile = PatientNeedProfileFactory(name="Needs an interpreter")
    response = manager_client.get(
        URL, {"location": location.pk, "touchpoint": touchpoint.pk, "need_profile": profile.pk}
    )
    assert response.status_code == 200
    scope = response.context["scope"]
    assert (scope.location, scope.touchpoint, scope.need_profile) == (location, touchpoint, profile)
    page = response.content.decode()
    assert "Front desk — Hillcrest" in page
    assert "Needs an interpreter" in page


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"location": "not-a-number"}, "location"),
        ({"location": "999999"}, "location"),
        ({"touchpoint": "999999"}, "touchpoint"),
        ({"need_profile": "x"}, "need_profile"),
        ({"days": "13"}, "days"),
        ({"days": "thirty"}, "days"),
        ({"until": "2026-02-31"}, "until"),
        ({"until": "yesterday"}, "until"),
    ],
)
def test_a_bad_filter_value_is_a_form_error_not_a_crash(manager_client, params, field):
    response = manager_client.get(URL, params)
    assert response.status_code == 400
    assert field in response.context["form"].errors
    page = response.content.decode()
    assert "The dashboard could not use this filter" in page
    assert "scope" not in response.context  # no figures for a filter we could not apply


def test_a_period_ending_in_the_future_is_refused(manager_client):
    tomorrow = timezone.localdate() + timedelta(days=1)
    response = manager_client.get(URL, {"until": tomorrow.isoformat()})
    assert response.status_code == 400
    assert "cannot end in the future" in response.content.decode()


def test_a_touchpoint_at_another_location_is_refused_with_an_explanation(manager_client):
    riverside, hillcrest = LocationFactory(name="Riverside"), LocationFactory(name="Hillcrest")
    desk = TouchpointFactory(name="Front desk — Hillcrest", location=hillcrest)
    response = manager_client.get(URL, {"location": riverside.pk, "touchpoint": desk.pk})
    assert response.status_code == 400
    assert "is at Hillcrest, not Riverside" in response.content.decode()


def test_a_practice_with_no_data_yet_gets_honest_empty_states(manager_client):
    page = manager_client.get(URL).content.decode()
    assert "No active service goals yet" in page
    assert "No patient feedback in this period yet" in page
    assert "Nothing here. Good." in page


def test_charts_get_their_numbers_from_json_script_not_inline_code(manager_client, feedback, summarise):
    feedback(6, choice="good")
    summarise()
    page = manager_client.get(URL).content.decode()
    assert '<script id="trend-data" type="application/json">' in page
    assert "js/dashboard.js" in page
    assert "vendor/chart.js/chart.umd.min.js" in page
    # Every other script tag loads a file: no inline code (a CSP comes later).
    for chunk in page.split("<script")[1:]:
        assert 'type="application/json"' in chunk.split(">")[0] or "src=" in chunk.split(">")[0]


def test_a_link_that_names_only_a_filter_keeps_the_default_period(manager_client):
    location = LocationFactory()
    response = manager_client.get(URL, {"location": location.pk})
    assert response.context["scope"].days == 30
    assert 'value="30" selected' in response.content.decode()


def test_when_nothing_is_counted_yet_a_worker_is_asked_to_count_once(manager_client, feedback, monkeypatch):
    from dashboard import views

    asked = []
    monkeypatch.setattr(views, "enqueue", lambda task, *args: asked.append(task.name))
    feedback(3)
    manager_client.get(URL)
    manager_client.get(URL)
    assert asked == ["servicedesk.tasks.refresh_feedback_summaries"]
