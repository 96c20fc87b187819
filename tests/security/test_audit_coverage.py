"""One audit log: every configuration change a manager makes, and every read of patient details,
writes exactly one event naming who, what and (for configuration) what changed."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from recovery.models import SlaPolicy
from servicedesk.models import OpeningHours
from servicedesk.security.models import AuditEvent
from tests.factories import (
    AuditEventFactory,
    ChecklistTemplateFactory,
    LocationFactory,
    QuestionFactory,
    ResponseFactory,
    ServiceGoalFactory,
    SurveyFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db


def _only_event() -> AuditEvent:
    (event,) = AuditEvent.objects.all()
    return event


def test_adding_a_team_member_is_recorded_with_their_role(manager_client, manager):
    manager_client.post(
        reverse("staff_member_create"),
        {
            "username": "sam",
            "first_name": "Sam",
            "last_name": "Jones",
            "email": "sam@p.example",
            "role": "Staff",
        },
    )
    event = _only_event()
    assert (event.action, event.actor, event.target_type) == ("created", manager, "servicedesk.user")
    assert event.target_label == "Team member Sam Jones (sam)"
    assert event.data["role"] == ["—", "Staff"]


def test_changing_a_members_role_records_before_and_after(manager_client):
    member = UserFactory(first_name="Sam", email="sam@p.example")
    manager_client.post(
        reverse("staff_member_update", args=[member.pk]),
        {"username": member.username, "first_name": "Sam", "last_name": member.last_name,
         "email": "sam@p.example", "role": "Managers", "is_active": "on"},
    )  # fmt: skip
    assert _only_event().data == {"role": ["Staff", "Manager"]}


def test_opening_hours_changes_name_the_days_that_changed(manager_client, manager):
    from servicedesk import services

    services.opening_hours_set(
        days={0: (timezone.datetime(2026, 1, 1, 9).time(), timezone.datetime(2026, 1, 1, 17).time())},
        by=manager,
    )
    AuditEvent.objects.all().delete()
    services.opening_hours_set(
        days={0: (OpeningHours.objects.get().opens, timezone.datetime(2026, 1, 1, 18).time())}, by=manager
    )
    assert _only_event().data == {"Monday": ["09:00 to 17:00", "09:00 to 18:00"]}


def test_adding_and_removing_a_closed_day_are_recorded(manager_client):
    manager_client.post(reverse("closed_day_add"), {"date": "2026-12-25", "reason": "Christmas Day"})
    day_event = _only_event()
    assert (day_event.action, day_event.target_label) == ("created", "Closed day Fri 25 Dec 2026")
    manager_client.post(reverse("closed_day_remove", args=[day_event.target_id]))
    assert AuditEvent.objects.filter(action="removed", target_type="servicedesk.closedday").count() == 1


def test_a_location_edit_records_the_fields_changed(manager_client):
    location = LocationFactory(name="Riverside", address="1 High Street", phone="")
    manager_client.post(
        reverse("location_update", args=[location.pk]),
        {"name": "Riverside Surgery", "address": "1 High Street", "phone": ""},
    )
    assert _only_event().data == {"name": ["Riverside", "Riverside Surgery"]}


def test_an_sla_policy_change_says_what_the_promise_was_and_is(manager):
    from recovery import services

    policy = SlaPolicy.objects.get(severity="high")
    services.sla_policy_update(
        policy=policy,
        respond_within=timedelta(hours=1),
        resolve_within=policy.resolve_within,
        steps=[],
        by=manager,
    )
    event = AuditEvent.objects.get(target_type="recovery.slapolicy")
    assert event.target_label == "SLA policy “High”"
    assert event.data["respond within"][1] == "1 h"


def test_checklist_templates_and_items_are_recorded(manager_client):
    template = ChecklistTemplateFactory(title="Morning check")
    manager_client.post(
        reverse("delivery:item_create", args=[template.pk]), {"text": "Fire exits clear", "is_critical": "on"}
    )
    item = template.items.get()
    manager_client.post(reverse("delivery:item_remove", args=[item.pk]))
    actions = list(AuditEvent.objects.order_by("pk").values_list("action", "target_label"))
    assert actions == [
        ("created", "Checklist item “Fire exits clear”"),
        ("removed", "Checklist item “Fire exits clear”"),
    ]


def test_switching_a_survey_on_is_recorded_and_the_message_names_it(manager_client):
    survey = SurveyFactory(title="After your visit", is_active=False)
    QuestionFactory(survey=survey)
    response = manager_client.post(
        reverse("feedback:survey_set_active", args=[survey.pk]), {"active": "1"}, follow=True
    )
    assert "“After your visit” is now on." in response.content.decode()
    assert _only_event().data == {"on": ["no", "yes"]}


def test_goal_changes_go_to_the_audit_log_as_well_as_the_goals_history(manager):
    from design import services

    goal = ServiceGoalFactory(title="Answer the phone")
    services.goal_retire(goal=goal, by=manager, now=timezone.now())
    assert goal.changes.count() == 1
    assert _only_event().target_label == "Service goal “Answer the phone”"


def test_viewing_a_response_with_contact_details_is_recorded_without_them(manager_client, manager):
    response = ResponseFactory(
        consent_to_contact=True, contact_name="Jane Canary", contact_email="jane@example.org"
    )
    manager_client.get(reverse("feedback:response_detail", args=[response.pk]))
    event = _only_event()
    assert (event.action, event.target_type, event.target_id) == (
        "viewed",
        "feedback.response",
        str(response.pk),
    )
    stored = str(AuditEvent.objects.values().get())
    assert "Canary" not in stored
    assert "jane@" not in stored


def test_viewing_an_anonymous_response_is_not_recorded(manager_client):
    manager_client.get(reverse("feedback:response_detail", args=[ResponseFactory().pk]))
    assert not AuditEvent.objects.exists()


def test_the_responses_csv_export_is_recorded_with_its_count(manager_client):
    survey = SurveyFactory(title="Kiosk")
    ResponseFactory.create_batch(3, survey=survey)
    b"".join(manager_client.get(reverse("feedback:survey_export", args=[survey.pk])).streaming_content)
    event = _only_event()
    assert (event.action, event.count) == ("exported", 3)


# --- The page's filters ---------------------------------------------------------------------------


def test_the_log_filters_by_kind_person_and_dates(manager_client, manager):
    other = UserFactory(manager=True, username="omar")
    mine = AuditEventFactory(actor=manager, target_type="recovery.slapolicy")
    AuditEventFactory(actor=other, target_type="recovery.slapolicy")
    AuditEventFactory(actor=manager, target_type="servicedesk.location")
    old = AuditEventFactory(actor=manager, target_type="recovery.slapolicy")
    AuditEvent.objects.filter(pk=old.pk).update(at=timezone.now() - timedelta(days=40))
    today = timezone.localdate()
    response = manager_client.get(
        reverse("security:audit_log"),
        {"kind": "recovery.slapolicy", "actor": manager.pk, "since": (today - timedelta(days=7)).isoformat()},
    )
    assert list(response.context["object_list"]) == [mine]


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ({"since": "2026-12-10", "until": "2026-12-01"}, "until"),
        ({"since": "0001-01-01"}, "since"),
        ({"since": "soon"}, "since"),
    ],
)
def test_a_bad_filter_is_a_400_with_a_message_not_a_500(manager_client, query, field):
    response = manager_client.get(reverse("security:audit_log"), query)
    assert response.status_code == 400
    assert response.context["form"].errors[field]


@pytest.mark.parametrize("role", ["anonymous", "staff"])
def test_only_managers_read_the_audit_log(client, role):
    if role == "staff":
        client.force_login(UserFactory())
    assert client.get(reverse("security:audit_log")).status_code in (302, 403)


@pytest.mark.django_db(transaction=True)
def test_events_recorded_before_the_one_audit_log_keep_every_row():
    from django.db import connection
    from django.db.migrations.executor import MigrationExecutor

    before = [("security", "0001_initial")]
    executor = MigrationExecutor(connection)
    executor.migrate(before)
    old = executor.loader.project_state(before).apps.get_model("security", "AuditEvent")
    old.objects.create(action="exported", target_type="feedback.invitation", count=12, actor_label="maya")
    old.objects.create(action="erased", target_type="feedback.response", target_id="7")

    executor = MigrationExecutor(connection)
    executor.migrate(executor.loader.graph.leaf_nodes())
    rows = list(
        AuditEvent.objects.order_by("pk").values_list("action", "target_type", "count", "actor_label", "data")
    )
    assert rows == [
        ("exported", "feedback.invitation", 12, "maya", {}),
        ("erased", "feedback.response", None, "", {}),
    ]
