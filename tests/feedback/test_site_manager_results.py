"""Site managers and feedback (issue 19): the survey list, results, export, response rates and
invitations, always about their own sites.

The ``site_manager`` fixture manages Riverside; Hilltop is the group's other site.
"""

from __future__ import annotations

import csv
import io
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from feedback.models import Invitation
from servicedesk.models import Location
from tests.factories import (
    AnswerFactory,
    InvitationFactory,
    LocationFactory,
    QuestionFactory,
    ResponseFactory,
    SurveyFactory,
)

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 11, 20, 10, 0, tzinfo=ZoneInfo("Europe/London"))


@pytest.fixture(autouse=True)
def _clock(time_machine):
    time_machine.move_to(NOW, tick=False)


@pytest.fixture
def riverside(site_manager):
    return site_manager.location


@pytest.fixture
def hilltop(site_manager):
    return Location.objects.get(name="Hilltop")


@pytest.fixture
def group_survey(db):
    survey = SurveyFactory(title="After your visit", slug="after-visit")
    QuestionFactory(survey=survey, position=0, kind="fft", text="Overall?")
    QuestionFactory(survey=survey, position=1, kind="text", text="Why?")
    return survey


def answer(survey, location, *, fft="very_good", text=""):
    response = ResponseFactory(survey=survey, location=location)
    questions = {q.kind: q for q in survey.questions.all()}
    AnswerFactory(response=response, question=questions["fft"], choice=fft, value=5)
    if text:
        AnswerFactory(response=response, question=questions["text"], choice="", value=None, text=text)
    return response


# --- Who may open each page --------------------------------------------------------------------

PAGES = [
    ("feedback:survey_list", False),
    ("feedback:survey_results", True),
    ("feedback:survey_export", True),
    ("invitations:invitation_report", False),
    ("invitations:invitation_list", False),
]


def _url(name: str, needs_survey: bool, survey) -> str:
    return reverse(name, args=[survey.pk]) if needs_survey else reverse(name)


@pytest.mark.parametrize(("name", "needs_survey"), PAGES)
def test_the_pages_send_anonymous_visitors_to_log_in(client, group_survey, name, needs_survey):
    response = client.get(_url(name, needs_survey, group_survey))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


@pytest.mark.parametrize(("name", "needs_survey"), PAGES)
def test_the_pages_are_refused_to_staff(staff_client, group_survey, name, needs_survey):
    assert staff_client.get(_url(name, needs_survey, group_survey)).status_code == 403


@pytest.mark.parametrize(("name", "needs_survey"), PAGES)
def test_the_pages_open_for_site_managers_and_managers(
    site_manager_client, manager, group_survey, name, needs_survey
):
    assert site_manager_client.get(_url(name, needs_survey, group_survey)).status_code == 200
    site_manager_client.force_login(manager)
    assert site_manager_client.get(_url(name, needs_survey, group_survey)).status_code == 200


# --- What a site manager sees ------------------------------------------------------------------


def test_a_site_manager_lists_the_groups_surveys_and_their_sites_not_another_sites(
    site_manager_client, riverside, hilltop, group_survey
):
    ours = SurveyFactory(title="Riverside phone", location=riverside)
    theirs = SurveyFactory(title="Hilltop phone", location=hilltop)
    answer(group_survey, riverside)
    answer(group_survey, hilltop)
    answer(group_survey, hilltop)
    response = site_manager_client.get(reverse("feedback:survey_list"))
    shown = list(response.context["surveys"])
    assert group_survey in shown
    assert ours in shown
    assert theirs not in shown
    assert response.context["recent"] == {group_survey.pk: 1}  # Hilltop's two answers are not theirs
    page = response.content.decode()
    assert "Hilltop phone" not in page
    assert "Riverside only" in page
    assert "Every site (the group" in page
    assert f'href="{reverse("feedback:survey_builder", args=[ours.pk])}"' in page
    assert f'href="{reverse("feedback:survey_builder", args=[group_survey.pk])}"' not in page  # the group's


def test_the_groups_managers_list_every_survey(manager_client, hilltop, riverside, group_survey):
    theirs = SurveyFactory(title="Hilltop phone", location=hilltop)
    assert theirs in manager_client.get(reverse("feedback:survey_list")).context["surveys"]


def test_another_sites_survey_is_not_found_for_a_site_manager(site_manager_client, hilltop):
    theirs = SurveyFactory(location=hilltop)
    for name in ("feedback:survey_results", "feedback:survey_export"):
        assert site_manager_client.get(reverse(name, args=[theirs.pk])).status_code == 404


def test_a_site_manager_sees_the_group_surveys_results_from_their_site_only(
    site_manager_client, riverside, hilltop, group_survey, settings
):
    settings.FEEDBACK_SMALL_NUMBER = 2
    for _i in range(3):
        answer(group_survey, riverside, fft="poor", text="Riverside said this")
    for _i in range(4):
        answer(group_survey, hilltop, fft="very_good", text="Hilltop said that")
    response = site_manager_client.get(reverse("feedback:survey_results", args=[group_survey.pk]))
    assert response.status_code == 200
    results = response.context["results"]
    assert results.scope.location_id == riverside.pk
    assert results.total == 3
    assert results.fft_counts == {"poor": 3}
    assert [row.label for row in results.by_location] == ["Riverside"]
    page = response.content.decode()
    assert "Riverside said this" in page
    assert "Hilltop said that" not in page
    assert f'value="{hilltop.pk}"' not in page  # the filter offers only their sites
    assert reverse("feedback:response_list") not in page  # the group's pages are not offered


def test_small_numbers_are_suppressed_per_site(
    site_manager_client, riverside, hilltop, group_survey, settings
):
    settings.FEEDBACK_SMALL_NUMBER = 5
    answer(group_survey, riverside, fft="very_poor")
    for _i in range(10):
        answer(group_survey, hilltop)
    results = site_manager_client.get(reverse("feedback:survey_results", args=[group_survey.pk])).context[
        "results"
    ]
    assert results.total == 1
    assert results.suppressed
    assert results.fft_suppressed  # the group has 11 answers, but this site's one is not shown


def test_asking_for_another_sites_results_is_refused_with_the_forms_message(
    site_manager_client, hilltop, group_survey
):
    answer(group_survey, hilltop, text="Hilltop said that")
    for name in ("feedback:survey_results", "feedback:survey_export"):
        response = site_manager_client.get(reverse(name, args=[group_survey.pk]), {"location": hilltop.pk})
        assert response.status_code == 400, name
        page = response.content.decode()
        assert "Select a valid choice" in page
        assert "Hilltop said that" not in page
        assert response.context["results"] is None


def test_the_groups_managers_still_see_every_site_by_default(
    manager_client, riverside, hilltop, group_survey
):
    answer(group_survey, riverside)
    answer(group_survey, hilltop)
    response = manager_client.get(reverse("feedback:survey_results", args=[group_survey.pk]))
    assert response.context["results"].total == 2
    assert response.context["results"].scope.location_id is None


def _csv(response) -> list[list[str]]:
    return list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode("utf-8-sig"))))


def test_a_site_managers_export_holds_their_sites_rows_only(
    site_manager_client, riverside, hilltop, group_survey
):
    ours = [answer(group_survey, riverside) for _i in range(2)]
    answer(group_survey, hilltop)
    rows = _csv(site_manager_client.get(reverse("feedback:survey_export", args=[group_survey.pk])))
    assert sorted(int(row[0]) for row in rows[1:]) == sorted(r.pk for r in ours)
    assert {row[5] for row in rows[1:]} == {"Riverside"}


def test_a_site_manager_cannot_download_a_few_staff_answers_from_their_site(
    site_manager_client, riverside, settings
):
    settings.FEEDBACK_SMALL_NUMBER = 5
    pulse = SurveyFactory(audience="staff", slug="pulse")
    QuestionFactory(survey=pulse, kind="fft")
    ResponseFactory(survey=pulse, location=riverside, channel="staff")
    response = site_manager_client.get(reverse("feedback:survey_export", args=[pulse.pk]))
    assert response.status_code == 400
    assert "Too few answers" in response.content.decode()


# --- Invitations and response rates ------------------------------------------------------------


def _invitation(survey, location, **fields):
    return InvitationFactory(survey=survey, location=location, sent_at=NOW, **fields)


def test_a_site_manager_lists_their_sites_invitations_only(
    site_manager_client, riverside, hilltop, group_survey
):
    ours = _invitation(group_survey, riverside)
    _invitation(group_survey, hilltop)
    response = site_manager_client.get(reverse("invitations:invitation_list"))
    assert response.status_code == 200
    assert list(response.context["object_list"]) == [ours]
    page = response.content.decode()
    assert reverse("invitations:invitation_rules") not in page  # the group's pages are not offered


def test_asking_for_another_sites_invitations_is_refused(site_manager_client, hilltop, group_survey):
    _invitation(group_survey, hilltop, first_name="Hillary")
    response = site_manager_client.get(reverse("invitations:invitation_list"), {"location": hilltop.pk})
    assert response.status_code == 400
    page = response.content.decode()
    assert "Select a valid choice" in page
    assert "Hillary" not in page


def test_a_bad_filter_is_refused_to_a_site_manager_rather_than_showing_every_site(
    site_manager_client, hilltop, group_survey
):
    _invitation(group_survey, hilltop, first_name="Hillary")
    response = site_manager_client.get(reverse("invitations:invitation_list"), {"visit_from": "nonsense"})
    assert response.status_code == 400
    assert "Hillary" not in response.content.decode()


def test_a_site_managers_response_rates_count_their_sites_invitations(
    site_manager_client, riverside, hilltop, group_survey
):
    _invitation(group_survey, riverside, status=Invitation.Status.COMPLETED, completed_at=NOW)
    _invitation(group_survey, riverside)
    for _i in range(3):
        _invitation(group_survey, hilltop)
    response = site_manager_client.get(reverse("invitations:invitation_report"))
    [row] = response.context["rows"]
    assert (row["sent"], row["completed"], row["rate"]) == (2, 1, 50.0)
    refused = site_manager_client.get(reverse("invitations:invitation_report"), {"location": hilltop.pk})
    assert refused.status_code == 400
    assert "Select a valid choice" in refused.content.decode()


def test_the_groups_managers_response_rates_cover_every_site_or_one(
    manager_client, riverside, hilltop, group_survey
):
    _invitation(group_survey, riverside)
    _invitation(group_survey, hilltop)
    [row] = manager_client.get(reverse("invitations:invitation_report")).context["rows"]
    assert row["sent"] == 2
    [row] = manager_client.get(reverse("invitations:invitation_report"), {"location": hilltop.pk}).context[
        "rows"
    ]
    assert row["sent"] == 1


# --- The lists cost the same however many sites there are ----------------------------------------


def _queries(client, url: str) -> int:
    with CaptureQueriesContext(connection) as queries:
        assert client.get(url).status_code == 200
    return len(queries)


@pytest.mark.parametrize(
    "name", ["feedback:survey_list", "invitations:invitation_list", "invitations:invitation_report"]
)
def test_a_site_managers_list_pages_cost_the_same_however_many_sites(
    site_manager, client, group_survey, name
):
    riverside = site_manager.location
    client.force_login(site_manager)
    url = reverse(name)

    def add_site(n: int) -> None:
        site = LocationFactory(name=f"Site {n}")
        SurveyFactory(location=site)
        _invitation(group_survey, site)
        _invitation(group_survey, riverside)
        answer(group_survey, site)

    add_site(1)
    _queries(client, url)  # warm: the session, the practice settings in the cache
    before = _queries(client, url)
    for n in range(2, 6):
        add_site(n)
    site_manager.other_locations.add(*Location.objects.filter(name__in=["Site 2", "Site 3"]))
    assert _queries(client, url) == before


def test_a_site_manager_covering_two_sites_chooses_between_them(site_manager, client, group_survey):
    other = LocationFactory(name="Dale")
    site_manager.other_locations.add(other)
    client.force_login(site_manager)
    answer(group_survey, other)
    response = client.get(reverse("feedback:survey_results", args=[group_survey.pk]), {"location": other.pk})
    assert response.status_code == 200
    assert response.context["results"].total == 1
