"""The SLA settings page per site: the group's managers override for any site, site managers for theirs."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse

from recovery import services
from recovery.models import SlaPolicy
from recovery.sla_views import SITES_PER_PAGE
from servicedesk.models import Location
from servicedesk.security.models import AuditEvent
from tests.factories import LocationFactory, TouchpointFactory, UserFactory, open_incident
from tests.recovery.test_plan_and_sla_views import sla_data as group_sla_data


@pytest.fixture
def riverside(site_manager):
    return site_manager.location


@pytest.fixture
def hilltop(site_manager):
    return Location.objects.get(name="Hilltop")


def sla_data(**overrides) -> dict:
    """The policy form as posted: one step to the managers; the form's second row (filled from the
    group's second step) ticked for removal."""
    return group_sla_data(**{"steps-1-DELETE": "on", **overrides})


def site_edit(site, severity: str = "high") -> str:
    return reverse("recovery:sla_site_edit", args=[site.pk, severity])


def site_remove(site, severity: str = "high") -> str:
    return reverse("recovery:sla_site_remove", args=[site.pk, severity])


def own_policy(site, by, severity: str = "high") -> SlaPolicy:
    return services.sla_site_policy_save(
        location=site,
        severity=severity,
        respond_within=timedelta(hours=1),
        resolve_within=timedelta(days=1),
        steps=[services.StepSpec(after=timedelta(0), notify_role="Managers")],
        by=by,
    )


# --- Access --------------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_anonymous_visitors_are_sent_to_log_in(client, riverside):
    for url in (reverse("recovery:sla_list"), site_edit(riverside)):
        response = client.get(url)
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("login"))
    response = client.post(site_remove(riverside), {"confirmed": "yes"})
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


@pytest.mark.django_db
def test_staff_cannot_see_or_override_policies(staff_client, riverside, manager):
    own_policy(riverside, manager)
    assert staff_client.get(reverse("recovery:sla_list")).status_code == 403
    assert staff_client.get(site_edit(riverside)).status_code == 403
    assert staff_client.post(site_edit(riverside), sla_data()).status_code == 403
    assert staff_client.post(site_remove(riverside), {"confirmed": "yes"}).status_code == 403
    assert SlaPolicy.objects.filter(location=riverside).exists()


@pytest.mark.django_db
def test_a_site_manager_reads_the_groups_policies_and_sees_only_their_sites(site_manager_client, riverside):
    response = site_manager_client.get(reverse("recovery:sla_list"))
    assert response.status_code == 200
    page = response.content.decode()
    assert "4 h" in page  # the group's high policy, to read
    assert reverse("recovery:sla_edit", args=["high"]) not in page  # but not to change
    assert [site for site, _cells in response.context["rows"]] == [riverside]
    assert site_edit(riverside) in page
    assert site_manager_client.get(reverse("recovery:sla_edit", args=["high"])).status_code == 403
    data = sla_data(respond_within="1")
    assert site_manager_client.post(reverse("recovery:sla_edit", args=["high"]), data).status_code == 403
    assert services.policy_for("high").respond_within == timedelta(hours=4)


@pytest.mark.django_db
def test_a_site_manager_overrides_for_their_own_site_from_a_copy_of_the_groups(
    site_manager_client, site_manager, riverside
):
    form = site_manager_client.get(site_edit(riverside))
    assert form.status_code == 200
    assert "Override for Riverside" in form.content.decode()
    assert form.context["form"].initial["respond_within"] == timedelta(hours=4)  # the group's
    assert len(form.context["formset"].initial) == 2  # the group's two steps
    response = site_manager_client.post(site_edit(riverside), sla_data(respond_within="1"))
    assert response.status_code == 302
    own = SlaPolicy.objects.get(location=riverside, severity="high")
    assert own.respond_within == timedelta(hours=1)
    assert services.policy_for("high").respond_within == timedelta(hours=4)  # the group's stays
    event = AuditEvent.objects.get(action="created", target_type="recovery.slapolicy")
    assert event.target_label == "the SLA policy “High” for Riverside"
    assert event.actor == site_manager


@pytest.mark.django_db
def test_a_site_manager_cannot_touch_another_sites_policy(site_manager_client, hilltop, manager):
    own_policy(hilltop, manager)
    assert site_manager_client.get(site_edit(hilltop)).status_code == 404
    assert site_manager_client.post(site_edit(hilltop), sla_data(respond_within="9")).status_code == 404
    assert site_manager_client.post(site_remove(hilltop), {"confirmed": "yes"}).status_code == 404
    assert site_manager_client.post(site_edit(hilltop, "low"), sla_data()).status_code == 404
    assert SlaPolicy.objects.get(location=hilltop).respond_within == timedelta(hours=1)
    assert not SlaPolicy.objects.filter(location=hilltop, severity="low").exists()


@pytest.mark.django_db
def test_a_site_manager_edits_and_removes_their_sites_own_policy(site_manager_client, riverside, manager):
    own_policy(riverside, manager)
    page = site_manager_client.get(site_edit(riverside)).content.decode()
    assert "Use the group" in page
    assert site_manager_client.post(site_edit(riverside), sla_data(respond_within="3")).status_code == 302
    assert SlaPolicy.objects.get(location=riverside).respond_within == timedelta(hours=3)
    assert site_manager_client.post(site_remove(riverside), {"confirmed": "yes"}).status_code == 302
    assert not SlaPolicy.objects.filter(location=riverside).exists()


@pytest.mark.django_db
def test_a_group_manager_overrides_for_any_site(manager_client, riverside, hilltop):
    for site in (riverside, hilltop):
        assert manager_client.post(site_edit(site, "low"), sla_data(respond_within="1")).status_code == 302
    assert set(
        SlaPolicy.objects.filter(severity="low", location__isnull=False).values_list("location", flat=True)
    ) == {
        riverside.pk,
        hilltop.pk,
    }
    page = manager_client.get(reverse("recovery:sla_list"))
    rows = dict(page.context["rows"])
    assert dict(rows[riverside])["low"] is True
    assert dict(rows[riverside])["high"] is False


# --- Using the group's policy again ---------------------------------------------------------------------


@pytest.mark.django_db
def test_using_the_groups_policy_again_asks_first(manager_client, riverside, manager):
    own_policy(riverside, manager)
    response = manager_client.post(site_remove(riverside))
    assert response.status_code == 200
    assert "Use the group's high policy again at Riverside?" in response.content.decode().replace(
        "&#x27;", "'"
    )
    assert SlaPolicy.objects.filter(location=riverside).exists()
    assert manager_client.get(site_remove(riverside)).status_code == 405


@pytest.mark.django_db
def test_using_the_groups_policy_again_reschedules_the_sites_incidents(manager_client, riverside, manager):
    own_policy(riverside, manager)
    incident = open_incident(severity="high", touchpoint=TouchpointFactory(location=riverside))
    respond_by = incident.respond_by
    group_first_step = services.policy_for("high").steps.get(level=1).after
    response = manager_client.post(site_remove(riverside), {"confirmed": "yes"}, follow=True)
    assert "Riverside uses the group" in response.content.decode().replace("&#x27;", "'")
    incident.refresh_from_db()
    assert incident.respond_by == respond_by
    assert incident.next_escalation_at == respond_by + group_first_step
    event = AuditEvent.objects.get(action="removed", target_type="recovery.slapolicy")
    assert event.target_label == "the SLA policy “High” for Riverside"


@pytest.mark.django_db
def test_removing_a_site_policy_that_does_not_exist_is_a_404(manager_client, riverside):
    assert manager_client.post(site_remove(riverside), {"confirmed": "yes"}).status_code == 404


# --- Refused input -------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_an_override_that_resolves_before_it_responds_is_refused_and_writes_nothing(
    site_manager_client, riverside
):
    response = site_manager_client.post(site_edit(riverside), sla_data(resolve_within="1"))
    assert response.status_code == 400
    assert "cannot be due before the first response" in response.content.decode()
    assert not SlaPolicy.objects.filter(location=riverside).exists()
    assert not AuditEvent.objects.filter(target_type="recovery.slapolicy").exists()


@pytest.mark.django_db
def test_an_override_step_with_a_role_and_a_person_is_refused(manager_client, riverside, manager):
    response = manager_client.post(site_edit(riverside), sla_data(**{"steps-0-notify_user": manager.pk}))
    assert response.status_code == 400
    assert "either a role or one person" in response.content.decode()
    assert not SlaPolicy.objects.filter(location=riverside).exists()


@pytest.mark.django_db
def test_an_override_with_no_time_says_so(manager_client, riverside):
    response = manager_client.post(site_edit(riverside), sla_data(respond_within="", resolve_within="soon"))
    assert response.status_code == 400
    errors = response.context["form"].errors
    assert errors["respond_within"] == ["This field is required."]
    assert errors["resolve_within"] == ["Enter a number."]
    assert not SlaPolicy.objects.filter(location=riverside).exists()


@pytest.mark.django_db
def test_a_site_manager_cannot_name_someone_from_another_site(site_manager_client, hilltop, riverside):
    elsewhere = UserFactory(location=hilltop)
    data = sla_data(**{"steps-0-notify_role": "", "steps-0-notify_user": elsewhere.pk})
    response = site_manager_client.post(site_edit(riverside), data)
    assert response.status_code == 400
    assert "Select a valid choice" in response.content.decode()
    assert not SlaPolicy.objects.filter(location=riverside).exists()


@pytest.mark.django_db
def test_an_unknown_site_or_severity_is_a_404(manager_client, riverside):
    assert manager_client.get(site_edit(riverside, "apocalyptic")).status_code == 404
    assert manager_client.get(reverse("recovery:sla_site_edit", args=[999999, "high"])).status_code == 404


# --- A group of up to 200 sites: a page of sites at a time, found by name -----------------------------


def _names(response) -> list[str]:
    return [site.name for site, _cells in response.context["rows"]]


@pytest.mark.django_db
def test_the_policies_page_costs_the_same_at_3_and_30_sites(
    manager_client, manager, count_queries, time_machine
):
    time_machine.move_to("2026-03-02 09:00Z", tick=False)  # the session's once-a-minute write stays out
    url = reverse("recovery:sla_list")
    for site in LocationFactory.create_batch(3):
        own_policy(site, manager)
    manager_client.get(url)  # warm: the session, content types
    few = count_queries(lambda: manager_client.get(url))
    for site in LocationFactory.create_batch(27):
        own_policy(site, manager, severity="low")
    assert count_queries(lambda: manager_client.get(url)) == few
    assert count_queries(lambda: manager_client.get(url, {"page": 2})) == few
    assert count_queries(lambda: manager_client.get(url, {"q": "site"})) == few


@pytest.mark.django_db
def test_the_sites_table_shows_a_page_of_sites_at_a_time_by_name(manager_client, manager):
    sites = [LocationFactory(name=f"Site {n:02}") for n in range(SITES_PER_PAGE + 5)]
    own_policy(sites[-1], manager, severity="medium")
    url = reverse("recovery:sla_list")

    first = manager_client.get(url)
    assert _names(first) == [s.name for s in sites[:SITES_PER_PAGE]]
    page = first.content.decode()
    assert f"{SITES_PER_PAGE + 5} sites" in page
    assert 'href="?page=2#sites">Next</a>' in page
    assert "Page 1 of 2" in page
    assert "4 h" in page  # the group's policies sit above every page

    second = manager_client.get(url, {"page": 2})
    assert _names(second) == [s.name for s in sites[SITES_PER_PAGE:]]
    assert dict(dict(second.context["rows"])[sites[-1]])["medium"] is True
    assert site_edit(sites[-1], "medium") in second.content.decode()


@pytest.mark.django_db
def test_a_manager_finds_a_site_by_part_of_its_name_and_the_pages_keep_it(manager_client):
    LocationFactory(name="Hilltop Surgery")
    for n in range(SITES_PER_PAGE + 1):
        LocationFactory(name=f"Riverside {n:02}")
    url = reverse("recovery:sla_list")

    response = manager_client.get(url, {"q": "hillTOP"})
    assert _names(response) == ["Hilltop Surgery"]
    assert "1 site whose name holds “hillTOP”" in response.content.decode()

    response = manager_client.get(url, {"q": "river"})
    assert len(_names(response)) == SITES_PER_PAGE
    assert 'href="?q=river&amp;page=2#sites">Next</a>' in response.content.decode()
    assert _names(manager_client.get(url, {"q": "river", "page": 2})) == [f"Riverside {SITES_PER_PAGE:02}"]


@pytest.mark.django_db
def test_a_search_that_finds_no_site_says_so(manager_client):
    LocationFactory(name="Hilltop Surgery")
    response = manager_client.get(reverse("recovery:sla_list"), {"q": "Nowhere <b>"})
    assert response.status_code == 200
    assert _names(response) == []
    page = response.content.decode()
    assert "No site's name holds “Nowhere &lt;b&gt;”." in page
    assert "Show every site" in page


@pytest.mark.django_db
def test_a_site_manager_finds_only_among_their_own_sites(site_manager_client, riverside):
    url = reverse("recovery:sla_list")
    page = site_manager_client.get(url).content.decode()
    assert 'role="search"' not in page  # one site: nothing to search, no pages
    assert "pagination" not in page
    assert _names(site_manager_client.get(url, {"q": "Hilltop"})) == []
    assert _names(site_manager_client.get(url, {"q": "river"})) == ["Riverside"]


@pytest.mark.django_db
def test_a_closed_site_is_listed_only_while_its_own_policy_governs_its_incidents(manager_client, manager):
    closed = LocationFactory(name="Old Mill", is_active=False)
    LocationFactory(name="Closed Lane", is_active=False)
    own_policy(closed, manager)
    response = manager_client.get(reverse("recovery:sla_list"), {"q": "l"})
    assert "Old Mill" in _names(response)
    assert "Closed Lane" not in _names(response)


@pytest.mark.django_db
def test_a_search_longer_than_any_name_says_why_and_lists_every_site(manager_client, riverside):
    response = manager_client.get(reverse("recovery:sla_list"), {"q": "x" * 121})
    assert response.status_code == 200
    assert "A site's name is at most 120 characters" in response.content.decode().replace("&#x27;", "'")
    assert "Riverside" in _names(response)


@pytest.mark.django_db
def test_a_search_no_name_can_hold_is_a_bad_request(manager_client, riverside):
    response = manager_client.get(reverse("recovery:sla_list"), {"q": "river\x00"})
    assert response.status_code == 400


@pytest.mark.django_db
@pytest.mark.parametrize("number", ["0", "-1", "last", "99999999999999999999"])
def test_a_page_that_is_not_one_shows_a_page_of_sites(manager_client, riverside, number):
    response = manager_client.get(reverse("recovery:sla_list"), {"page": number})
    assert response.status_code == 200
    assert "Riverside" in _names(response)
