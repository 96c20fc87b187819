"""Runs of a group checklist sites adopted: "Start a run now" starts each adopting site's copy, and a
closed site's checklists, its copies included, make no new runs (issue 19)."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

from delivery import adoption, services
from delivery.models import ChecklistRun, ChecklistTemplate
from delivery.tasks import schedule_runs
from servicedesk.models import Location
from tests.concurrency import at_once
from tests.factories import ChecklistItemFactory, ChecklistTemplateFactory, LocationFactory, UserFactory

pytestmark = pytest.mark.django_db

DAY = datetime(2026, 3, 10, 6, 0, tzinfo=UTC)  # a Tuesday in London (GMT), before the 10:00 due time


@pytest.fixture
def on_the_day(time_machine):
    """The group's checklist and its copies are made two days before; the test runs on DAY."""
    time_machine.move_to(DAY - timedelta(days=2), tick=False)
    return lambda: time_machine.move_to(DAY, tick=False)


def group_checklist(**kwargs) -> ChecklistTemplate:
    template = ChecklistTemplateFactory(location=None, touchpoint=None, title="Fire safety", **kwargs)
    ChecklistItemFactory(template=template, text="Exits clear")
    return template


def adopted_at(group: ChecklistTemplate, *sites: Location, by) -> list[ChecklistTemplate]:
    return [
        adoption.template_adopt(group_template=group, location=site, by=by, now=timezone.now())[0]
        for site in sites
    ]


def start(group: ChecklistTemplate, by, sites: frozenset[int] | None = None) -> services.SitesStarted:
    return services.runs_start_at_adopting_sites(group_template=group, sites=sites, by=by, now=timezone.now())


def runs_by_site() -> list[str]:
    """The sites of the runs that are not about a person, by name."""
    runs = ChecklistRun.objects.filter(subject__isnull=True).select_related("location")
    return sorted(run.location.name for run in runs)


def close(site: Location) -> None:
    Location.objects.filter(pk=site.pk).update(is_active=False)


# --- Starting by hand (services) ------------------------------------------------------------------------


def test_starting_an_adopted_group_checklist_starts_each_sites_copy_not_a_practice_wide_run(
    manager, on_the_day
):
    group = group_checklist(due_time=time(10, 0))
    ashford, brook = LocationFactory(name="Ashford"), LocationFactory(name="Brook")
    here, there = adopted_at(group, ashford, brook, by=manager)
    services.template_update(template=there, fields={"due_time": time(9, 0)}, by=manager)
    on_the_day()

    started = start(group, manager)

    assert [(run.template, run.location) for run in started.started] == [(here, ashford), (there, brook)]
    assert (started.already, started.skipped) == ([], 0)
    assert not group.runs.exists()
    assert ChecklistRun.objects.get(template=there).due_at == datetime(2026, 3, 10, 9, 0, tzinfo=UTC)
    assert ChecklistRun.objects.get(template=here).responsible_role == here.responsible_role


def test_starting_twice_the_same_day_opens_the_sites_runs_already_there_as_a_single_start_does(
    manager, on_the_day, time_machine
):
    group = group_checklist()
    ashford, brook = LocationFactory(name="Ashford"), LocationFactory(name="Brook")
    adopted_at(group, ashford, by=manager)
    on_the_day()
    schedule_runs()  # Ashford's daily run of today: the run a start opens, as for any checklist
    scheduled = ChecklistRun.objects.get()
    adopted_at(group, brook, by=manager)

    first = start(group, manager)
    time_machine.move_to(DAY + timedelta(hours=3), tick=False)
    again = start(group, manager)

    assert ([r.location for r in first.started], first.already) == ([brook], [scheduled])
    assert (again.started, [r.location for r in again.already]) == ([], [ashford, brook])
    assert ChecklistRun.objects.count() == 2
    time_machine.move_to(DAY + timedelta(days=1), tick=False)
    assert len(start(group, manager).started) == 2  # a new day, new runs


def test_a_site_manager_starts_only_the_copies_at_their_own_sites(manager, site_manager, on_the_day):
    group = group_checklist()
    adopted_at(group, site_manager.location, Location.objects.get(name="Hilltop"), by=manager)
    on_the_day()

    started = start(group, site_manager, sites=site_manager.managed_site_ids)

    assert [run.location for run in started.started] == [site_manager.location]
    assert runs_by_site() == ["Riverside"]


def test_copies_switched_off_or_at_a_closed_site_start_nothing_and_are_counted(manager, on_the_day):
    group = group_checklist()
    open_site, switched_off, closed = (LocationFactory(name=n) for n in ("Ashford", "Brook", "Cray"))
    _, off, _ = adopted_at(group, open_site, switched_off, closed, by=manager)
    services.template_update(template=off, fields={"is_active": False}, by=manager)
    close(closed)
    on_the_day()

    started = start(group, manager)

    assert ([run.location for run in started.started], started.skipped) == ([open_site], 2)
    assert runs_by_site() == ["Ashford"]


def test_nothing_to_start_is_refused_with_the_reason(manager, site_manager, on_the_day):
    group = group_checklist()
    (hilltop_copy,) = adopted_at(group, Location.objects.get(name="Hilltop"), by=manager)
    on_the_day()

    with pytest.raises(ValidationError, match="None of your sites has adopted"):
        start(group, site_manager, sites=site_manager.managed_site_ids)
    close(hilltop_copy.location)
    with pytest.raises(ValidationError, match="switched its copy off or is closed"):
        start(group, manager)
    assert not ChecklistRun.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_two_starts_at_once_start_each_site_once(postgres, manager):
    group = group_checklist()
    adopted_at(group, LocationFactory(), LocationFactory(), by=manager)

    first, second = at_once(lambda: start(group, manager), lambda: start(group, manager))

    assert sorted([len(first.started), len(second.started)]) == [0, 2]  # the second waited, then found them
    assert ChecklistRun.objects.count() == 2


# --- A closed site ---------------------------------------------------------------------------------------


def test_a_closed_sites_checklists_and_copies_make_no_new_runs_until_it_reopens(manager, on_the_day):
    group = group_checklist()
    training = ChecklistTemplateFactory(location=None, touchpoint=None, dimension="people", per_person=True)
    ashford, closed = LocationFactory(name="Ashford"), LocationFactory(name="Cray")
    adopted_at(group, ashford, closed, by=manager)
    adopted_at(training, closed, by=manager)
    ChecklistTemplateFactory(location=closed, title="Cray's own opening check")
    person = UserFactory(location=closed)
    close(closed)
    on_the_day()

    schedule_runs()

    assert runs_by_site() == ["Ashford"]
    # Its people do not fall back to the group's run: the site's copy is the one that would run it.
    assert not ChecklistRun.objects.filter(subject=person).exists()
    Location.objects.filter(pk=closed.pk).update(is_active=True)
    schedule_runs()
    assert runs_by_site() == ["Ashford", "Cray", "Cray"]
    assert ChecklistRun.objects.get(subject=person).location == closed


def test_people_at_a_closed_site_that_never_adopted_the_groups_checklist_get_no_run_of_it(on_the_day):
    training = ChecklistTemplateFactory(location=None, touchpoint=None, dimension="people", per_person=True)
    open_site, closed = LocationFactory(name="Ashford"), LocationFactory(name="Cray")
    working, away = UserFactory(location=open_site), UserFactory(location=closed)
    close(closed)
    on_the_day()

    schedule_runs()

    # Nobody does the runs of a closed site's people, whether or not the site adopted the checklist.
    assert ChecklistRun.objects.filter(template=training, subject=working).exists()
    assert not ChecklistRun.objects.filter(subject=away).exists()


def test_a_closed_sites_own_checklist_cannot_be_started_by_hand(manager, manager_client, on_the_day):
    site = LocationFactory(name="Cray")
    own = ChecklistTemplateFactory(location=site)
    close(site)
    own.refresh_from_db()
    on_the_day()

    with pytest.raises(ValidationError, match="Cray is closed"):
        services.run_start_ad_hoc(template=own, by=manager, now=timezone.now())
    page = manager_client.get(reverse("delivery:template_detail", args=[own.pk])).content.decode()
    assert "Start a run now" not in page
    response = manager_client.post(reverse("delivery:template_start", args=[own.pk]))
    assert response.status_code == 400
    assert "Cray is closed: its checklists make no new runs." in response.content.decode()
    assert not ChecklistRun.objects.exists()


# --- The page and its button -----------------------------------------------------------------------------


def start_url(template: ChecklistTemplate) -> str:
    return reverse("delivery:template_start", args=[template.pk])


def messages_of(response) -> list[str]:
    return [str(message) for message in response.context["messages"]]


def test_who_may_start_an_adopted_group_checklist_and_where(client, staff, site_manager, manager, on_the_day):
    group = group_checklist()
    riverside, hilltop = site_manager.location, Location.objects.get(name="Hilltop")
    adopted_at(group, riverside, hilltop, by=manager)
    on_the_day()

    assert client.post(start_url(group))["Location"].startswith(reverse("login"))
    client.force_login(staff)
    assert client.post(start_url(group)).status_code == 403
    client.force_login(site_manager)
    response = client.post(start_url(group), follow=True)
    run = ChecklistRun.objects.get()
    assert response.redirect_chain == [(reverse("delivery:run_detail", args=[run.pk]), 302)]
    assert (run.location, messages_of(response)) == (riverside, ["Started “Fire safety” at 1 site."])

    client.force_login(manager)
    response = client.post(start_url(group), follow=True)
    assert response.redirect_chain == [(reverse("delivery:template_detail", args=[group.pk]), 302)]
    assert messages_of(response) == ["Started “Fire safety” at 1 site.", "1 site already had a run today."]
    again = client.post(start_url(group), follow=True)
    assert messages_of(again) == ["2 sites already had a run today."]
    assert runs_by_site() == ["Hilltop", "Riverside"]
    assert not group.runs.exists()


def test_the_group_checklists_page_offers_the_start_where_this_person_can_start_it(
    client, site_manager, manager, on_the_day
):
    group = group_checklist()
    page_url = reverse("delivery:template_detail", args=[group.pk])
    client.force_login(site_manager)
    assert "Start a run now" not in client.get(page_url).content.decode()  # the group's, nobody adopted it

    hilltop = Location.objects.get(name="Hilltop")
    adopted_at(group, hilltop, by=manager)
    assert "Start a run now" not in client.get(page_url).content.decode()  # not at their site
    response = client.post(start_url(group))
    assert response.status_code == 400
    assert "None of your sites has adopted" in response.content.decode()

    adopted_at(group, site_manager.location, by=manager)
    assert "Start a run now at 1 site" in client.get(page_url).content.decode()
    client.force_login(manager)
    assert "Start a run now at each of 2 sites" in client.get(page_url).content.decode()
    close(hilltop)
    assert "Start a run now at 1 site" in client.get(page_url).content.decode()
    response = client.post(start_url(group), follow=True)
    assert messages_of(response) == [
        "Started “Fire safety” at 1 site.",
        "1 site did not start it: its copy is switched off or the site is closed.",
    ]


def test_a_group_checklist_nobody_adopted_starts_its_practice_wide_run_as_before(
    client, site_manager, manager, on_the_day
):
    group = group_checklist()
    on_the_day()

    client.force_login(site_manager)
    assert client.post(start_url(group)).status_code == 404  # the group's managers start it
    client.force_login(manager)
    response = client.post(start_url(group))
    run = ChecklistRun.objects.get()
    assert response["Location"] == reverse("delivery:run_detail", args=[run.pk])
    assert (run.template, run.location) == (group, None)


def test_a_checklist_about_each_person_is_not_started_by_hand_and_partial_adoption_keeps_the_groups_runs(
    manager, manager_client, on_the_day
):
    training = ChecklistTemplateFactory(location=None, touchpoint=None, dimension="people", per_person=True)
    adopting, other = LocationFactory(name="Ashford"), LocationFactory(name="Brook")
    (copy,) = adopted_at(training, adopting, by=manager)
    here, there = UserFactory(location=adopting), UserFactory(location=other)
    on_the_day()

    assert manager_client.post(start_url(training)).status_code == 404
    assert manager_client.post(start_url(copy)).status_code == 404
    schedule_runs()

    runs = ChecklistRun.objects.filter(subject__in=[here, there]).values_list("template_id", "subject_id")
    assert set(runs) == {(copy.pk, here.pk), (training.pk, there.pk)}
    assert not ChecklistRun.objects.filter(subject__isnull=True).exists()
