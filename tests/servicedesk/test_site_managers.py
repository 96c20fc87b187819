"""Site managers: a group's site manager manages and sees only their own sites (issue 19).

The ``site_manager`` fixture manages Riverside; Hilltop is the group's other site. What every
page answers each role is in test_url_access; here, what a site manager sees and may change.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.urls import reverse

from delivery.models import ChecklistTemplate
from recovery import services as recovery_services
from recovery.models import SlaPolicy
from servicedesk.models import Location, User
from servicedesk.roles import Role
from servicedesk.security.twofactor import needs_two_factor
from tests.factories import (
    ChecklistTemplateFactory,
    LocationFactory,
    ServiceGoalFactory,
    TouchpointFactory,
    UserFactory,
    open_incident,
)

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=ZoneInfo("Europe/London"))


@pytest.fixture
def hilltop(site_manager):
    return Location.objects.get(name="Hilltop")


def _member(username: str, **kwargs) -> dict:
    return {
        "username": username,
        "first_name": "Jo",
        "last_name": "Smith",
        "email": f"{username}@practice.example",
        "role": Role.STAFF.value,
        **kwargs,
    }


# --- Who they are ------------------------------------------------------------------------------


@pytest.mark.django_db
def test_a_site_manager_manages_their_own_sites_only(site_manager, hilltop):
    riverside = site_manager.location
    assert site_manager.role == Role.SITE_MANAGER
    assert site_manager.is_site_manager
    assert not site_manager.is_manager
    assert site_manager.is_team_member
    assert site_manager.managed_site_ids == {riverside.pk}
    assert site_manager.manages_site(riverside.pk)
    assert not site_manager.manages_site(hilltop.pk)
    assert not site_manager.manages_site(None)  # work tied to no site is the group's


@pytest.mark.django_db
def test_the_groups_managers_manage_every_site_and_staff_none(manager, staff, location):
    assert manager.managed_site_ids is None
    assert manager.manages_site(location.pk)
    assert staff.managed_site_ids == frozenset()
    assert not staff.manages_site(location.pk)


@pytest.mark.django_db
def test_site_managers_need_a_second_factor_as_managers_do(site_manager, staff):
    assert needs_two_factor(site_manager)
    assert not needs_two_factor(staff)


@pytest.mark.django_db
def test_a_site_manager_lands_on_the_dashboard(site_manager_client):
    response = site_manager_client.get(reverse("home"))
    assert response["Location"] == reverse("dashboard")
    page = site_manager_client.get(reverse("dashboard")).content.decode()
    assert 'href="/team/"' in page  # their team is in the menu; the group's settings are not
    assert reverse("location_list") not in page


# --- The dashboard -----------------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_dashboard_shows_a_site_manager_their_site(site_manager_client, site_manager, hilltop):
    response = site_manager_client.get(reverse("dashboard"))
    assert response.status_code == 200
    form = response.context["form"]
    assert list(form.fields["location"].queryset) == [site_manager.location]
    assert response.context["scope"].location == site_manager.location
    assert "All locations" not in response.content.decode()


@pytest.mark.django_db
def test_a_site_manager_cannot_open_another_sites_dashboard(site_manager_client, hilltop):
    for url in (reverse("dashboard"), reverse("dashboard_export")):
        response = site_manager_client.get(url, {"location": hilltop.pk})
        assert response.status_code == 400, url
        assert "Select a valid choice" in response.content.decode()


@pytest.mark.django_db
def test_a_site_managers_export_is_about_their_site(site_manager_client, site_manager):
    response = site_manager_client.get(reverse("dashboard_export"))
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")


@pytest.mark.django_db
def test_a_site_manager_with_no_site_is_told_what_to_ask_for(client):
    nowhere = UserFactory(role=Role.SITE_MANAGER, location=None)
    client.force_login(nowhere)
    response = client.get(reverse("dashboard"))
    assert response.status_code == 403
    assert "You manage no site yet" in response.content.decode().replace("&#x27;", "'")


# --- The team ------------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_team_page_lists_the_people_of_their_sites(site_manager_client, site_manager, hilltop):
    riverside = site_manager.location
    here = UserFactory(first_name="Riya", location=riverside)
    visiting = UserFactory(first_name="Vic", location=hilltop)
    visiting.other_locations.add(riverside)
    elsewhere = UserFactory(first_name="Elsa", location=hilltop)
    group_manager = UserFactory(manager=True, first_name="Gita", location=riverside)
    response = site_manager_client.get(reverse("team_list"))
    listed = set(response.context["object_list"])
    assert {here, visiting, site_manager} <= listed
    assert elsewhere not in listed
    assert group_manager not in listed
    assert "What staff see" not in response.content.decode()  # the group's setting


@pytest.mark.django_db
def test_a_site_manager_adds_staff_to_their_site(site_manager_client, site_manager, settings):
    settings.CELERY_TASK_ALWAYS_EAGER = True
    response = site_manager_client.post(
        reverse("staff_member_create"), _member("newnurse", location=site_manager.location_id)
    )
    assert response.status_code == 302
    member = User.objects.get(username="newnurse")
    assert member.role == Role.STAFF
    assert member.location == site_manager.location


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"role": Role.MANAGER.value}, "Select a valid choice"),
        ({"location": "hilltop"}, "Select a valid choice"),
        ({"location": ""}, "This field is required"),
    ],
)
def test_a_site_manager_cannot_give_the_groups_role_or_another_site(
    site_manager_client, site_manager, hilltop, change, message
):
    data = _member("overreach", location=site_manager.location_id)
    data.update({k: (hilltop.pk if v == "hilltop" else v) for k, v in change.items()})
    response = site_manager_client.post(reverse("staff_member_create"), data)
    assert response.status_code == 400
    assert message in response.content.decode()
    assert not User.objects.filter(username="overreach").exists()


@pytest.mark.django_db
def test_a_site_manager_cannot_open_people_they_do_not_manage(site_manager_client, site_manager, hilltop):
    elsewhere = UserFactory(location=hilltop)
    group_manager = UserFactory(manager=True, location=site_manager.location)
    for person in (elsewhere, group_manager):
        assert site_manager_client.get(reverse("staff_member_update", args=[person.pk])).status_code == 404
        url = reverse("staff_member_send_password_link", args=[person.pk])
        assert site_manager_client.post(url).status_code == 404


@pytest.mark.django_db
def test_editing_someone_who_also_covers_another_site_keeps_that_site(
    site_manager_client, site_manager, hilltop
):
    riverside = site_manager.location
    nurse = UserFactory(username="nurse2", location=riverside)
    nurse.other_locations.add(hilltop)
    data = _member("nurse2", location=riverside.pk, role=Role.SITE_MANAGER.value, is_active="on")
    data["email"] = nurse.email
    response = site_manager_client.post(reverse("staff_member_update", args=[nurse.pk]), data)
    assert response.status_code == 302
    nurse = User.objects.get(pk=nurse.pk)
    assert nurse.role == Role.SITE_MANAGER
    assert set(nurse.other_locations.all()) == {hilltop}  # not theirs to take away


# --- Escalations and reminders go to the site's own managers -----------------------------------------


@pytest.mark.django_db
def test_an_escalation_to_site_managers_reaches_only_the_incidents_sites(site_manager, hilltop, mailoutbox):
    riverside = site_manager.location
    UserFactory(role=Role.SITE_MANAGER, location=hilltop, email="hilltop-lead@practice.example")
    group_manager = UserFactory(manager=True)
    policy = SlaPolicy.objects.get(severity="low")
    recovery_services.sla_policy_update(
        policy=policy,
        respond_within=timedelta(hours=1),
        resolve_within=timedelta(days=1),
        steps=[recovery_services.StepSpec(after=timedelta(minutes=30), notify_role=Role.SITE_MANAGER)],
        by=group_manager,
    )
    open_incident(severity="low", touchpoint=TouchpointFactory(location=riverside), now=T0)
    assert recovery_services.incidents_escalate_due(now=T0 + timedelta(hours=1, minutes=30)) == 1
    assert [m.to for m in mailoutbox] == [[site_manager.email]]


@pytest.mark.django_db
def test_people_with_a_role_at_a_site_include_those_covering_it(site_manager, hilltop):
    covering = UserFactory(role=Role.SITE_MANAGER, location=hilltop)
    covering.other_locations.add(site_manager.location)
    UserFactory(role=Role.SITE_MANAGER, location=LocationFactory())
    at_riverside = User.objects.with_role(Role.SITE_MANAGER, site_id=site_manager.location_id)
    assert set(at_riverside) == {site_manager, covering}


# --- Goals and checklists: the group's for every site, a site manager's for theirs -----------------


@pytest.mark.django_db
def test_a_site_manager_sets_a_goal_for_their_site_only(site_manager_client, site_manager, hilltop):
    from design.models import ServiceGoal

    form = site_manager_client.get(reverse("design:goal_create")).context["form"]
    assert list(form.fields["location"].queryset) == [site_manager.location]
    assert list(form.fields["owner"].queryset) == [site_manager]
    group_goal = ServiceGoalFactory(location=None)
    other_site = ServiceGoalFactory(location=hilltop)
    own = ServiceGoalFactory(location=site_manager.location, owner=site_manager)
    for goal in (group_goal, other_site):
        response = site_manager_client.get(reverse("design:goal_update", args=[goal.pk]))
        assert response.status_code == 403
        assert "ask one of the group's managers" in response.content.decode().replace("&#x27;", "'")
        assert site_manager_client.post(reverse("design:goal_retire", args=[goal.pk])).status_code == 403
    assert site_manager_client.get(reverse("design:goal_update", args=[own.pk])).status_code == 200
    detail = site_manager_client.get(reverse("design:goal_detail", args=[group_goal.pk]))
    assert detail.status_code == 200  # they read the group's goals, as staff do
    assert reverse("design:goal_update", args=[group_goal.pk]) not in detail.content.decode()
    response = site_manager_client.post(reverse("design:goal_retire", args=[own.pk]), {"confirmed": "yes"})
    assert response.status_code == 302
    assert ServiceGoal.objects.get(pk=own.pk).status == ServiceGoal.Status.RETIRED


@pytest.mark.django_db
def test_a_site_manager_manages_their_sites_checklists_only(site_manager_client, site_manager, hilltop):
    own = ChecklistTemplateFactory(location=site_manager.location, title="Riverside opening")
    ChecklistTemplateFactory(location=hilltop, title="Hilltop opening")
    group = ChecklistTemplateFactory(location=None, title="Group fire safety")
    response = site_manager_client.get(reverse("delivery:overview"))
    page = response.content.decode()
    assert "Riverside opening" in page
    assert "Hilltop opening" not in page
    listed = [template for _, templates, _ in response.context["sections"] for template in templates]
    assert group not in listed  # the group's are read-only, listed apart, to adopt
    assert response.context["group_checklists"] == [group]
    for template in ChecklistTemplate.objects.exclude(pk=own.pk):
        names = ("delivery:template_update", "delivery:item_create")
        if template != group:  # the group's checklists they read, to adopt them (test_adoption)
            names += ("delivery:template_detail",)
        for name in names:
            assert site_manager_client.get(reverse(name, args=[template.pk])).status_code == 404, name
    group_page = site_manager_client.get(
        reverse("delivery:template_detail", args=[group.pk])
    ).content.decode()
    assert reverse("delivery:template_update", args=[group.pk]) not in group_page
    assert reverse("delivery:item_create", args=[group.pk]) not in group_page
    form = site_manager_client.get(reverse("delivery:template_update", args=[own.pk])).context["form"]
    assert list(form.fields["location"].queryset) == [site_manager.location]
    response = site_manager_client.post(reverse("delivery:item_create", args=[own.pk]), {"text": "Lights on"})
    assert response.status_code == 302
    assert list(own.items.values_list("text", flat=True)) == ["Lights on"]
