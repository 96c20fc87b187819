"""Recovery plans (everyone reads, managers edit) and SLA policies (managers only)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from recovery.models import Drill, EscalationStep, RecoveryPlan, SlaPolicy
from tests.factories import RecoveryPlanFactory, RecoveryStepFactory, UserFactory


@pytest.fixture
def plan(db):
    plan = RecoveryPlanFactory(title="Phone system down")
    RecoveryStepFactory(
        plan=plan, position=1, instruction="Switch the main line to the mobile.", owner="Duty manager"
    )
    RecoveryStepFactory(plan=plan, position=2, instruction="Post on the website.", owner="Reception lead")
    return plan


def plan_form_data(**overrides) -> dict:
    data = {
        "title": "Power cut",
        "summary": "The building loses power.",
        "owner": "",
        "drill_every_days": "182",
        "next_drill_on": "",
        "is_active": "on",
        "steps-TOTAL_FORMS": "3",
        "steps-INITIAL_FORMS": "0",
        "steps-MIN_NUM_FORMS": "0",
        "steps-MAX_NUM_FORMS": "40",
        "steps-0-instruction": "Check the fridge temperatures (vaccines).",
        "steps-0-owner": "Practice nurse",
        "steps-1-instruction": "Move to paper appointment lists.",
        "steps-1-owner": "Reception lead",
        "steps-2-instruction": "",
        "steps-2-owner": "",
    }
    data.update(overrides)
    return data


# --- Access matrix ---------------------------------------------------------------------------------


@pytest.mark.django_db
def test_anonymous_visitors_see_no_plan_or_policy(client, plan):
    for url in (
        reverse("recovery:plan_list"),
        reverse("recovery:plan_detail", args=[plan.pk]),
        reverse("recovery:plan_print", args=[plan.pk]),
        reverse("recovery:plan_create"),
        reverse("recovery:sla_list"),
        reverse("recovery:sla_edit", args=["high"]),
    ):
        response = client.get(url)
        assert response.status_code == 302, url
        assert response["Location"].startswith(reverse("login")), url


@pytest.mark.django_db
def test_staff_read_and_print_plans_but_cannot_edit_them_or_policies(staff_client, plan):
    assert "Phone system down" in staff_client.get(reverse("recovery:plan_list")).content.decode()
    page = staff_client.get(reverse("recovery:plan_detail", args=[plan.pk])).content.decode()
    assert "Switch the main line" in page
    assert "Edit plan" not in page
    assert "Log a drill" not in page
    printable = staff_client.get(reverse("recovery:plan_print", args=[plan.pk])).content.decode()
    assert "Switch the main line" in printable
    assert "Duty manager" in printable
    assert staff_client.get(reverse("recovery:plan_create")).status_code == 403
    assert staff_client.get(reverse("recovery:plan_edit", args=[plan.pk])).status_code == 403
    assert (
        staff_client.post(reverse("recovery:plan_edit", args=[plan.pk]), plan_form_data()).status_code == 403
    )
    assert staff_client.post(reverse("recovery:drill_create", args=[plan.pk]), {}).status_code == 403
    assert staff_client.get(reverse("recovery:sla_list")).status_code == 403
    assert staff_client.post(reverse("recovery:sla_edit", args=["high"]), {}).status_code == 403
    plan.refresh_from_db()
    assert plan.title == "Phone system down"


@pytest.mark.django_db
def test_staff_do_not_see_retired_plans(client, staff, manager):
    RecoveryPlanFactory(title="Old fax procedure", is_active=False)
    client.force_login(staff)
    assert "Old fax procedure" not in client.get(reverse("recovery:plan_list")).content.decode()
    client.force_login(manager)
    assert "Old fax procedure" in client.get(reverse("recovery:plan_list")).content.decode()


# --- Plans (managers) ----------------------------------------------------------------------------


@pytest.mark.django_db
def test_a_manager_creates_a_plan_with_ordered_steps(manager_client):
    response = manager_client.post(reverse("recovery:plan_create"), plan_form_data())
    plan = RecoveryPlan.objects.get(title="Power cut")
    assert response.status_code == 302
    assert response["Location"] == reverse("recovery:plan_detail", args=[plan.pk])
    assert list(plan.steps.values_list("position", "owner")) == [(1, "Practice nurse"), (2, "Reception lead")]


@pytest.mark.django_db
def test_editing_a_plan_reorders_and_drops_steps(manager_client, plan):
    data = plan_form_data(
        title="Phone system down",
        **{
            "steps-INITIAL_FORMS": "2",
            "steps-0-instruction": "Post on the website.",
            "steps-0-owner": "Reception lead",
            "steps-1-instruction": "Switch the main line to the mobile.",
            "steps-1-owner": "Duty manager",
            "steps-1-DELETE": "on",
        },
    )
    assert manager_client.post(reverse("recovery:plan_edit", args=[plan.pk]), data).status_code == 302
    assert list(plan.steps.values_list("position", "instruction")) == [(1, "Post on the website.")]


@pytest.mark.django_db
def test_a_plan_without_steps_is_refused_with_a_message(manager_client):
    data = plan_form_data(
        **{"steps-0-instruction": "", "steps-0-owner": "", "steps-1-instruction": "", "steps-1-owner": ""}
    )
    response = manager_client.post(reverse("recovery:plan_create"), data)
    assert response.status_code == 400
    assert "at least one step" in response.content.decode()
    assert not RecoveryPlan.objects.exists()


@pytest.mark.django_db
def test_logging_a_drill_sets_the_next_one(manager_client, manager, plan):
    held = timezone.localdate() - timedelta(days=1)
    response = manager_client.post(
        reverse("recovery:drill_create", args=[plan.pk]),
        {"held_on": held.isoformat(), "outcome": "gaps", "notes": "Mobile had no credit."},
    )
    assert response.status_code == 302
    plan.refresh_from_db()
    assert plan.next_drill_on == held + timedelta(days=plan.drill_every_days)
    assert Drill.objects.get().led_by == manager


@pytest.mark.django_db
def test_a_drill_in_the_future_is_refused(manager_client, plan):
    tomorrow = timezone.localdate() + timedelta(days=1)
    response = manager_client.post(
        reverse("recovery:drill_create", args=[plan.pk]),
        {"held_on": tomorrow.isoformat(), "outcome": "worked"},
    )
    assert response.status_code == 400
    assert "once it has happened" in response.content.decode()
    assert not Drill.objects.exists()


@pytest.mark.django_db
def test_an_overdue_drill_is_flagged_and_its_owner_reminded_once(staff_client, mailoutbox):
    from recovery import tasks

    owner = UserFactory(email="owner@practice.example")
    plan = RecoveryPlanFactory(owner=owner, next_drill_on=timezone.localdate() - timedelta(days=3))
    assert "Drill overdue" in staff_client.get(reverse("recovery:plan_list")).content.decode()
    from django.test import override_settings

    with override_settings(RECOVERY_REMINDER_HOUR=0):
        tasks.send_recovery_reminders()
        tasks.send_recovery_reminders()
    assert [m.to for m in mailoutbox] == [["owner@practice.example"]]
    assert plan.title in mailoutbox[0].subject


# --- SLA policies (managers) ----------------------------------------------------------------------


def sla_data(**overrides) -> dict:
    data = {
        "respond_within": "2",
        "resolve_within": "48",
        "steps-TOTAL_FORMS": "2",
        "steps-INITIAL_FORMS": "0",
        "steps-MIN_NUM_FORMS": "0",
        "steps-MAX_NUM_FORMS": "6",
        "steps-0-after": "0",
        "steps-0-notify_role": "Managers",
        "steps-0-notify_user": "",
        "steps-1-after": "",
        "steps-1-notify_role": "",
        "steps-1-notify_user": "",
    }
    data.update(overrides)
    return data


@pytest.mark.django_db
def test_a_manager_changes_a_policy_and_its_ladder(manager_client):
    lead = UserFactory()
    page = manager_client.get(reverse("recovery:sla_list")).content.decode()
    assert "4 h" in page  # high: respond within 4 h
    data = sla_data(**{"steps-1-after": "1.5", "steps-1-notify_user": lead.pk})
    response = manager_client.post(reverse("recovery:sla_edit", args=["high"]), data)
    assert response.status_code == 302
    policy = SlaPolicy.objects.get(severity="high")
    assert policy.respond_within == timedelta(hours=2)
    assert policy.resolve_within == timedelta(hours=48)
    steps = list(EscalationStep.objects.filter(policy=policy).order_by("level"))
    assert [(s.level, s.after, s.notify_role, s.notify_user) for s in steps] == [
        (1, timedelta(0), "Managers", None),
        (2, timedelta(hours=1.5), "", lead),
    ]


@pytest.mark.django_db
def test_a_policy_that_resolves_before_it_responds_is_refused(manager_client):
    response = manager_client.post(reverse("recovery:sla_edit", args=["high"]), sla_data(resolve_within="1"))
    assert response.status_code == 400
    assert "cannot be due before the first response" in response.content.decode()
    assert SlaPolicy.objects.get(severity="high").resolve_within == timedelta(days=3)


@pytest.mark.django_db
def test_a_step_with_both_a_role_and_a_person_is_refused(manager_client, manager):
    data = sla_data(**{"steps-0-notify_user": manager.pk})
    response = manager_client.post(reverse("recovery:sla_edit", args=["high"]), data)
    assert response.status_code == 400
    assert "either a role or one person" in response.content.decode()
    assert EscalationStep.objects.filter(policy__severity="high").count() == 2


@pytest.mark.django_db
def test_an_unknown_severity_is_a_404(manager_client):
    assert manager_client.get(reverse("recovery:sla_edit", args=["apocalyptic"])).status_code == 404
