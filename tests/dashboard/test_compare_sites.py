"""The group's comparison between sites: who may open it, what it names, its empty states, bad
input, and a cost that does not grow with the number of sites."""

from __future__ import annotations

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from dashboard.models import SiteDay
from tests.factories import LocationFactory

pytestmark = pytest.mark.django_db
URL = reverse("dashboard_compare")


def _fft(location, *, positive: int, total: int, day=None) -> None:
    """A site's FFT answers of a day, in the per-site summary the comparison reads."""
    SiteDay.objects.update_or_create(
        day=day or timezone.localdate(),
        location=location,
        defaults={"fft_very_good": positive, "fft_poor": total - positive, "refreshed_at": timezone.now()},
    )


def _group_with_outliers() -> dict[str, object]:
    # The worked example of test_comparison_stats: pooled 800 / 1000 = 80 %.
    sites = {name: LocationFactory(name=name) for name in ("Ashford", "Brook", "Cedar", "Dale", "Elm")}
    _fft(sites["Ashford"], positive=95, total=100)  # above 99.8 %
    _fft(sites["Brook"], positive=340, total=400)  # above 95 % only
    _fft(sites["Cedar"], positive=320, total=400)  # within
    _fft(sites["Dale"], positive=45, total=96)  # below 99.8 %
    _fft(sites["Elm"], positive=0, total=4)  # too few to compare: never named
    return sites


def test_anonymous_visitors_are_sent_to_login(client):
    response = client.get(URL)
    assert response.status_code == 302
    assert reverse("login") in response["Location"]


def test_staff_are_refused_the_comparison(staff_client):
    assert staff_client.get(URL).status_code == 403


def test_a_group_manager_sees_the_outliers_named_under_the_right_limit(manager_client):
    _group_with_outliers()
    response = manager_client.get(URL)
    assert response.status_code == 200
    outside = {group.title: [site.label for site in group.sites] for group in response.context["outside"]}
    assert outside == {
        "Above the 99.8 % limit (better than the group)": ["Ashford"],
        "Below the 99.8 % limit (worse than the group)": ["Dale"],
        "Above the 95 % limit only (better than the group)": ["Brook"],
        "Below the 95 % limit only (worse than the group)": [],
    }
    page = response.content.decode()
    assert "Outside the limits" in page
    assert 'role="img"' in page
    assert '<title id="funnel-title">' in page
    assert "<desc" in page
    # On the plot the 99.8 % outliers are labelled; Brook, outside 95 % only, is a red dot named in the list.
    labels = re.findall(r'class="funnel-label">([^<]*)<', page)
    assert sorted(labels) == ["Ashford", "Dale"]
    assert page.count('fill="#b02a37"') == 3


def test_a_site_with_too_few_answers_is_never_named_an_outlier(manager_client):
    _group_with_outliers()
    response = manager_client.get(URL)
    named = [site.label for group in response.context["outside"] for site in group.sites]
    assert "Elm" not in named
    rows = {site.label: where for site, _shown, where in response.context["rows"]}
    assert rows["Elm"] == "too few to compare"


def test_the_table_lists_every_site_best_first_with_too_few_last(manager_client):
    _group_with_outliers()
    rows = manager_client.get(URL).context["rows"]
    assert [site.label for site, _shown, _where in rows] == ["Ashford", "Brook", "Cedar", "Dale", "Elm"]
    by_volume = manager_client.get(URL, {"order": "volume"}).context["rows"]
    assert [site.label for site, _shown, _where in by_volume][:2] == ["Brook", "Cedar"]


def test_the_group_median_and_quartiles_are_shown(manager_client):
    _group_with_outliers()
    page = manager_client.get(URL).content.decode()
    assert "82.5 %" in page  # median of 95, 85, 80, 46.875
    assert "71.7 %" in page
    assert "87.5 %" in page


def test_response_time_compares_the_mean_in_hours_with_lower_being_better(manager_client):
    today = timezone.localdate()
    fast, slow = LocationFactory(name="Fast"), LocationFactory(name="Slow")
    # Fast: 10 incidents of 1 h; Slow: 10 of 3 h. Pooled mean 2 h.
    for site, seconds in ((fast, 3600.0), (slow, 10800.0)):
        SiteDay.objects.create(
            day=today,
            location=site,
            incidents_responded=10,
            response_seconds=10 * seconds,
            response_seconds_squared=10 * seconds**2,
            refreshed_at=timezone.now(),
        )
    response = manager_client.get(URL, {"figure": "response"})
    assert response.status_code == 200
    assert response.context["funnel"].limits.target == pytest.approx(2.0)
    assert [site.label for site, _shown, _where in response.context["rows"]] == ["Fast", "Slow"]


def test_no_sites_says_so_instead_of_drawing_a_chart(manager_client):
    response = manager_client.get(URL)
    assert response.status_code == 200
    assert response.context["chart"] is None
    assert "no active sites to compare" in response.content.decode()


def test_sites_without_data_say_there_is_too_little_to_compare(manager_client):
    LocationFactory(name="Quiet")
    response = manager_client.get(URL, {"figure": "goals"})
    assert response.status_code == 200
    assert response.context["chart"] is None
    assert "No site has enough data" in response.content.decode()


@pytest.mark.parametrize(
    "query", [{"figure": "nonsense"}, {"days": "7000"}, {"days": "x"}, {"order": "drop table"}]
)
def test_bad_choices_are_refused_with_a_400_not_a_500(manager_client, query):
    response = manager_client.get(URL, query)
    assert response.status_code == 400
    assert "could not use this choice" in response.content.decode()


@pytest.mark.parametrize("figure", ["fft", "nps", "response", "recovery", "checklists", "goals"])
def test_the_page_costs_the_same_queries_for_3_sites_as_for_30(manager_client, figure):
    def grow(n: int) -> None:
        for i in range(n):
            site = LocationFactory()
            SiteDay.objects.create(
                day=timezone.localdate(),
                location=site,
                fft_very_good=10 + i,
                fft_poor=30 - i,
                incidents_responded=5,
                response_seconds=5 * 3600.0,
                response_seconds_squared=5 * 3600.0**2,
                recovery_answered=10,
                recovery_succeeded=i % 10,
                checks_completed=20,
                checks_missed=i % 7,
                goal_days_measured=30,
                goal_days_met=20 + i % 10,
                refreshed_at=timezone.now(),
            )

    def load() -> None:
        assert manager_client.get(URL, {"figure": figure}).status_code == 200

    def queries() -> list[str]:
        load()  # warm: session, user (and "last seen", written at most once a minute)
        with CaptureQueriesContext(connection) as captured:
            load()
        return [query["sql"][:90] for query in captured.captured_queries]

    grow(3)
    small = queries()
    grow(27)
    large = queries()
    assert len(small) == len(large), "\n".join(["3 sites:", *small, "30 sites:", *large])
    assert len(large) <= 6  # session, user, authenticator, role; the summaries; the sites


def test_only_group_managers_get_the_link_in_the_navigation(client, manager, staff):
    link = f'href="{URL}"'
    client.force_login(staff)
    assert link not in client.get(reverse("my_work")).content.decode()
    client.force_login(manager)
    assert link in client.get(reverse("dashboard")).content.decode()


def test_a_sites_dashboard_shows_its_quarter_among_the_sites(manager_client):
    sites = _group_with_outliers()
    response = manager_client.get(reverse("dashboard"), {"location": sites["Ashford"].pk})
    page = response.content.decode()
    assert "Top quarter of 4 sites for FFT % positive" in page
    response = manager_client.get(reverse("dashboard"), {"location": sites["Dale"].pk})
    assert "Bottom quarter of 4 sites for FFT % positive" in response.content.decode()
    response = manager_client.get(reverse("dashboard"), {"location": sites["Elm"].pk})
    assert "FFT % positive: too few to compare" in response.content.decode()
