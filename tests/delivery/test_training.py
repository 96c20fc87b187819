"""Training status per person: up to date, due or overdue, beside their service-goal acknowledgements."""

from datetime import UTC, date, datetime, timedelta

import pytest
from django.urls import reverse

from delivery import training
from delivery.models import ChecklistRun
from delivery.training import Status
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
