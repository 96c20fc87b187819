"""Pages for adopting the group's goals at sites: who may adopt where, the sites' list, a site's target.

The ``site_manager`` fixture manages Riverside; Hilltop is the group's other site.
"""

from decimal import Decimal

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from design.adoption import goal_adopt
from design.models import ServiceGoal
from servicedesk.models import Location
from tests.factories import LocationFactory, ServiceGoalFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def riverside(site_manager):
    return site_manager.location


@pytest.fixture
def hilltop(site_manager):
    return Location.objects.get(name="Hilltop")


@pytest.fixture
def group_goal(manager, answer_rate):
    return ServiceGoalFactory(
        title="Calls answered",
        metric_key="testing.calls_answered_pct",
        owner=manager,
        target=Decimal("90"),
        location=None,
    )


def _adopt(group_goal, location, by, **kwargs):
    return goal_adopt(group_goal=group_goal, location=location, by=by, now=timezone.now(), **kwargs)


def _adopt_url(goal):
    return reverse("design:goal_adopt", args=[goal.pk])


def _everywhere_url(goal):
    return reverse("design:goal_adopt_everywhere", args=[goal.pk])


# --- who may adopt where ---------------------------------------------------------------------------


def test_anonymous_visitors_are_sent_to_login(client, group_goal, riverside):
    for url in (_adopt_url(group_goal), _everywhere_url(group_goal)):
        response = client.post(url, {"location": riverside.pk})
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("login"))
    assert not group_goal.site_goals.exists()


def test_staff_cannot_adopt(staff_client, group_goal, riverside):
    assert staff_client.post(_adopt_url(group_goal), {"location": riverside.pk}).status_code == 403
    assert staff_client.post(_everywhere_url(group_goal)).status_code == 403
    assert not group_goal.site_goals.exists()


def test_a_site_manager_adopts_at_their_site(site_manager_client, site_manager, group_goal, riverside):
    response = site_manager_client.post(_adopt_url(group_goal), {"location": riverside.pk}, follow=True)
    copy = group_goal.site_goals.get()
    assert (copy.location, copy.owner) == (riverside, site_manager)
    assert response.redirect_chain[-1][0] == reverse("design:goal_detail", args=[copy.pk])
    assert "Riverside has adopted this goal" in response.content.decode()
    # twice is still one
    site_manager_client.post(_adopt_url(group_goal), {"location": riverside.pk})
    assert group_goal.site_goals.count() == 1


def test_a_site_manager_cannot_adopt_at_another_site_nor_everywhere(site_manager_client, group_goal, hilltop):
    response = site_manager_client.post(_adopt_url(group_goal), {"location": hilltop.pk})
    assert response.status_code == 403
    assert "sites you manage" in response.content.decode()
    response = site_manager_client.post(_everywhere_url(group_goal))
    assert response.status_code == 403
    assert not group_goal.site_goals.exists()


@pytest.mark.parametrize("location", ["", "abc", "999999"])
def test_adopting_without_a_real_site_is_a_bad_request(site_manager_client, group_goal, location):
    response = site_manager_client.post(_adopt_url(group_goal), {"location": location})
    assert response.status_code == 400
    assert not group_goal.site_goals.exists()


def test_only_the_groups_goals_are_adopted(manager_client, riverside):
    site_goal = ServiceGoalFactory(location=riverside)
    assert manager_client.post(_adopt_url(site_goal), {"location": riverside.pk}).status_code == 404
    assert manager_client.post(_everywhere_url(site_goal)).status_code == 404


def test_the_groups_manager_adopts_at_every_site(manager_client, group_goal, riverside, hilltop):
    response = manager_client.post(_everywhere_url(group_goal), follow=True)
    assert set(group_goal.site_goals.values_list("location", flat=True)) == {riverside.pk, hilltop.pk}
    assert "Adopted at 2 more sites" in response.content.decode()
    response = manager_client.post(_everywhere_url(group_goal), follow=True)
    assert "Every active site has this goal already" in response.content.decode()
    assert group_goal.site_goals.count() == 2


def test_a_retired_goal_is_not_adopted_and_says_why(manager_client, manager, group_goal):
    ServiceGoal.objects.filter(pk=group_goal.pk).update(status="retired", retired_at=timezone.now())
    LocationFactory()
    response = manager_client.post(_everywhere_url(group_goal), follow=True)
    assert "reactivate it before sites adopt it" in response.content.decode()
    assert not group_goal.site_goals.exists()


# --- the group goal's page -----------------------------------------------------------------------


def test_the_group_goals_page_offers_adopting_at_my_sites_only(site_manager_client, group_goal):
    page = site_manager_client.get(reverse("design:goal_detail", args=[group_goal.pk])).content.decode()
    assert "Adopt at Riverside" in page
    assert "Adopt at Hilltop" not in page
    assert "Adopt at all sites" not in page
    assert "No site has adopted this goal yet" in page


def test_the_group_goals_page_offers_the_manager_every_site(manager_client, group_goal, site_manager):
    page = manager_client.get(reverse("design:goal_detail", args=[group_goal.pk])).content.decode()
    assert "Adopt at all sites" in page


def test_staff_see_the_sites_but_no_adopt_buttons(staff_client, group_goal, manager, riverside):
    _adopt(group_goal, riverside, manager)
    page = staff_client.get(reverse("design:goal_detail", args=[group_goal.pk])).content.decode()
    assert "Riverside" in page
    assert "Adopt at" not in page


def test_the_group_goals_page_lists_each_sites_target_and_status_in_one_query(
    client, manager, group_goal, answer_rate, django_assert_num_queries
):
    answer_rate["value"] = 88.0
    client.force_login(manager)
    url = reverse("design:goal_detail", args=[group_goal.pk])
    with time_machine.travel(timezone.now(), tick=False):
        for location in LocationFactory.create_batch(2):
            _adopt(group_goal, location, manager)
        client.get(url)  # warm up: session, content types
        with CaptureQueriesContext(connection) as few:
            client.get(url)
        own = _adopt(group_goal, LocationFactory(name="Zed"), manager, target=Decimal("85"))
        for location in LocationFactory.create_batch(4):
            _adopt(group_goal, location, manager)
        with django_assert_num_queries(len(few.captured_queries)):
            response = client.get(url)
    site_goals = response.context["site_goals"]
    assert len(site_goals) == 7
    page = response.content.decode()
    assert "site's own" in page
    assert reverse("design:goal_detail", args=[own.pk]) in page
    assert {g.latest_status for g in site_goals} == {"missed", "met"}  # 88 against 90 / against 85


# --- an adopted goal's form: the definition read-only, the site's target editable -----------------


def _site_form(goal, **overrides):
    data = {
        "owner": goal.owner_id,
        "target": "85",
        "tolerance": "1",
        "read_at": goal.updated_at.isoformat(),
    }
    data.update(overrides)
    return data


def test_the_adopted_goals_form_shows_the_definition_read_only(site_manager_client, site_manager, group_goal):
    copy = _adopt(group_goal, site_manager.location, site_manager)
    response = site_manager_client.get(reverse("design:goal_update", args=[copy.pk]))
    assert response.status_code == 200
    assert set(response.context["form"].fields) == {"owner", "target", "tolerance", "read_at"}
    page = response.content.decode()
    assert 'data-testid="group-defined"' in page
    assert "Calls answered within 3 rings" in page


def test_a_site_manager_sets_their_sites_target(site_manager_client, site_manager, group_goal):
    copy = _adopt(group_goal, site_manager.location, site_manager)
    response = site_manager_client.post(reverse("design:goal_update", args=[copy.pk]), _site_form(copy))
    assert response.status_code == 302
    copy.refresh_from_db()
    assert (copy.target, copy.tolerance, copy.target_overridden, copy.version) == (
        Decimal("85"),
        Decimal("1"),
        True,
        2,
    )


def test_a_site_manager_cannot_change_the_definition_of_an_adopted_goal(
    site_manager_client, site_manager, group_goal
):
    copy = _adopt(group_goal, site_manager.location, site_manager)
    data = _site_form(copy, title="Our own words", metric_key="testing.other", period="quarter_to_date")
    site_manager_client.post(reverse("design:goal_update", args=[copy.pk]), data)
    copy.refresh_from_db()
    assert (copy.title, copy.metric_key, copy.period) == (
        "Calls answered",
        "testing.calls_answered_pct",
        "rolling_30_days",
    )
    # and the group's goal itself is not theirs to change
    url = reverse("design:goal_update", args=[group_goal.pk])
    assert site_manager_client.post(url, {"title": "Ours"}).status_code == 403


def test_a_site_manager_cannot_set_another_sites_target(site_manager_client, manager, group_goal, hilltop):
    copy = _adopt(group_goal, hilltop, manager)
    response = site_manager_client.post(reverse("design:goal_update", args=[copy.pk]), _site_form(copy))
    assert response.status_code == 403
    copy.refresh_from_db()
    assert copy.target == Decimal("90")


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        ({"target": "150"}, "target", "cannot be above 100"),
        ({"target": "lots"}, "target", "Enter the target as a number"),
        ({"tolerance": "-1"}, "tolerance", "cannot be negative"),
    ],
)
def test_a_bad_site_target_is_refused_with_the_forms_message(
    site_manager_client, site_manager, group_goal, overrides, field, message
):
    copy = _adopt(group_goal, site_manager.location, site_manager)
    response = site_manager_client.post(
        reverse("design:goal_update", args=[copy.pk]), _site_form(copy, **overrides)
    )
    assert response.status_code == 400
    assert message in " ".join(response.context["form"].errors[field])
    assert 'id="error-summary"' in response.content.decode()
    copy.refresh_from_db()
    assert (copy.target, copy.version) == (Decimal("90"), 1)


def test_the_groups_change_reaches_the_site_but_not_its_own_target(manager_client, manager, group_goal):
    following = _adopt(group_goal, LocationFactory(), manager)
    own = _adopt(group_goal, LocationFactory(), manager, target=Decimal("80"))
    data = {
        "title": "Calls answered quickly",
        "purpose": "",
        "pillar": "design",
        "owner": manager.pk,
        "metric_key": "testing.calls_answered_pct",
        "metric_params": "",
        "period": "rolling_30_days",
        "comparator": "gte",
        "target": "92",
        "tolerance": "0",
        "review_on": group_goal.review_on.isoformat(),
        "read_at": group_goal.updated_at.isoformat(),
    }
    response = manager_client.post(reverse("design:goal_update", args=[group_goal.pk]), data)
    assert response.status_code == 302
    following.refresh_from_db()
    own.refresh_from_db()
    assert (following.title, following.target) == ("Calls answered quickly", Decimal("92"))
    assert (own.title, own.target) == ("Calls answered quickly", Decimal("80"))


# --- the list, retiring and reactivating -----------------------------------------------------------


def test_the_goals_list_says_which_group_goal_a_site_goal_was_adopted_from(client, manager, group_goal):
    from tests.factories import UserFactory

    brook = LocationFactory(name="Brook")
    _adopt(group_goal, brook, manager)
    client.force_login(UserFactory(location=brook))
    page = client.get(reverse("design:goal_list")).content.decode()
    assert "adopted from Calls answered" in page


def test_retiring_the_group_goal_says_the_sites_retire_theirs_and_reactivating_leaves_them(
    manager_client, manager, group_goal
):
    copy = _adopt(group_goal, LocationFactory(), manager)
    _adopt(group_goal, LocationFactory(), manager)
    asked = manager_client.post(reverse("design:goal_retire", args=[group_goal.pk])).content.decode()
    assert "The 2 sites that adopted it retire theirs too" in asked
    manager_client.post(reverse("design:goal_retire", args=[group_goal.pk]), {"confirmed": "yes"})
    copy.refresh_from_db()
    assert not copy.is_active

    page = manager_client.get(reverse("design:goal_detail", args=[group_goal.pk])).content.decode()
    assert 'id="reactivate-note"' in page
    response = manager_client.post(reverse("design:goal_reactivate", args=[group_goal.pk]), follow=True)
    assert "adopted copies stay retired" in response.content.decode()
    copy.refresh_from_db()
    assert not copy.is_active


def test_reactivating_a_sites_copy_of_a_retired_group_goal_explains(manager_client, manager, group_goal):
    copy = _adopt(group_goal, LocationFactory(), manager)
    manager_client.post(reverse("design:goal_retire", args=[group_goal.pk]), {"confirmed": "yes"})
    response = manager_client.post(reverse("design:goal_reactivate", args=[copy.pk]), follow=True)
    assert "reactivates it first" in response.content.decode()
    copy.refresh_from_db()
    assert not copy.is_active


def test_staff_are_asked_to_acknowledge_their_sites_copy_only(client, manager, group_goal):
    from tests.factories import UserFactory

    ashford, brook = LocationFactory(name="Ashford"), LocationFactory(name="Brook")
    own = _adopt(group_goal, ashford, manager)
    other = _adopt(group_goal, brook, manager)
    client.force_login(UserFactory(location=ashford))
    listed = list(client.get(reverse("design:goal_list")).context["page"].object_list)
    assert own in listed
    assert group_goal in listed
    assert other not in listed
    to_acknowledge = client.get(reverse("my_work")).context["goals_to_acknowledge"]
    assert other not in to_acknowledge
    assert own in to_acknowledge
