"""Review reminders (once per goal and review date) and the daily measurement sweep."""

from datetime import timedelta

import pytest
from django.utils import timezone

from design.models import GoalMeasurement, GoalReviewReminder
from design.tasks import measure_goals, send_goal_review_reminders
from tests.concurrency import at_once
from tests.factories import ServiceGoalFactory, UserFactory

pytestmark = pytest.mark.django_db


def _in_days(days: int):
    return timezone.localdate() + timedelta(days=days)


def test_owner_is_reminded_once_before_the_review_date_however_often_the_sweep_runs(mailoutbox):
    owner = UserFactory(manager=True, email="owner@practice.example")
    goal = ServiceGoalFactory(owner=owner, review_on=_in_days(5), title="Phone answered within 3 rings")

    send_goal_review_reminders()
    send_goal_review_reminders()

    assert len(mailoutbox) == 1
    assert mailoutbox[0].to == ["owner@practice.example"]
    assert "Phone answered within 3 rings" in mailoutbox[0].subject
    assert f"/design/goals/{goal.pk}/" in mailoutbox[0].body
    assert GoalReviewReminder.objects.filter(goal=goal, kind="owner_before").count() == 1


def test_goals_far_from_review_and_retired_goals_get_no_reminder(mailoutbox):
    ServiceGoalFactory(review_on=_in_days(60))
    ServiceGoalFactory(review_on=_in_days(3), status="retired", retired_at=timezone.now())
    send_goal_review_reminders()
    assert mailoutbox == []


def test_a_new_review_date_gets_its_own_reminder(mailoutbox):
    goal = ServiceGoalFactory(review_on=_in_days(5))
    send_goal_review_reminders()
    goal.review_on = _in_days(10)
    goal.save()
    send_goal_review_reminders()
    send_goal_review_reminders()
    assert len(mailoutbox) == 2


def test_managers_get_one_list_of_goals_past_review_once(mailoutbox):
    first = UserFactory(manager=True, email="maya@practice.example")
    UserFactory(manager=True, email="tom@practice.example")
    ServiceGoalFactory(owner=first, review_on=_in_days(-1), title="Morning premises check")
    ServiceGoalFactory(owner=first, review_on=_in_days(-20), title="FFT at the front desk")
    ServiceGoalFactory(owner=first, review_on=_in_days(-2), status="retired", retired_at=timezone.now())

    send_goal_review_reminders()
    send_goal_review_reminders()

    past_review = [m for m in mailoutbox if "past review" in m.subject]
    assert sorted(m.to[0] for m in past_review) == ["maya@practice.example", "tom@practice.example"]
    assert past_review[0].subject == "2 service goals past review"
    assert "Morning premises check" in past_review[0].body
    assert "FFT at the front desk" in past_review[0].body
    assert GoalReviewReminder.objects.filter(kind="past_review").count() == 2


def test_a_refused_reminder_is_retried_by_the_outbox_and_arrives_once(
    mailoutbox, refused_addresses, time_machine
):
    goal = ServiceGoalFactory(review_on=_in_days(2))
    refused_addresses.add(goal.owner.email)
    assert send_goal_review_reminders() == 1
    assert len(mailoutbox) == 0
    assert GoalReviewReminder.objects.count() == 1  # claimed once: the outbox retries the message

    refused_addresses.clear()
    time_machine.move_to(timezone.now() + timedelta(minutes=1))  # past the first retry's wait
    assert send_goal_review_reminders() == 0
    assert [m.to for m in mailoutbox] == [[goal.owner.email]]


def test_when_one_manager_is_refused_the_others_get_the_past_review_list_once(
    mailoutbox, refused_addresses, time_machine
):
    """The list used to be claimed and mailed in one transaction: a refusal for the second manager
    rolled the claim back after the first was mailed, so the next sweep mailed the first again."""
    maya = UserFactory(manager=True, email="maya@practice.example")
    UserFactory(manager=True, email="tom@practice.example")
    ServiceGoalFactory(owner=maya, review_on=_in_days(-1), title="Morning premises check")
    refused_addresses.add("tom@practice.example")

    send_goal_review_reminders()
    assert [m.to for m in mailoutbox] == [["maya@practice.example"]]
    for minutes in (1, 2, 5):
        time_machine.move_to(timezone.now() + timedelta(minutes=minutes))
        send_goal_review_reminders()
    assert [m.to for m in mailoutbox] == [["maya@practice.example"]]

    refused_addresses.clear()
    time_machine.move_to(timezone.now() + timedelta(minutes=10))
    send_goal_review_reminders()
    assert sorted(m.to[0] for m in mailoutbox) == ["maya@practice.example", "tom@practice.example"]


def test_an_owner_who_has_left_is_replaced_by_the_managers(mailoutbox):
    gone = UserFactory(manager=True, is_active=False, email="left@practice.example")
    UserFactory(manager=True, email="maya@practice.example")
    ServiceGoalFactory(owner=gone, review_on=_in_days(1))
    send_goal_review_reminders()
    assert [m.to for m in mailoutbox] == [["maya@practice.example"]]


def test_measuring_sweep_records_each_active_goal_once_a_day():
    goals = ServiceGoalFactory.create_batch(3)
    ServiceGoalFactory(status="retired", retired_at=timezone.now())
    assert measure_goals() == 3
    assert measure_goals() == 3
    assert GoalMeasurement.objects.count() == 3
    assert set(GoalMeasurement.objects.values_list("goal_id", flat=True)) == {g.pk for g in goals}


def test_review_sweeps_are_on_the_beat_schedule():
    from django.conf import settings

    tasks = {entry["task"] for entry in settings.CELERY_BEAT_SCHEDULE.values()}
    assert {"design.tasks.send_goal_review_reminders", "design.tasks.measure_goals"} <= tasks


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_sweeps_running_at_once_send_each_reminder_once(postgres, mailoutbox):

    maya = UserFactory(manager=True, email="maya@practice.example")  # the only manager
    for days in (1, 2, 3, -1, -5):
        ServiceGoalFactory(owner=maya, review_on=_in_days(days))
    at_once(send_goal_review_reminders, send_goal_review_reminders)  # raises what either raised
    owner_reminders = [m for m in mailoutbox if "review due" in m.subject]
    assert len(owner_reminders) == 3
    assert GoalReviewReminder.objects.filter(kind="past_review").count() == 2
    reported = sum(m.body.count("review was due") for m in mailoutbox if "past review" in m.subject)
    assert reported == 2  # each overdue goal reported once, whichever sweep claimed it


def test_a_goal_on_the_share_of_goals_met_is_measured_after_the_goals_it_summarises(answer_rate):
    watcher = ServiceGoalFactory(metric_key="design.goals_met_pct", target=50)  # created first
    ServiceGoalFactory(metric_key="testing.calls_answered_pct", target=80)  # 87.5: met
    measure_goals()
    assert GoalMeasurement.objects.get(goal=watcher).value == 100
