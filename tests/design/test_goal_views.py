"""Goal pages: who may do what, creating and editing with clear errors, retiring, acknowledging."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from design.models import GoalAcknowledgement, ServiceGoal
from tests.factories import GoalAcknowledgementFactory, LocationFactory, ServiceGoalFactory, UserFactory

pytestmark = pytest.mark.django_db


def _form(manager, **overrides):
    data = {
        "title": "Phone answered within 3 rings",
        "purpose": "Patients get through first time.",
        "pillar": "delivery",
        "owner": manager.pk,
        "metric_key": "testing.calls_answered_pct",
        "metric_params": "",
        "period": "rolling_30_days",
        "comparator": "gte",
        "target": "85",
        "tolerance": "2",
        "budget_money": "150",
        "budget_staff_hours": "10",
        "review_on": (timezone.localdate() + timedelta(days=60)).isoformat(),
    }
    data.update(overrides)
    return data


# --- access matrix -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "url_name", ["goal_list", "goal_create", "profile_list", "profile_create", "metric_preview"]
)
def test_anonymous_visitors_are_sent_to_login(client, url_name):
    response = client.get(reverse(f"design:{url_name}"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


def test_anonymous_visitors_cannot_open_a_goal(client):
    goal = ServiceGoalFactory()
    response = client.get(reverse("design:goal_detail", args=[goal.pk]))
    assert response.status_code == 302


@pytest.mark.parametrize(
    ("method", "url_name"),
    [
        ("get", "goal_create"),
        ("post", "goal_create"),
        ("get", "goal_update"),
        ("post", "goal_update"),
        ("post", "goal_retire"),
        ("post", "goal_reactivate"),
        ("get", "metric_preview"),
    ],
)
def test_staff_cannot_write_goals(staff_client, method, url_name):
    goal = ServiceGoalFactory()
    args = [] if url_name in ("goal_create", "metric_preview") else [goal.pk]
    response = getattr(staff_client, method)(reverse(f"design:{url_name}", args=args))
    assert response.status_code == 403
    goal.refresh_from_db()
    assert goal.is_active


def test_staff_read_active_goals_but_not_retired_ones(staff_client):
    active = ServiceGoalFactory(title="Interpreter booked for everyone who needs one")
    retired = ServiceGoalFactory(title="Old promise", status="retired", retired_at=timezone.now())
    page = staff_client.get(reverse("design:goal_list")).content.decode()
    assert active.title in page
    assert retired.title not in page
    assert staff_client.get(reverse("design:goal_detail", args=[active.pk])).status_code == 200
    assert staff_client.get(reverse("design:goal_detail", args=[retired.pk])).status_code == 404
    # and asking for retired goals in the list changes nothing for staff
    assert (
        retired.title
        not in staff_client.get(reverse("design:goal_list") + "?status=retired").content.decode()
    )


def test_staff_see_no_edit_controls(staff_client):
    goal = ServiceGoalFactory()
    page = staff_client.get(reverse("design:goal_detail", args=[goal.pk])).content.decode()
    assert reverse("design:goal_update", args=[goal.pk]) not in page
    assert "Retire goal" not in page
    assert "I have read and understood this goal" in page


def test_an_account_without_a_role_cannot_read_goals(client):
    client.force_login(UserFactory(role=None))
    assert client.get(reverse("design:goal_list")).status_code == 403


# --- creating and editing ------------------------------------------------------------------------


def test_manager_creates_a_goal_against_a_registered_metric_and_sees_its_status(
    manager_client, manager, answer_rate
):
    answer_rate["value"] = 91.0
    response = manager_client.post(reverse("design:goal_create"), _form(manager), follow=True)

    goal = ServiceGoal.objects.get()
    assert response.redirect_chain[-1][0] == reverse("design:goal_detail", args=[goal.pk])
    assert (goal.target, goal.tolerance, goal.version, goal.owner) == (Decimal(85), Decimal(2), 1, manager)
    page = response.content.decode()
    assert "Met" in page
    assert "91 %" in page
    assert goal.measurements.get().status == "met"  # the list shows it straight away


def test_the_form_shows_the_metric_label_unit_and_current_value(manager_client, answer_rate):
    answer_rate["value"] = 72.25
    goal = ServiceGoalFactory(metric_key="testing.calls_answered_pct")
    page = manager_client.get(reverse("design:goal_update", args=[goal.pk])).content.decode()
    assert "Calls answered within 3 rings" in page
    assert "72.3 %" in page  # one rounding rule: a % to one place, half away from zero
    assert "unit: %" in page


def test_the_metric_picker_offers_registered_metrics_and_keeps_a_goals_unregistered_one(
    manager_client, answer_rate
):
    goal = ServiceGoalFactory(metric_key="future.figure_not_built_yet")
    page = manager_client.get(reverse("design:goal_update", args=[goal.pk])).content.decode()
    assert 'value="testing.calls_answered_pct"' in page
    assert "future.figure_not_built_yet (not available yet)" in page
    assert "design.goals_met_pct" in page  # design's own metric is registered at start-up


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        ({"target": "ninety"}, "target", "Enter the target as a number"),
        ({"target": "150"}, "target", "cannot be above 100"),
        ({"target": "-5"}, "target", "cannot be below 0"),
        ({"tolerance": "-1"}, "tolerance", "cannot be negative"),
        ({"budget_money": "-10"}, "budget_money", "cannot be negative"),
        ({"budget_staff_hours": "-2"}, "budget_staff_hours", "cannot be negative"),
        ({"review_on": "2020-01-01"}, "review_on", "The review date is in the past"),
        ({"review_on": "next week"}, "review_on", "Enter a date"),
        ({"metric_key": "nobody.registered_this"}, "metric_key", "Select a valid choice"),
        ({"metric_params": "just words"}, "metric_params", "should look like name=value"),
        ({"title": ""}, "title", "This field is required"),
    ],
)
def test_bad_input_gives_a_form_error_and_writes_nothing(
    manager_client, manager, answer_rate, overrides, field, message
):
    response = manager_client.post(reverse("design:goal_create"), _form(manager, **overrides))
    assert response.status_code == 400
    assert message in " ".join(response.context["form"].errors[field])
    assert 'id="error-summary"' in response.content.decode()
    assert not ServiceGoal.objects.exists()


def test_a_fractional_target_for_a_count_is_refused(manager_client, manager, complaint_count):
    response = manager_client.post(
        reverse("design:goal_create"),
        _form(manager, metric_key="testing.complaints", comparator="lte", target="2.5", tolerance="0"),
    )
    assert response.status_code == 400
    assert "whole number" in response.context["form"].errors["target"][0]


def test_a_negative_hours_target_is_refused(manager_client, manager, response_hours):
    response = manager_client.post(
        reverse("design:goal_create"), _form(manager, metric_key="testing.hours_to_respond", target="-4")
    )
    assert response.status_code == 400
    assert "cannot be below 0" in response.context["form"].errors["target"][0]


def test_a_filter_the_metric_does_not_honour_is_refused(manager_client, manager, answer_rate):
    from tests.factories import PatientNeedProfileFactory

    profile = PatientNeedProfileFactory()
    response = manager_client.post(reverse("design:goal_create"), _form(manager, need_profile=profile.pk))
    assert response.status_code == 400
    assert "cannot be cut by need profile" in response.context["form"].errors["need_profile"][0]


def test_editing_an_overdue_goal_without_touching_its_review_date_is_allowed(
    manager_client, manager, answer_rate
):
    goal = ServiceGoalFactory(metric_key="testing.calls_answered_pct", target=85, tolerance=2, owner=manager)
    ServiceGoal.objects.filter(pk=goal.pk).update(review_on=timezone.localdate() - timedelta(days=3))
    data = _form(
        manager, title="Clearer wording", review_on=(timezone.localdate() - timedelta(days=3)).isoformat()
    )
    response = manager_client.post(reverse("design:goal_update", args=[goal.pk]), data)
    assert response.status_code == 302
    goal.refresh_from_db()
    assert goal.title == "Clearer wording"
    assert goal.version == 1


def test_changing_the_target_in_the_form_makes_a_new_version(manager_client, manager, answer_rate, staff):
    goal = ServiceGoalFactory(metric_key="testing.calls_answered_pct", target=85, tolerance=2, owner=manager)
    GoalAcknowledgementFactory(goal=goal, user=staff)
    response = manager_client.post(
        reverse("design:goal_update", args=[goal.pk]), _form(manager, target="90"), follow=True
    )
    goal.refresh_from_db()
    assert goal.version == 2
    assert "Saved as version 2" in response.content.decode()
    assert "Nobody has acknowledged this version yet." in response.content.decode()


# --- retiring ------------------------------------------------------------------------------------


def test_manager_retires_a_goal_and_it_leaves_the_active_list(manager_client):
    goal = ServiceGoalFactory(title="Morning premises check")
    response = manager_client.post(
        reverse("design:goal_retire", args=[goal.pk]), {"confirmed": "yes"}, follow=True
    )
    goal.refresh_from_db()
    assert goal.status == ServiceGoal.Status.RETIRED
    assert "is retired" in response.content.decode()
    assert "Morning premises check" not in manager_client.get(reverse("design:goal_list")).content.decode()
    retired_page = manager_client.get(reverse("design:goal_list") + "?status=retired").content.decode()
    assert "Morning premises check" in retired_page


def test_retire_needs_a_post(manager_client):
    goal = ServiceGoalFactory()
    assert manager_client.get(reverse("design:goal_retire", args=[goal.pk])).status_code == 405


# --- acknowledging -------------------------------------------------------------------------------


def test_staff_acknowledge_the_current_version(staff_client, staff):
    goal = ServiceGoalFactory()
    response = staff_client.post(
        reverse("design:goal_acknowledge", args=[goal.pk]), {"version": "1"}, follow=True
    )
    assert GoalAcknowledgement.objects.filter(goal=goal, user=staff, version=1).exists()
    assert "You acknowledged version 1" in response.content.decode()


def test_acknowledging_a_stale_version_explains_and_records_nothing(staff_client, manager):
    goal = ServiceGoalFactory(version=2)
    response = staff_client.post(
        reverse("design:goal_acknowledge", args=[goal.pk]), {"version": "1"}, follow=True
    )
    assert "changed while you were reading" in response.content.decode()
    assert not GoalAcknowledgement.objects.exists()


def test_acknowledging_without_a_version_is_a_bad_request(staff_client):
    goal = ServiceGoalFactory()
    assert (
        staff_client.post(reverse("design:goal_acknowledge", args=[goal.pk]), {"version": "x"}).status_code
        == 400
    )
    assert not GoalAcknowledgement.objects.exists()


def test_acknowledging_returns_only_to_a_page_of_this_site(staff_client):
    goal = ServiceGoalFactory()
    response = staff_client.post(
        reverse("design:goal_acknowledge", args=[goal.pk]), {"version": "1", "next": "https://evil.example/"}
    )
    assert response["Location"] == reverse("design:goal_detail", args=[goal.pk])


def test_manager_sees_who_acknowledged_the_current_version_and_who_not_yet(manager_client):
    goal = ServiceGoalFactory()
    read = UserFactory(first_name="Sam", last_name="Okafor")
    unread = UserFactory(first_name="Lucía", last_name="García")
    old = UserFactory(first_name="Olu", last_name="Adeyemi")
    GoalAcknowledgementFactory(goal=goal, user=read)
    ServiceGoal.objects.filter(pk=goal.pk).update(version=2)
    GoalAcknowledgementFactory(goal=goal, user=read, version=2)
    GoalAcknowledgementFactory(goal=goal, user=old, version=1)

    response = manager_client.get(reverse("design:goal_detail", args=[goal.pk]))

    assert [a.user for a in response.context["acknowledgements"]] == [read]
    assert unread in response.context["not_acknowledged"]
    assert old in response.context["not_acknowledged"]  # read version 1 only
    assert "Sam Okafor" in response.content.decode()


def test_my_work_lists_goals_still_to_acknowledge(staff_client, staff):
    todo = ServiceGoalFactory(title="FFT positive at the front desk")
    done = ServiceGoalFactory(title="Morning premises check")
    GoalAcknowledgementFactory(goal=done, user=staff)
    page = staff_client.get(reverse("my_work")).content.decode()
    assert todo.title in page
    assert done.title not in page


# --- the list stays cheap ----------------------------------------------------------------------


@pytest.mark.parametrize("who", ["manager", "staff"])
def test_goal_list_query_count_does_not_grow_with_goals(
    client, django_assert_num_queries, who, manager, staff
):
    user = manager if who == "manager" else staff
    client.force_login(user)
    location = LocationFactory()
    ServiceGoalFactory.create_batch(2, location=location)
    client.get(reverse("design:goal_list"))  # warm up: session, content types

    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as few:
        client.get(reverse("design:goal_list"))
    for goal in ServiceGoalFactory.create_batch(10, location=location):
        GoalAcknowledgementFactory(goal=goal, user=staff)
    with django_assert_num_queries(len(few.captured_queries)):
        response = client.get(reverse("design:goal_list"))
    assert len(response.context["page"].object_list) == 12


# --- metric preview -----------------------------------------------------------------------------


def test_metric_preview_gives_label_unit_and_current_value(manager_client, answer_rate):
    answer_rate["value"] = 64.123
    location = LocationFactory()
    response = manager_client.get(
        reverse("design:metric_preview"),
        {"metric_key": "testing.calls_answered_pct", "location": location.pk, "period": "quarter_to_date"},
    )
    data = response.json()
    assert data["label"] == "Calls answered within 3 rings"
    assert data["unit"] == "percent"
    assert data["value"] == 64.1  # rounded by the one rule
    assert data["period_label"] == "Quarter to date"
    assert data["suggested_comparator"] == "gte"
    assert answer_rate["calls"][-1][1].location_id == location.pk


def test_metric_preview_of_an_unregistered_key_says_so(manager_client):
    # A key no app registers (feedback.nps, used here before, is registered by feedback now).
    url = reverse("design:metric_preview")
    data = manager_client.get(url, {"metric_key": "feedback.not_a_metric"}).json()
    assert data == {"key": "feedback.not_a_metric", "registered": False}


def test_metric_preview_refuses_a_malformed_filter(manager_client, answer_rate):
    response = manager_client.get(
        reverse("design:metric_preview"), {"metric_key": "testing.calls_answered_pct", "location": "abc"}
    )
    assert response.status_code == 400
    assert "location" in response.json()["error"]


def test_goal_list_reads_design_then_delivery_then_recovery(staff_client):
    ServiceGoalFactory(title="A recovery goal", pillar="recovery")
    ServiceGoalFactory(title="A delivery goal", pillar="delivery")
    ServiceGoalFactory(title="A design goal", pillar="design")
    goals = staff_client.get(reverse("design:goal_list")).context["page"].object_list
    assert [g.pillar for g in goals] == ["design", "delivery", "recovery"]
