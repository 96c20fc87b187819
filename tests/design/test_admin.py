"""The admin writes goals through the services too: versions and the audit trail hold."""

from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from design.adoption import goal_adopt
from design.models import GoalChange, ServiceGoal
from tests.factories import LocationFactory, ServiceGoalFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client(client):
    client.force_login(UserFactory(is_staff=True, is_superuser=True, manager=True))
    return client


def _admin_form(goal: ServiceGoal, **changes) -> dict:
    data = {
        "title": goal.title,
        "purpose": goal.purpose,
        "pillar": goal.pillar,
        "owner": goal.owner_id,
        "metric_key": goal.metric_key,
        "metric_params": "{}",
        "comparator": goal.comparator,
        "target": str(goal.target),
        "tolerance": str(goal.tolerance),
        "period": goal.period,
        "review_on": goal.review_on.isoformat(),
        "changes-TOTAL_FORMS": "0",
        "changes-INITIAL_FORMS": "0",
    }
    data.update(changes)
    return data


def test_changing_the_target_in_the_admin_bumps_the_version_and_is_logged(admin_client):
    goal = ServiceGoalFactory(target=90)
    response = admin_client.post(
        reverse("admin:design_servicegoal_change", args=[goal.pk]), _admin_form(goal, target="95")
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    goal.refresh_from_db()
    assert (goal.target, goal.version) == (Decimal("95"), 2)
    assert goal.changes.get().kind == GoalChange.Kind.EDITED


def test_adding_a_goal_in_the_admin_writes_its_created_row(admin_client):
    owner = UserFactory(manager=True)
    template = ServiceGoalFactory.build(owner=owner, title="Added in the admin")
    response = admin_client.post(reverse("admin:design_servicegoal_add"), _admin_form(template))
    assert response.status_code == 302, response.content.decode()[:2000]
    goal = ServiceGoal.objects.get(title="Added in the admin")
    assert goal.changes.get().kind == GoalChange.Kind.CREATED


def test_a_sites_copy_in_the_admin_changes_only_its_own_target(admin_client):
    manager = UserFactory(manager=True)
    group_goal = ServiceGoalFactory(target=90, location=None, title="Answer the phone")
    copy = goal_adopt(group_goal=group_goal, location=LocationFactory(), by=manager, now=timezone.now())
    url = reverse("admin:design_servicegoal_change", args=[copy.pk])

    assert admin_client.get(url).status_code == 200
    response = admin_client.post(url, _admin_form(copy, target="80", title="Renamed in the admin"))

    assert response.status_code == 302, response.content.decode()[:2000]
    copy.refresh_from_db()
    assert (copy.title, copy.target, copy.target_overridden) == ("Answer the phone", Decimal("80"), True)
