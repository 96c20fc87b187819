"""Training status per person: up to date, due or overdue, beside their service-goal acknowledgements."""

from datetime import UTC, date, datetime, timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from delivery import adoption, services, training
from delivery.models import ChecklistRun
from delivery.tasks import schedule_runs
from delivery.training import Status
from servicedesk.models import Location
from tests.factories import (
    ChecklistRunFactory,
    ChecklistTemplateFactory,
    GoalAcknowledgementFactory,
    LocationFactory,
    ServiceGoalFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db
NOW = datetime(2026, 6, 15, 10, 0, tzinfo=UTC)
START = date(2025, 1, 1)


def per_person(**kwargs):
    return ChecklistTemplateFactory(dimension="people", per_person=True, location=None, **kwargs)


def status_of(person, template):
    (entry,) = training.team_training(now=NOW, people=[person])
    return next(r for r in entry.requirements if r.template == template)


def completed(template, person, on):
    return ChecklistRunFactory(
        period_start=on.date(),
        template=template,
        subject=person,
        status="completed",
        completed_at=on,
        due_at=on,
    )


@pytest.mark.parametrize(
    ("runs", "expected"),
    [
        ([], Status.DUE),  # a new starter: not scheduled yet, but needed
        ([("due", NOW + timedelta(days=3))], Status.DUE),
        ([("due", NOW - timedelta(minutes=1))], Status.OVERDUE),
        ([("in_progress", NOW - timedelta(days=2))], Status.OVERDUE),
        ([("completed", NOW - timedelta(days=100))], Status.UP_TO_DATE),
        ([("completed", NOW - timedelta(days=400))], Status.OVERDUE),  # expired, no renewal yet
        ([("completed", NOW - timedelta(days=350)), ("due", NOW + timedelta(days=15))], Status.DUE),
    ],
)
def test_training_status_for_an_annual_refresher(runs, expected):
    person = UserFactory()
    refresher = per_person(renew_every_days=365)
    for status, when in runs:
        if status == "completed":
            completed(refresher, person, when)
        else:
            ChecklistRunFactory(
                period_start=START, template=refresher, subject=person, status=status, due_at=when
            )
    assert status_of(person, refresher).status == expected


def test_onboarding_done_once_stays_up_to_date_forever():
    person = UserFactory()
    onboarding = per_person(renew_every_days=None)
    completed(onboarding, person, NOW - timedelta(days=2000))
    assert status_of(person, onboarding).status == Status.UP_TO_DATE


def test_a_persons_overall_status_is_their_worst_requirement():
    person = UserFactory()
    completed(per_person(title="Onboarding"), person, NOW - timedelta(days=10))
    ChecklistRunFactory(
        period_start=START,
        template=per_person(title="Fire safety"),
        subject=person,
        due_at=NOW - timedelta(days=1),
    )
    (entry,) = training.team_training(now=NOW, people=[person])
    assert entry.status == Status.OVERDUE


def test_a_checklist_for_one_site_only_applies_to_people_working_there():
    site = LocationFactory()
    ChecklistTemplateFactory(dimension="people", per_person=True, location=site)
    elsewhere = UserFactory(location=LocationFactory())
    (entry,) = training.team_training(now=NOW, people=[elsewhere])
    assert entry.requirements == []
    assert entry.status is None


def test_compliance_is_the_share_of_requirements_not_overdue():
    refresher = per_person()
    on_time, late = UserFactory(), UserFactory()
    completed(refresher, on_time, NOW - timedelta(days=1))
    ChecklistRunFactory(period_start=START, template=refresher, subject=late, due_at=NOW - timedelta(days=1))
    assert training.compliance_pct(now=NOW) == 50.0
    ChecklistRun.objects.all().delete()
    refresher.delete()
    assert training.compliance_pct(now=NOW) is None


def test_the_overview_shows_training_beside_goal_acknowledgements(manager_client, manager):
    refresher = per_person(title="Safeguarding refresher")
    person = UserFactory(first_name="Ada", last_name="Lovelace")
    ChecklistRunFactory(period_start=START, template=refresher, subject=person, due_at=NOW)
    goal, other_goal = ServiceGoalFactory(), ServiceGoalFactory()
    GoalAcknowledgementFactory(goal=goal, user=person)
    GoalAcknowledgementFactory(goal=other_goal, user=person, version=0)  # an older version does not count
    html = manager_client.get(reverse("delivery:training")).content.decode()
    assert "Ada Lovelace" in html
    assert "Safeguarding refresher" in html
    assert "Not all</span> 1/2" in html


# --- A group of sites: the overview lists what the scheduler runs (issue 19) -------------------------


def adopted_at(group, site, by):
    return adoption.template_adopt(group_template=group, location=site, by=by, now=timezone.now())[0]


def close(site):
    Location.objects.filter(pk=site.pk).update(is_active=False)


def requirements_shown(client) -> dict[str, list[int]]:
    """The training page's requirements: each person's username -> the checklists listed for them."""
    overview = client.get(reverse("delivery:training")).context["overview"]
    return {entry.person.username: [r.template.pk for r in entry.requirements] for entry in overview}


def test_a_person_at_an_adopting_site_is_listed_with_their_sites_copy_only(manager_client, manager):
    group = per_person(title="Safeguarding refresher")
    adopting, other = LocationFactory(name="Ashford"), LocationFactory(name="Brook")
    copy = adopted_at(group, adopting, manager)
    UserFactory(username="ashford", location=adopting)
    UserFactory(username="brook", location=other)

    shown = requirements_shown(manager_client)

    assert shown["ashford"] == [copy.pk]  # not the group's too, which no run would ever be made for
    assert shown["brook"] == [group.pk]  # a site that has not adopted it keeps the group's
    assert shown[manager.username] == [group.pk]  # the group's own managers, at no site


def test_a_person_at_a_closed_site_or_one_that_switched_its_copy_off_has_no_requirement(
    manager_client, manager
):
    group = per_person(title="Safeguarding refresher")
    closed, adopted_closed, switched_off = (LocationFactory(name=n) for n in ("Cray", "Dale", "Eden"))
    ChecklistTemplateFactory(dimension="people", per_person=True, location=closed, title="Cray's induction")
    adopted_at(group, adopted_closed, manager)
    services.template_update(
        template=adopted_at(group, switched_off, manager), fields={"is_active": False}, by=manager
    )
    for site in (closed, adopted_closed, switched_off):
        UserFactory(username=site.name, location=site)
    close(closed)
    close(adopted_closed)

    response = manager_client.get(reverse("delivery:training"))

    shown = {entry.person.username: entry for entry in response.context["overview"]}
    for name in ("Cray", "Dale", "Eden"):
        assert (shown[name].requirements, shown[name].status) == ([], None), name
    assert "nothing required" in response.content.decode()


def test_the_overview_lists_exactly_the_runs_the_scheduler_makes_each_person(manager_client, manager):
    group = per_person(title="Safeguarding refresher")
    ashford, brook, cray, dale = (LocationFactory(name=n) for n in ("Ashford", "Brook", "Cray", "Dale"))
    adopted_at(group, ashford, manager)
    services.template_update(
        template=adopted_at(group, dale, manager), fields={"is_active": False}, by=manager
    )
    site_only = ChecklistTemplateFactory(dimension="people", per_person=True, location=brook)
    for site in (ashford, brook, cray, dale):
        UserFactory(username=site.name, location=site)
    close(cray)

    schedule_runs()

    runs = ChecklistRun.objects.filter(subject__isnull=False)
    scheduled = {(run.subject.username, run.template_id, run.pk) for run in runs.select_related("subject")}
    overview = manager_client.get(reverse("delivery:training")).context["overview"]
    listed = {(e.person.username, r.template.pk, r.open_run_id) for e in overview for r in e.requirements}
    assert listed == scheduled  # each requirement links to its open run: none listed that never runs
    assert {(name, t) for name, t, _ in listed if name == "Brook"} == {
        ("Brook", group.pk),
        ("Brook", site_only.pk),
    }


def test_only_the_groups_managers_see_the_training_of_every_site(client, staff, site_manager, manager):
    url = reverse("delivery:training")
    assert client.get(url)["Location"].startswith(reverse("login"))
    for refused in (staff, site_manager):  # the page is about every site's people, not scoped by site
        client.force_login(refused)
        assert client.get(url).status_code == 403
    client.force_login(manager)
    assert {"sitemgr", "staffer"} <= set(requirements_shown(client))


def test_the_overview_reads_the_same_number_of_queries_for_3_and_12_sites_and_people(
    manager_client, manager, time_machine, count_queries, django_assert_num_queries
):
    time_machine.move_to(timezone.now(), tick=False)  # the session's "last seen" write stays out
    group, other_group = per_person(title="Safeguarding refresher"), per_person(title="Fire safety")
    ServiceGoalFactory()

    def sites(n):
        for i in range(n):
            site = LocationFactory()
            if i % 3 == 0:
                adopted_at(group, site, manager)
            elif i % 3 == 1:
                ChecklistTemplateFactory(dimension="people", per_person=True, location=site)
            else:
                close(site)
            person = UserFactory(location=site)
            ChecklistRunFactory(period_start=START, template=other_group, subject=person, due_at=NOW)

    sites(3)
    url = reverse("delivery:training")
    manager_client.get(url)
    few = count_queries(lambda: manager_client.get(url))
    sites(9)
    with django_assert_num_queries(few):
        overview = manager_client.get(url).context["overview"]
    at_sites = sorted(len(entry.requirements) for entry in overview if entry.person.location_id)
    assert at_sites == [0] * 4 + [2] * 4 + [3] * 4  # closed; adopting (copy, Fire safety); own one too
