"""Surveys set for the group and overridden per site (issue 19).

A site manager builds their own sites' surveys and never the group's; a site's own active survey
for the same purpose as a group survey takes its place there, for invitations and on kiosks
(``feedback.sites.survey_in_force``). The ``site_manager`` fixture manages Riverside; Hilltop is
the group's other site.
"""

from __future__ import annotations

import json
from datetime import time, timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from feedback import invitations
from feedback.forms import started_stamp
from feedback.invitations import visits
from feedback.models import Invitation, InvitationRules, Question, Response, Survey
from feedback.sites import overrides, survey_in_force
from servicedesk.models import Location, Touchpoint
from tests.factories import QuestionFactory, SurveyFactory, TouchpointFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _no_minimum_fill_time(settings):
    settings.FEEDBACK_MIN_FILL_SECONDS = 0


@pytest.fixture
def riverside(site_manager):
    return site_manager.location


@pytest.fixture
def hilltop(site_manager):
    return Location.objects.get(name="Hilltop")


def survey_with_a_question(**fields) -> Survey:
    survey = SurveyFactory(**fields)
    QuestionFactory(survey=survey, position=0, kind=Question.Kind.FFT, required=True, text="Overall?")
    return survey


@pytest.fixture
def group_survey(db):
    return survey_with_a_question(
        title="After your visit (group)", slug="after-visit", heading="Group survey"
    )


@pytest.fixture
def site_survey(riverside):
    return survey_with_a_question(
        title="After your visit (Riverside)",
        slug="riverside-visit",
        heading="Riverside survey",
        location=riverside,
    )


def _settings(**fields) -> dict:
    return {
        "title": "Riverside flu clinic",
        "audience": "patient",
        "languages": ["en"],
        "contact_within_days": 2,
    } | fields


# --- Who builds which survey -------------------------------------------------------------------


def test_a_site_manager_creates_a_survey_for_their_own_site(site_manager_client, riverside):
    response = site_manager_client.post(reverse("feedback:survey_create"), _settings(location=riverside.pk))
    survey = Survey.objects.get(title="Riverside flu clinic")
    assert response.status_code == 302
    assert survey.location == riverside


def test_a_site_managers_new_survey_is_always_for_one_of_their_sites(site_manager_client, hilltop):
    for location in ("", hilltop.pk):
        response = site_manager_client.post(reverse("feedback:survey_create"), _settings(location=location))
        assert response.status_code == 400
        assert not Survey.objects.filter(title="Riverside flu clinic").exists()


def test_the_groups_managers_still_create_surveys_for_every_site(manager_client):
    assert manager_client.post(reverse("feedback:survey_create"), _settings()).status_code == 302
    assert Survey.objects.get(title="Riverside flu clinic").location is None


def _group_survey_pages(survey: Survey) -> list[tuple[str, str, dict]]:
    question = survey.questions.get()
    return [
        ("get", reverse("feedback:survey_builder", args=[survey.pk]), {}),
        ("get", reverse("feedback:survey_update", args=[survey.pk]), {}),
        ("post", reverse("feedback:survey_update", args=[survey.pk]), _settings(title="Taken over")),
        ("post", reverse("feedback:survey_set_active", args=[survey.pk]), {"active": "0"}),
        ("get", reverse("feedback:survey_poster", args=[survey.pk]), {}),
        ("get", reverse("feedback:question_create", args=[survey.pk]), {}),
        ("get", reverse("feedback:question_update", args=[question.pk]), {}),
        ("post", reverse("feedback:question_remove", args=[question.pk]), {"confirmed": "yes"}),
        ("post", reverse("feedback:question_move", args=[question.pk]), {"direction": "up"}),
    ]


def test_a_site_manager_cannot_change_a_group_survey(site_manager_client, group_survey):
    for method, url, data in _group_survey_pages(group_survey):
        response = getattr(site_manager_client, method)(url, data)
        assert response.status_code == 403, url
        assert "group's" in response.content.decode().replace("&#x27;", "'")
    group_survey.refresh_from_db()
    assert (group_survey.title, group_survey.is_active) == ("After your visit (group)", True)
    assert group_survey.questions.live().count() == 1


def test_another_sites_survey_does_not_exist_for_a_site_manager(site_manager_client, hilltop):
    theirs = survey_with_a_question(location=hilltop)
    for method, url, data in _group_survey_pages(theirs):
        assert getattr(site_manager_client, method)(url, data).status_code == 404, url


def test_a_site_manager_builds_their_own_sites_survey(site_manager_client, site_survey, riverside):
    assert (
        site_manager_client.get(reverse("feedback:survey_builder", args=[site_survey.pk])).status_code == 200
    )
    response = site_manager_client.post(
        reverse("feedback:survey_update", args=[site_survey.pk]),
        _settings(title="Renamed", location=riverside.pk),
    )
    assert response.status_code == 302
    site_survey.refresh_from_db()
    assert site_survey.title == "Renamed"
    response = site_manager_client.post(
        reverse("feedback:question_create", args=[site_survey.pk]),
        {"kind": "text", "text": "Anything else?"},
    )
    assert response.status_code == 302
    assert site_survey.questions.live().count() == 2


def test_a_site_manager_cannot_move_their_survey_to_another_site(site_manager_client, site_survey, hilltop):
    url = reverse("feedback:survey_update", args=[site_survey.pk])
    assert site_manager_client.post(url, _settings(location=hilltop.pk)).status_code == 400
    site_survey.refresh_from_db()
    assert site_survey.location.name == "Riverside"


def test_a_site_manager_may_preview_a_group_survey(site_manager_client, group_survey):
    assert (
        site_manager_client.get(reverse("feedback:survey_preview", args=[group_survey.pk])).status_code == 200
    )


def test_the_builder_is_refused_to_staff_and_opens_for_managers(staff_client, manager, group_survey):
    url = reverse("feedback:survey_builder", args=[group_survey.pk])
    assert staff_client.get(url).status_code == 403
    staff_client.force_login(manager)
    assert staff_client.get(url).status_code == 200


# --- The survey in force at a site -------------------------------------------------------------


def test_a_sites_own_survey_takes_the_group_surveys_place_there_only(
    group_survey, site_survey, riverside, hilltop
):
    assert survey_in_force(group_survey, location_id=riverside.pk) == site_survey
    assert survey_in_force(group_survey, location_id=hilltop.pk) == group_survey
    assert survey_in_force(group_survey, location_id=None) == group_survey
    assert overrides(group_survey) == {riverside.pk: site_survey}


def test_a_site_survey_switched_off_leaves_the_group_survey_in_force(group_survey, site_survey, riverside):
    site_survey.is_active = False
    site_survey.save()
    assert survey_in_force(group_survey, location_id=riverside.pk) == group_survey


def test_a_site_survey_for_another_purpose_does_not_replace_the_group_survey(riverside):
    main_line = TouchpointFactory(name="Main line", channel=Touchpoint.Channel.PHONE, location=None)
    phone = survey_with_a_question(title="Phone calls (group)", touchpoint=main_line)
    desk = TouchpointFactory(name="Front desk — Riverside", location=riverside)
    at_the_desk = survey_with_a_question(location=riverside, touchpoint=desk)
    general = survey_with_a_question(title="After your visit (group)")
    assert survey_in_force(phone, location_id=riverside.pk) == phone  # the desk is not the phone
    assert survey_in_force(general, location_id=riverside.pk) == general  # nor is it any visit
    riverside_line = TouchpointFactory(
        name="Riverside line", channel=Touchpoint.Channel.PHONE, location=riverside
    )
    own_phone = survey_with_a_question(location=riverside, touchpoint=riverside_line)
    assert survey_in_force(phone, location_id=riverside.pk) == own_phone  # the site's own phone line
    assert survey_in_force(general, location_id=riverside.pk) != at_the_desk


def test_the_site_survey_for_the_very_same_touchpoint_wins(riverside):
    main_line = TouchpointFactory(name="Main line", channel=Touchpoint.Channel.PHONE, location=None)
    phone = survey_with_a_question(touchpoint=main_line)
    riverside_line = TouchpointFactory(
        name="Riverside line", channel=Touchpoint.Channel.PHONE, location=riverside
    )
    same_line = survey_with_a_question(location=riverside, touchpoint=main_line)
    survey_with_a_question(location=riverside, touchpoint=riverside_line)  # newer, but not the same line
    assert survey_in_force(phone, location_id=riverside.pk) == same_line


def test_a_staff_pulse_and_a_sites_own_survey_are_never_replaced(site_survey, riverside):
    pulse = survey_with_a_question(audience=Survey.Audience.STAFF)
    survey_with_a_question(audience=Survey.Audience.STAFF, location=riverside)
    assert survey_in_force(pulse, location_id=riverside.pk) == pulse
    assert survey_in_force(site_survey, location_id=riverside.pk) == site_survey


# --- Invitations and kiosks use it -------------------------------------------------------------


@pytest.fixture
def rules(db) -> InvitationRules:
    rules = InvitationRules.current()
    rules.quiet_hours_start = rules.quiet_hours_end = time(0, 0)  # no quiet hours
    rules.save()
    return rules


def _visit(location: Location, n: int) -> dict:
    return {
        "external_id": f"V-{n}",
        "first_name": "Ana",
        "email": f"ana{n}@example.org",
        "visit_at": (timezone.now() - timedelta(hours=1)).isoformat(),
        "location": location.name,
    }


def test_posted_visits_are_invited_to_the_survey_in_force_at_their_site(
    client, manager, rules, group_survey, site_survey, riverside, hilltop
):
    rules.default_survey = group_survey
    rules.save()
    _token, raw = invitations.integration_token_create(name="PMS", by=manager)
    body = {"visits": [_visit(riverside, 1), _visit(hilltop, 2)]}
    response = client.post(
        reverse("api_visits"),
        json.dumps(body),
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {raw}",
    )
    assert [r["status"] for r in response.json()["results"]] == ["created", "created"]
    assert Invitation.objects.get(external_id="V-1").survey == site_survey
    assert Invitation.objects.get(external_id="V-2").survey == group_survey


def test_a_visit_list_is_checked_against_the_survey_in_force_at_each_site(
    rules, group_survey, site_survey, riverside, hilltop
):
    vocabulary = visits.Vocabulary()
    now = timezone.now()
    ours = visits.check_posted_visit(
        _visit(riverside, 1), survey=group_survey, vocabulary=vocabulary, now=now
    )
    theirs = visits.check_posted_visit(
        _visit(hilltop, 2), survey=group_survey, vocabulary=vocabulary, now=now
    )
    assert ours.visit.survey == site_survey
    assert theirs.visit.survey == group_survey


def test_the_groups_kiosk_poster_at_a_site_opens_the_sites_own_survey(
    client, group_survey, site_survey, riverside, hilltop
):
    desk = TouchpointFactory(name="Front desk — Riverside", location=riverside)
    hill_desk = TouchpointFactory(name="Front desk — Hilltop", location=hilltop)
    page = client.get(reverse("patient:kiosk", args=[group_survey.slug]), {"tp": desk.pk}).content.decode()
    assert "Riverside survey" in page
    assert (
        "Group survey"
        in client.get(
            reverse("patient:kiosk", args=[group_survey.slug]), {"tp": hill_desk.pk}
        ).content.decode()
    )
    question = site_survey.questions.get()
    url = reverse("patient:kiosk", args=[group_survey.slug]) + f"?tp={desk.pk}"
    response = client.post(url, {"started": started_stamp(), f"q{question.pk}": "good", "tp": desk.pk})
    assert response.status_code == 302
    stored = Response.objects.get()
    assert (stored.survey, stored.location, stored.touchpoint) == (site_survey, riverside, desk)
