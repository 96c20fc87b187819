"""A group of sites: the group's checklists adopted, and overridden, at each site (issue 19)."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from delivery import adoption, services
from delivery.models import ChecklistItem, ChecklistResult, ChecklistRun, ChecklistTemplate
from delivery.tasks import schedule_runs
from servicedesk.models import Location
from servicedesk.roles import Role
from servicedesk.security.models import AuditEvent
from tests.concurrency import at_once
from tests.factories import (
    ChecklistItemFactory,
    ChecklistRunFactory,
    ChecklistTemplateFactory,
    LocationFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db

DAY = datetime(2026, 3, 10, 6, 0, tzinfo=UTC)  # a Tuesday, before the 10:00 due time


def group_checklist(**kwargs) -> ChecklistTemplate:
    template = ChecklistTemplateFactory(
        location=None, touchpoint=None, title="Fire safety", slug="fire-safety", **kwargs
    )
    ChecklistItemFactory(template=template, text="Exits clear", order=1)
    ChecklistItemFactory(template=template, text="Alarm tested", order=2, is_critical=True)
    return template


def texts(template: ChecklistTemplate) -> list[str]:
    return list(template.items.active().order_by("order", "pk").values_list("text", flat=True))


# --- Adopting ----------------------------------------------------------------------------------------


def test_adopting_twice_gives_the_site_one_copy_of_the_groups_checklist_and_items(manager):
    group, site = group_checklist(due_time=time(9, 30)), LocationFactory(name="Ashford")
    now = timezone.now()

    copy, created = adoption.template_adopt(group_template=group, location=site, by=manager, now=now)
    again, created_again = adoption.template_adopt(group_template=group, location=site, by=manager, now=now)

    assert (created, created_again) == (True, False)
    assert again == copy
    assert list(group.site_templates.all()) == [copy]
    assert (copy.location, copy.title, copy.frequency, copy.due_time) == (
        site,
        "Fire safety",
        "daily",
        time(9, 30),
    )
    assert copy.responsible_role == group.responsible_role
    assert copy.slug == "fire-safety-ashford"
    assert texts(copy) == ["Exits clear", "Alarm tested"]
    assert all(item.from_group for item in copy.items.all())
    assert copy.items.get(text="Alarm tested").is_critical
    assert AuditEvent.objects.filter(target_id=str(copy.pk), action="created").count() == 1


def test_adopting_at_every_site_skips_closed_sites_and_those_that_already_adopted(manager):
    group = group_checklist()
    first, second = LocationFactory(), LocationFactory()
    LocationFactory(is_active=False)
    now = timezone.now()
    adoption.template_adopt(group_template=group, location=first, by=manager, now=now)

    made = adoption.template_adopt_everywhere(group_template=group, by=manager, now=now)
    again = adoption.template_adopt_everywhere(group_template=group, by=manager, now=now)

    assert (made, again) == (1, 0)
    assert sorted(group.site_templates.values_list("location", flat=True)) == sorted([first.pk, second.pk])
    assert ChecklistItem.objects.filter(template__group_template=group).count() == 4
    assert (
        len(set(ChecklistTemplate.objects.values_list("slug", flat=True)))
        == ChecklistTemplate.objects.count()
    )
    assert AuditEvent.objects.filter(target_id=str(group.pk), action="created").count() == 1


@pytest.mark.django_db(transaction=True)
def test_two_adoptions_at_once_give_the_site_one_copy(postgres, manager):
    group, site = group_checklist(), LocationFactory()

    def adopt() -> bool:
        return adoption.template_adopt(group_template=group, location=site, by=manager, now=timezone.now())[1]

    def everywhere() -> int:
        return adoption.template_adopt_everywhere(group_template=group, by=manager, now=timezone.now())

    made_here, made_everywhere = at_once(adopt, everywhere)

    assert sorted([bool(made_here), bool(made_everywhere)]) == [False, True]  # one of them made it
    assert group.site_templates.filter(location=site).count() == 1
    assert ChecklistItem.objects.filter(template__group_template=group).count() == 2


def test_only_the_groups_practice_wide_checklists_can_be_adopted(manager):
    site = LocationFactory()
    own = ChecklistTemplateFactory(location=site)
    copy, _ = adoption.template_adopt(
        group_template=group_checklist(), location=site, by=manager, now=timezone.now()
    )
    for template in (own, copy):
        with pytest.raises(adoption.ValidationError):
            adoption.template_adopt(
                group_template=template, location=LocationFactory(), by=manager, now=timezone.now()
            )


# --- Keeping the group's items in step ---------------------------------------------------------------


def adopted_at(group, *sites, by):
    return [
        adoption.template_adopt(group_template=group, location=s, by=by, now=timezone.now())[0] for s in sites
    ]


def test_the_groups_item_changes_reach_every_sites_copy_and_leave_the_sites_own_items(manager):
    group = group_checklist()
    ashford, brook = adopted_at(group, LocationFactory(), LocationFactory(), by=manager)
    services.item_add(template=ashford, by=manager, text="Car park gate locked")

    services.item_add(template=group, by=manager, text="Extinguishers in date")
    exits = group.items.get(text="Exits clear")
    services.item_update(
        item=exits, fields={"text": "Exits clear and signed", "is_critical": True}, by=manager
    )
    services.item_move(item=group.items.get(text="Alarm tested"), direction="up", by=manager)
    services.item_remove(item=group.items.get(text="Extinguishers in date"), by=manager)

    assert texts(group) == ["Alarm tested", "Exits clear and signed"]
    assert texts(brook) == ["Alarm tested", "Exits clear and signed"]
    assert texts(ashford)[:2] == ["Alarm tested", "Exits clear and signed"]
    assert "Car park gate locked" in texts(ashford)
    assert brook.items.get(text="Exits clear and signed").is_critical


def test_retiring_a_group_item_a_site_has_answered_archives_it_everywhere(manager):
    group = group_checklist()
    (copy,) = adopted_at(group, LocationFactory(), by=manager)
    item = group.items.get(text="Exits clear")
    mirror = copy.items.get(group_item=item)
    ChecklistResult.objects.create(
        run=ChecklistRunFactory(template=copy), item=mirror, outcome="pass", recorded_at=timezone.now()
    )

    assert services.item_remove(item=item, by=manager) == "archived"

    assert texts(group) == texts(copy) == ["Alarm tested"]
    assert ChecklistItem.objects.filter(pk__in=[item.pk, mirror.pk], is_active=False).count() == 2


def test_the_groups_details_reach_the_copies_but_the_sites_due_time_and_role_stay_its_own(manager):
    group = group_checklist()
    (copy,) = adopted_at(group, LocationFactory(), by=manager)
    services.template_update(
        template=copy, fields={"due_time": time(8, 0), "responsible_role": Role.SITE_MANAGER}, by=manager
    )

    services.template_update(
        template=group, fields={"title": "Fire safety (2026)", "due_time": time(11, 0)}, by=manager
    )

    copy.refresh_from_db()
    assert (copy.title, copy.due_time, copy.responsible_role) == (
        "Fire safety (2026)",
        time(8, 0),
        Role.SITE_MANAGER,
    )
    services.template_update(template=group, fields={"is_active": False}, by=manager)
    copy.refresh_from_db()
    assert not copy.is_active  # the group retired it: no site runs it any more


# --- Runs ---------------------------------------------------------------------------------------------


def test_an_adopted_group_checklist_runs_once_per_adopting_site_and_not_practice_wide(manager, time_machine):
    time_machine.move_to(DAY - timedelta(days=2))
    adopted, not_adopted = group_checklist(), ChecklistTemplateFactory(location=None, touchpoint=None)
    sites = [LocationFactory(), LocationFactory()]
    copies = adopted_at(adopted, *sites, by=manager)
    time_machine.move_to(DAY)

    schedule_runs()
    schedule_runs()

    runs = ChecklistRun.objects.all()
    assert sorted((r.template_id, r.location_id) for r in runs) == sorted(
        [(copies[0].pk, sites[0].pk), (copies[1].pk, sites[1].pk), (not_adopted.pk, None)]
    )
    assert all(r.period_start == DAY.date() for r in runs)


def test_a_group_checklist_about_each_person_still_runs_for_people_at_sites_that_did_not_adopt_it(
    manager, time_machine
):
    time_machine.move_to(DAY - timedelta(days=2))
    training = ChecklistTemplateFactory(
        location=None, touchpoint=None, dimension="people", per_person=True, title="Fire training"
    )
    adopting, other = LocationFactory(name="Ashford"), LocationFactory(name="Brook")
    (copy,) = adopted_at(training, adopting, by=manager)
    here, there = UserFactory(location=adopting), UserFactory(location=other)
    time_machine.move_to(DAY)

    schedule_runs()
    schedule_runs()

    runs = {(r.template_id, r.subject_id) for r in ChecklistRun.objects.filter(subject__in=[here, there])}
    assert runs == {(copy.pk, here.pk), (training.pk, there.pk)}
    assert ChecklistRun.objects.filter(subject__in=[here, there]).count() == 2


def test_a_goal_on_the_groups_checklist_counts_its_sites_runs(manager):
    from delivery.metrics import runs_due
    from servicedesk.metrics import Filters, Period

    group = group_checklist()
    (copy,) = adopted_at(group, LocationFactory(), by=manager)
    run = ChecklistRunFactory(template=copy)
    period = Period.rolling(30, now=timezone.now() + timedelta(days=1))
    assert list(runs_due(period, Filters(params={"checklist": "fire-safety"}))) == [run]


# --- Pages --------------------------------------------------------------------------------------------


def adopt_url(template) -> str:
    return reverse("delivery:template_adopt", args=[template.pk])


def test_who_may_adopt_where(client, staff, site_manager, manager):
    group, riverside = group_checklist(), site_manager.location
    hilltop = Location.objects.get(name="Hilltop")
    data = {"location": riverside.pk}

    assert client.post(adopt_url(group), data).status_code == 302  # to the login page
    client.force_login(staff)
    assert client.post(adopt_url(group), data).status_code == 403
    client.force_login(site_manager)
    assert client.post(adopt_url(group), {"location": hilltop.pk}).status_code == 403
    assert client.post(reverse("delivery:template_adopt_everywhere", args=[group.pk])).status_code == 403
    response = client.post(adopt_url(group), data)
    copy = group.site_templates.get()
    assert response.url == reverse("delivery:template_detail", args=[copy.pk])
    assert copy.location == riverside
    client.force_login(manager)
    assert client.post(adopt_url(group), {"location": hilltop.pk}).status_code == 302
    assert client.post(reverse("delivery:template_adopt_everywhere", args=[group.pk])).status_code == 302
    assert group.site_templates.count() == Location.objects.active().count()


@pytest.mark.parametrize(
    ("data", "message"),
    [({}, "Choose the site that adopts this checklist."), ({"location": "99999"}, "Choose one of the group"),
     ({"location": "x"}, "Choose one of the group")],
)  # fmt: skip
def test_adopting_with_no_site_or_a_wrong_one_is_refused_with_a_message(site_manager_client, data, message):
    group = group_checklist()
    response = site_manager_client.post(adopt_url(group), data)
    assert response.status_code == 400
    assert message in response.content.decode().replace("&#x27;", "'")
    assert not group.site_templates.exists()


def test_a_sites_own_checklist_or_copy_cannot_be_adopted_from_a_page(manager_client, manager):
    site = LocationFactory()
    (copy,) = adopted_at(group_checklist(), site, by=manager)
    for template in (copy, ChecklistTemplateFactory(location=site)):
        assert manager_client.post(adopt_url(template), {"location": site.pk}).status_code == 404
        url = reverse("delivery:template_adopt_everywhere", args=[template.pk])
        assert manager_client.post(url).status_code == 404


def test_the_group_checklists_page_lists_its_sites_and_offers_adoption_by_role(client, site_manager, manager):
    group = group_checklist()
    hilltop = Location.objects.get(name="Hilltop")
    page_url = reverse("delivery:template_detail", args=[group.pk])
    client.force_login(site_manager)
    page = client.get(page_url).content.decode()
    assert "No site has adopted this checklist yet" in page
    assert "Adopt at Riverside" in page
    assert "Adopt at Hilltop" not in page
    assert "Adopt at all sites" not in page
    assert reverse("delivery:item_update", args=[group.items.first().pk]) not in page

    adopted_at(group, hilltop, by=manager)
    client.force_login(manager)
    page = client.get(page_url).content.decode()
    assert "Hilltop" in page
    assert "No site has adopted" not in page
    assert "Adopt at all sites (1 more site)" in page
    assert "At the 1 site that adopted it" in page
    assert "each adopting site makes its own run" in page


def test_the_group_checklists_page_reads_its_sites_in_the_same_number_of_queries(
    manager_client, manager, time_machine, count_queries, django_assert_num_queries
):
    time_machine.move_to(timezone.now(), tick=False)  # the session's "last seen" write stays out
    group = group_checklist()
    url = reverse("delivery:template_detail", args=[group.pk])
    adopted_at(group, LocationFactory(), by=manager)
    manager_client.get(url)
    few = count_queries(lambda: manager_client.get(url))
    adopted_at(group, *[LocationFactory() for _ in range(6)], by=manager)
    with django_assert_num_queries(few):
        page = manager_client.get(url).content.decode()
    assert page.count("<tr>") == 1 + 7


def test_a_sites_copy_shows_where_it_comes_from_and_keeps_the_groups_items_read_only(
    site_manager_client, site_manager
):
    group = group_checklist()
    copy, _ = adoption.template_adopt(
        group_template=group, location=site_manager.location, by=site_manager, now=timezone.now()
    )
    own = services.item_add(template=copy, by=site_manager, text="Car park gate locked")
    mirror = copy.items.get(text="Exits clear")

    page = site_manager_client.get(reverse("delivery:template_detail", args=[copy.pk])).content.decode()

    assert "from the group\N{RIGHT SINGLE QUOTATION MARK}s" in page
    assert f"This is {site_manager.location}\N{RIGHT SINGLE QUOTATION MARK}s copy" in page
    assert reverse("delivery:template_detail", args=[group.pk]) in page
    assert reverse("delivery:item_update", args=[own.pk]) in page
    assert reverse("delivery:item_update", args=[mirror.pk]) not in page
    assert site_manager_client.get(reverse("delivery:item_update", args=[mirror.pk])).status_code == 404
    remove = site_manager_client.post(reverse("delivery:item_remove", args=[mirror.pk]), {"confirmed": "yes"})
    assert remove.status_code == 404


def test_a_site_sets_its_copys_due_time_and_who_does_it_but_not_what_is_checked(
    site_manager_client, site_manager
):
    group = group_checklist()
    copy, _ = adoption.template_adopt(
        group_template=group, location=site_manager.location, by=site_manager, now=timezone.now()
    )
    url = reverse("delivery:template_update", args=[copy.pk])
    data = {"due_time": "08:15", "responsible_role": Role.SITE_MANAGER, "is_active": "on", "title": "Mine"}
    assert site_manager_client.post(url, data).status_code == 302
    copy.refresh_from_db()
    assert (copy.due_time, copy.responsible_role, copy.title) == (
        time(8, 15),
        Role.SITE_MANAGER,
        "Fire safety",
    )
    refused = site_manager_client.post(url, {"due_time": "08:15", "responsible_role": ""})
    assert refused.status_code == 400
    assert "Choose who does this checklist" in refused.content.decode()


def test_a_group_checklist_sites_adopted_stays_practice_wide(manager_client, manager):
    group = group_checklist()
    site = LocationFactory()
    adopted_at(group, site, by=manager)
    data = {"title": "Fire safety", "dimension": "place", "frequency": "daily", "due_time": "10:00",
            "responsible_role": Role.STAFF, "location": site.pk, "due_within_days": 14,
            "is_active": "on"}  # fmt: skip
    response = manager_client.post(reverse("delivery:template_update", args=[group.pk]), data)
    assert response.status_code == 400
    assert "stays practice-wide" in response.content.decode()
    group.refresh_from_db()
    assert group.location is None


def test_staff_do_not_see_the_checklists_design_pages(staff_client):
    group = group_checklist()
    assert staff_client.get(reverse("delivery:template_detail", args=[group.pk])).status_code == 403
    assert UserFactory(role=Role.STAFF).managed_site_ids == frozenset()
