"""Writing goals: versions, the audit trail, retiring, and acknowledgements per version."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError
from django.utils import timezone

from design.models import GoalAcknowledgement, GoalChange, ServiceGoal
from design.services import (
    StaleVersion,
    goal_acknowledge,
    goal_create,
    goal_reactivate,
    goal_retire,
    goal_update,
)
from tests.factories import GoalAcknowledgementFactory, ServiceGoalFactory, UserFactory

pytestmark = pytest.mark.django_db


def _fields(owner, **overrides):
    return {
        "title": "Phone answered within 3 rings",
        "purpose": "Patients get through first time.",
        "pillar": "delivery",
        "owner": owner,
        "metric_key": "delivery.calls_answered_in_3_rings_pct",
        "comparator": "gte",
        "target": Decimal("85"),
        "period": "rolling_30_days",
        "review_on": timezone.localdate() + timedelta(days=60),
        **overrides,
    }


def test_creating_a_goal_starts_at_version_one_with_an_audit_row_and_a_first_measurement(manager):
    goal = goal_create(by=manager, now=timezone.now(), fields=_fields(manager))
    assert goal.version == 1
    assert goal.changes.get().kind == GoalChange.Kind.CREATED
    assert goal.measurements.get().status == "no_data"  # nobody registered that metric yet


def test_changing_the_target_bumps_the_version_and_resets_acknowledgements(manager, staff):
    goal = ServiceGoalFactory(target=90)
    GoalAcknowledgementFactory(goal=goal, user=staff)
    assert ServiceGoal.objects.to_acknowledge_by(staff).count() == 0

    promise_changed = goal_update(goal=goal, by=manager, now=timezone.now(), fields={"target": Decimal("95")})

    assert promise_changed
    assert goal.version == 2
    assert list(ServiceGoal.objects.to_acknowledge_by(staff)) == [goal]
    assert ServiceGoal.objects.with_acknowledgement_count().get(pk=goal.pk).current_acknowledgements == 0
    assert GoalAcknowledgement.objects.filter(goal=goal, version=1).exists()  # history kept
    change = goal.changes.get(kind=GoalChange.Kind.EDITED)
    assert change.changes == {"target": ["90.00", "95"]}
    assert change.version == 2


def test_a_wording_or_budget_change_keeps_the_version_and_acknowledgements(manager, staff):
    goal = ServiceGoalFactory()
    GoalAcknowledgementFactory(goal=goal, user=staff)
    promise_changed = goal_update(
        goal=goal,
        by=manager,
        now=timezone.now(),
        fields={"title": "Better title", "budget_money": Decimal("200")},
    )
    assert not promise_changed
    assert goal.version == 1
    assert not ServiceGoal.objects.to_acknowledge_by(staff).exists()


def test_saving_without_changes_writes_nothing(manager):
    goal = ServiceGoalFactory(target=90)
    assert not goal_update(goal=goal, by=manager, now=timezone.now(), fields={"target": Decimal("90.00")})
    assert not goal.changes.exists()


def test_changing_a_filter_is_a_change_of_promise(manager, location):
    goal = ServiceGoalFactory()
    assert goal_update(goal=goal, by=manager, now=timezone.now(), fields={"location": location})
    assert goal.version == 2


def test_acknowledging_twice_records_once(staff):
    goal = ServiceGoalFactory()
    assert goal_acknowledge(goal=goal, user=staff, version=1, now=timezone.now())
    assert not goal_acknowledge(goal=goal, user=staff, version=1, now=timezone.now())
    assert GoalAcknowledgement.objects.filter(goal=goal, user=staff).count() == 1


def test_acknowledging_a_version_that_has_since_changed_is_refused(manager, staff):
    goal = ServiceGoalFactory()
    goal_update(goal=goal, by=manager, now=timezone.now(), fields={"target": Decimal("99")})
    with pytest.raises(StaleVersion):
        goal_acknowledge(goal=goal, user=staff, version=1, now=timezone.now())
    assert not GoalAcknowledgement.objects.exists()


def test_a_retired_goal_cannot_be_acknowledged(manager, staff):
    goal = ServiceGoalFactory()
    goal_retire(goal=goal, by=manager, now=timezone.now())
    with pytest.raises(ValidationError):
        goal_acknowledge(goal=goal, user=staff, version=1, now=timezone.now())


def test_retiring_twice_records_one_change_and_reactivating_brings_it_back(manager):
    goal = ServiceGoalFactory()
    assert goal_retire(goal=goal, by=manager, now=timezone.now())
    assert not goal_retire(goal=goal, by=manager, now=timezone.now())
    assert goal.status == ServiceGoal.Status.RETIRED
    assert goal.changes.filter(kind=GoalChange.Kind.RETIRED).count() == 1
    assert not ServiceGoal.objects.active().exists()

    assert goal_reactivate(goal=goal, by=manager, now=timezone.now())
    assert goal.is_active
    assert goal.retired_at is None


def test_an_unknown_field_is_a_programming_error(manager):
    goal = ServiceGoalFactory()
    with pytest.raises(TypeError):
        goal_update(goal=goal, by=manager, now=timezone.now(), fields={"version": 7})


def test_the_database_refuses_a_negative_budget():
    with pytest.raises(IntegrityError):
        ServiceGoalFactory(budget_money=Decimal("-1"))


def test_the_database_refuses_an_acknowledgement_twice_for_one_version():
    ack = GoalAcknowledgementFactory()
    with pytest.raises(IntegrityError):
        GoalAcknowledgementFactory(goal=ack.goal, user=ack.user, version=ack.version)


def test_staff_see_only_goals_they_have_not_acknowledged(staff):
    done, todo = ServiceGoalFactory(), ServiceGoalFactory()
    ServiceGoalFactory(status="retired", retired_at=timezone.now())
    GoalAcknowledgementFactory(goal=done, user=staff)
    GoalAcknowledgementFactory(goal=todo, user=UserFactory())
    assert list(ServiceGoal.objects.to_acknowledge_by(staff)) == [todo]
