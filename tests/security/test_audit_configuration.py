"""Every change a manager makes to how the practice is set up writes exactly one audit event: who
did it, what they did, to which record, and (for a change) which fields went from what to what."""

from __future__ import annotations

from datetime import time, timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from delivery.models import ChecklistTemplate, Protocol
from feedback.models import InvitationRules, Survey
from recovery.models import SlaPolicy
from servicedesk.audit import sentence
from servicedesk.models import ClosedDay, Location, Touchpoint
from servicedesk.roles import Role
from servicedesk.security.models import AuditEvent
from tests.factories import (
    ChecklistItemFactory,
    ChecklistTemplateFactory,
    LocationFactory,
    QuestionFactory,
    ServiceGoalFactory,
    SurveyFactory,
    TouchpointFactory,
    UserFactory,
)
from tests.recovery.test_plan_and_sla_views import sla_data
from tests.servicedesk.test_opening_hours import week

pytestmark = pytest.mark.django_db


def the_event(by, action: str, target_type: str, target_id: object = None) -> AuditEvent:
    """The one event written since the test began, checked for who, what and which record."""
    (event,) = AuditEvent.objects.select_related("actor")
    assert (event.actor, event.action, event.target_type) == (by, action, target_type)
    if target_id is not None:
        assert event.target_id == str(target_id)
    return event


# --- Team members and roles ---------------------------------------------------------------------------


def test_adding_a_team_member_records_their_role(manager_client, manager):
    manager_client.post(
        reverse("staff_member_create"),
        {"username": "sam", "first_name": "Sam", "last_name": "Jones", "email": "sam@p.example",
         "role": "Staff"},
    )  # fmt: skip
    event = the_event(manager, "created", "servicedesk.user")
    assert event.target_label == "the team member Sam Jones (sam)"
    assert event.data == {"role": ["—", "Staff"]}


def test_changing_a_members_role_records_before_and_after(manager_client, manager):
    member = UserFactory(first_name="Sam", email="sam@p.example")
    manager_client.post(
        reverse("staff_member_update", args=[member.pk]),
        {"username": member.username, "first_name": "Sam", "last_name": member.last_name,
         "email": "sam@p.example", "role": "Managers", "is_active": "on"},
    )  # fmt: skip
    assert the_event(manager, "changed", "servicedesk.user", member.pk).data == {"role": ["Staff", "Manager"]}


def test_taking_away_a_members_access_is_recorded_in_words(manager_client, manager):
    member = UserFactory(first_name="Sam", email="sam@p.example")
    manager_client.post(
        reverse("staff_member_update", args=[member.pk]),
        {"username": member.username, "first_name": "Sam", "last_name": member.last_name,
         "email": "sam@p.example", "role": "Staff"},
    )  # fmt: skip
    assert the_event(manager, "changed", "servicedesk.user", member.pk).data == {"can log in": ["yes", "no"]}


def test_saving_a_member_unchanged_records_nothing(manager_client):
    member = UserFactory(first_name="Sam", email="sam@p.example")
    manager_client.post(
        reverse("staff_member_update", args=[member.pk]),
        {"username": member.username, "first_name": "Sam", "last_name": member.last_name,
         "email": "sam@p.example", "role": "Staff", "is_active": "on"},
    )  # fmt: skip
    assert not AuditEvent.objects.exists()


def test_sending_a_new_welcome_link_is_recorded(manager_client, manager):
    from servicedesk import services

    member = services.staff_member_create(
        username="omar", first_name="Omar", last_name="Ali", email="omar@p.example",
        role=Role.STAFF, location=None, by=manager,
    )  # fmt: skip
    services.welcome_email_send(user_id=member.pk, now=timezone.now())
    AuditEvent.objects.all().delete()

    manager_client.post(reverse("staff_member_send_password_link", args=[member.pk]))

    event = the_event(manager, "resent", "servicedesk.user", member.pk)
    assert sentence(event).endswith("sent a new set-password link to the team member Omar Ali (omar)")


# --- Locations and touchpoints -------------------------------------------------------------------------


def test_adding_a_location_records_what_it_was_set_to(manager_client, manager):
    manager_client.post(reverse("location_create"), {"name": "Riverside", "address": "1 High Street"})
    location = Location.objects.get()
    event = the_event(manager, "created", "servicedesk.location", location.pk)
    assert event.target_label == "the location “Riverside”"
    assert event.data == {"name": ["—", "Riverside"], "address": ["—", "1 High Street"]}


def test_a_location_edit_records_only_the_fields_changed(manager_client, manager):
    location = LocationFactory(name="Riverside", address="1 High Street", phone="")
    manager_client.post(
        reverse("location_update", args=[location.pk]),
        {"name": "Riverside Surgery", "address": "1 High Street", "phone": ""},
    )
    event = the_event(manager, "changed", "servicedesk.location", location.pk)
    assert event.data == {"name": ["Riverside", "Riverside Surgery"]}


def test_a_touchpoint_edit_names_the_channel_and_place_as_managers_read_them(manager_client, manager):
    site = LocationFactory(name="Riverside")
    desk = TouchpointFactory(name="Front desk", channel="in_person", location=None)
    manager_client.post(
        reverse("touchpoint_update", args=[desk.pk]),
        {"name": "Front desk", "channel": "phone", "location": site.pk, "description": ""},
    )
    event = the_event(manager, "changed", "servicedesk.touchpoint", desk.pk)
    assert event.data == {
        "channel": [str(Touchpoint.Channel.IN_PERSON.label), str(Touchpoint.Channel.PHONE.label)],
        "location": ["—", "Riverside"],
    }


@pytest.mark.parametrize(("active", "action"), [("0", "disabled"), ("1", "enabled")])
def test_switching_a_location_off_or_on_is_recorded(manager_client, manager, active, action):
    location = LocationFactory(is_active=active == "0")
    manager_client.post(reverse("location_set_active", args=[location.pk]), {"active": active})
    the_event(manager, action, "servicedesk.location", location.pk)


# --- Opening hours and closed days -----------------------------------------------------------------


def test_opening_hours_changes_name_the_days_that_changed(manager_client, manager):
    from servicedesk import services

    services.opening_hours_set(days={n: (time(8), time(18, 30)) for n in range(5)}, by=manager)
    AuditEvent.objects.all().delete()

    manager_client.post(reverse("opening_hours"), week(mon=("08:00", "20:00"), sat=("09:00", "12:00")))

    event = the_event(manager, "changed", "servicedesk.openinghours")
    assert event.data == {
        "Monday": ["08:00 to 18:30", "08:00 to 20:00"],
        "Saturday": ["closed", "09:00 to 12:00"],
    }


def test_saving_the_same_opening_hours_records_nothing(manager_client, manager):
    manager_client.post(reverse("opening_hours"), week())
    AuditEvent.objects.all().delete()
    manager_client.post(reverse("opening_hours"), week())
    assert not AuditEvent.objects.exists()


def test_adding_and_removing_a_closed_day_are_one_event_each(manager_client, manager):
    manager_client.post(reverse("closed_day_add"), {"date": "2026-12-25", "reason": "Christmas Day"})
    day = ClosedDay.objects.get()
    added = the_event(manager, "created", "servicedesk.closedday", day.pk)
    assert added.target_label == "the closed day Fri 25 Dec 2026"
    assert added.data == {"reason": ["—", "Christmas Day"]}
    AuditEvent.objects.all().delete()

    manager_client.post(reverse("closed_day_remove", args=[day.pk]), {"confirmed": "yes"})

    assert the_event(manager, "removed", "servicedesk.closedday", day.pk).target_label == (
        "the closed day Fri 25 Dec 2026"
    )


# --- SLA policies --------------------------------------------------------------------------------------

ONE_STEP = {"steps-TOTAL_FORMS": "1"}  # managers hear at once when a deadline is missed


def test_an_sla_policy_change_says_what_the_promise_was_and_is(manager_client, manager):
    policy = SlaPolicy.objects.get(severity="high")
    manager_client.post(reverse("recovery:sla_edit", args=["high"]), sla_data(respond_within="1", **ONE_STEP))
    event = the_event(manager, "changed", "recovery.slapolicy", policy.pk)
    assert event.target_label == "the SLA policy “High”"
    assert event.data["respond within"][1] == "1 h"


def test_saving_an_sla_policy_unchanged_records_nothing(manager_client):
    manager_client.post(reverse("recovery:sla_edit", args=["high"]), sla_data(**ONE_STEP))
    AuditEvent.objects.all().delete()
    manager_client.post(reverse("recovery:sla_edit", args=["high"]), sla_data(**ONE_STEP))
    assert not AuditEvent.objects.exists()


# --- Checklists, their items, protocols ----------------------------------------------------------------


def test_adding_a_checklist_records_its_settings_in_words(manager_client, manager):
    manager_client.post(
        reverse("delivery:template_create"),
        {"title": "Morning check", "dimension": "place", "frequency": "daily", "due_time": "08:30",
         "responsible_role": Role.STAFF, "due_within_days": 14, "is_active": "on"},
    )  # fmt: skip
    template = ChecklistTemplate.objects.get()
    event = the_event(manager, "created", "delivery.checklisttemplate", template.pk)
    assert event.target_label == "the checklist “Morning check”"
    assert event.data["frequency"] == ["—", "Daily"]
    assert event.data["due by"] == ["—", "08:30"]


def test_changing_a_checklist_records_the_fields_changed(manager_client, manager):
    template = ChecklistTemplateFactory(
        title="Morning check", slug="morning", frequency="daily", location=None, touchpoint=None
    )
    manager_client.post(
        reverse("delivery:template_update", args=[template.pk]),
        {"title": "Morning check", "slug": "morning", "dimension": "place", "frequency": "weekly",
         "due_time": template.due_time.strftime("%H:%M"), "responsible_role": Role.STAFF,
         "due_within_days": template.due_within_days, "is_active": "on"},
    )  # fmt: skip
    event = the_event(manager, "changed", "delivery.checklisttemplate", template.pk)
    assert event.data == {"frequency": ["Daily", "Weekly"]}


def test_each_change_to_a_checklists_items_is_one_event(manager_client, manager):
    template = ChecklistTemplateFactory(title="Morning check")
    first = ChecklistItemFactory(template=template, text="Doors unlocked", order=1)

    manager_client.post(reverse("delivery:item_create", args=[template.pk]), {"text": "Fire exits clear"})
    item = template.items.get(text="Fire exits clear")
    added = the_event(manager, "created", "delivery.checklistitem", item.pk)
    assert added.target_label == "the item “Fire exits clear” of the checklist “Morning check”"
    AuditEvent.objects.all().delete()

    manager_client.post(
        reverse("delivery:item_update", args=[item.pk]), {"text": "Fire exits clear", "is_critical": "on"}
    )
    assert the_event(manager, "changed", "delivery.checklistitem", item.pk).data == {
        "critical": ["no", "yes"]
    }
    AuditEvent.objects.all().delete()

    manager_client.post(reverse("delivery:item_move", args=[item.pk]), {"direction": "up"})
    assert the_event(manager, "moved", "delivery.checklistitem", item.pk).data == {"position": ["2", "1"]}
    AuditEvent.objects.all().delete()

    manager_client.post(reverse("delivery:item_remove", args=[first.pk]), {"confirmed": "yes"})
    the_event(manager, "removed", "delivery.checklistitem", first.pk)


def test_moving_an_item_that_cannot_move_records_nothing(manager_client):
    item = ChecklistItemFactory(order=1)
    manager_client.post(reverse("delivery:item_move", args=[item.pk]), {"direction": "up"})
    assert not AuditEvent.objects.exists()


def test_a_protocol_and_each_new_version_of_its_text_are_recorded(manager_client, manager):
    manager_client.post(
        reverse("delivery:protocol_create"),
        {"title": "Answering the phone", "owner": manager.pk, "review_by": "2027-12-01", "is_active": "on",
         "body": "Answer within five rings.", "change_note": ""},
    )  # fmt: skip
    protocol = Protocol.objects.get()
    created = the_event(manager, "created", "delivery.protocol", protocol.pk)
    assert created.data["text"] == ["—", "version 1"]
    AuditEvent.objects.all().delete()

    manager_client.post(
        reverse("delivery:protocol_update", args=[protocol.pk]),
        {"title": "Answering the phone", "owner": manager.pk, "review_by": "2027-12-01", "is_active": "on",
         "body": "Answer within three rings.", "change_note": "Faster"},
    )  # fmt: skip

    assert the_event(manager, "changed", "delivery.protocol", protocol.pk).data == {
        "text": ["version 1", "version 2"]
    }


# --- Surveys and their questions ---------------------------------------------------------------------


def test_creating_and_editing_a_survey_are_recorded(manager_client, manager):
    manager_client.post(
        reverse("feedback:survey_create"),
        {"title": "Flu clinic", "audience": "patient", "languages": ["en"], "contact_within_days": 2},
    )
    survey = Survey.objects.get()
    assert (
        the_event(manager, "created", "feedback.survey", survey.pk).target_label == "the survey “Flu clinic”"
    )
    AuditEvent.objects.all().delete()

    manager_client.post(
        reverse("feedback:survey_update", args=[survey.pk]),
        {"title": "Flu clinic 2026", "slug": survey.slug, "audience": "patient", "languages": ["en"],
         "contact_within_days": 2},
    )  # fmt: skip

    assert the_event(manager, "changed", "feedback.survey", survey.pk).data == {
        "title": ["Flu clinic", "Flu clinic 2026"]
    }


def test_a_survey_from_a_ready_made_template_is_one_event(manager_client, manager):
    manager_client.post(
        reverse("feedback:survey_from_template"),
        {"template": "after-your-visit", "title": "After your visit"},
    )
    survey = Survey.objects.get()
    event = the_event(manager, "created", "feedback.survey", survey.pk)
    assert event.data["questions"] == ["—", str(survey.questions.count())]


@pytest.mark.parametrize(("active", "action", "message"), [("1", "enabled", "on"), ("0", "disabled", "off")])
def test_switching_a_survey_on_or_off_is_recorded(manager_client, manager, active, action, message):
    survey = SurveyFactory(title="After your visit", is_active=active == "0")
    QuestionFactory(survey=survey)
    response = manager_client.post(
        reverse("feedback:survey_set_active", args=[survey.pk]), {"active": active}, follow=True
    )
    assert f"“After your visit” is now {message}." in response.content.decode()
    event = the_event(manager, action, "feedback.survey", survey.pk)
    assert event.target_label == "the survey “After your visit”"


def test_a_survey_that_cannot_be_switched_on_records_nothing(manager_client):
    survey = SurveyFactory(is_active=False)  # no questions
    manager_client.post(reverse("feedback:survey_set_active", args=[survey.pk]), {"active": "1"})
    assert not AuditEvent.objects.exists()


def test_each_change_to_a_surveys_questions_is_one_event(manager_client, manager):
    survey = SurveyFactory(title="Visit")
    QuestionFactory(survey=survey, text="Overall?", position=0)

    manager_client.post(
        reverse("feedback:question_create", args=[survey.pk]),
        {"kind": "text", "text": "Why?", "text_es": "¿Por qué?"},
    )
    question = survey.questions.get(text="Why?")
    added = the_event(manager, "created", "feedback.question", question.pk)
    assert added.target_label == "the question “Why?” of the survey “Visit”"
    AuditEvent.objects.all().delete()

    manager_client.post(
        reverse("feedback:question_update", args=[question.pk]),
        {"kind": "text", "text": "Why is that?", "text_es": "¿Por qué?"},
    )
    assert the_event(manager, "changed", "feedback.question", question.pk).data == {
        "wording": ["Why?", "Why is that?"]
    }
    AuditEvent.objects.all().delete()

    manager_client.post(reverse("feedback:question_move", args=[question.pk]), {"direction": "up"})
    assert the_event(manager, "moved", "feedback.question", question.pk).data == {"position": ["2", "1"]}
    AuditEvent.objects.all().delete()

    manager_client.post(reverse("feedback:question_remove", args=[question.pk]), {"confirmed": "yes"})
    the_event(manager, "removed", "feedback.question", question.pk)


# --- Goals ------------------------------------------------------------------------------------------


def test_creating_a_goal_goes_to_the_audit_log_as_well_as_the_goals_history(manager):
    from design import services

    fields = {
        name: getattr(ServiceGoalFactory.build(owner=manager), name) for name in services.EDITABLE_FIELDS
    }
    goal = services.goal_create(
        by=manager, now=timezone.now(), fields={**fields, "title": "Answer the phone"}
    )
    assert goal.changes.count() == 1
    assert the_event(manager, "created", "design.servicegoal", goal.pk).target_label == (
        "the service goal “Answer the phone”"
    )


def test_a_goal_edit_names_the_fields_and_the_new_version_staff_must_read(manager):
    from design import services

    goal = ServiceGoalFactory(title="Answer the phone")
    services.goal_update(goal=goal, by=manager, now=timezone.now(), fields={"target": 95})
    event = the_event(manager, "changed", "design.servicegoal", goal.pk)
    assert event.data == {"target": ["90.00", "95"], "version": ["1", "2"]}
    assert goal.changes.count() == 1


@pytest.mark.parametrize(("change", "status"), [("retire", ["pursued", "retired"]), ("reactivate", None)])
def test_retiring_or_reactivating_a_goal_is_recorded(manager, change, status):
    from design import services

    goal = ServiceGoalFactory(title="Answer the phone")
    if change == "reactivate":
        services.goal_retire(goal=goal, by=manager, now=timezone.now())
        AuditEvent.objects.all().delete()
        status = ["retired", "pursued"]
    getattr(services, f"goal_{change}")(goal=goal, by=manager, now=timezone.now() + timedelta(minutes=1))
    assert the_event(manager, "changed", "design.servicegoal", goal.pk).data == {"status": status}


# --- Invitation sending rules ------------------------------------------------------------------------


def test_changing_the_sending_rules_records_what_changed(manager_client, manager):
    rules = InvitationRules.current()
    data = {
        "default_survey": "",
        "delay_minutes": rules.delay_minutes,
        "quiet_hours_start": rules.quiet_hours_start.strftime("%H:%M"),
        "quiet_hours_end": rules.quiet_hours_end.strftime("%H:%M"),
        "channel_preference": rules.channel_preference,
        "reminder_after_days": rules.reminder_after_days,
        "max_reminders": rules.max_reminders,
        "expiry_days": rules.expiry_days,
        "frequency_cap_days": rules.frequency_cap_days,
        "purge_after_days": 30,
    }
    assert rules.purge_after_days != 30
    manager_client.post(reverse("invitations:invitation_rules"), data)
    event = the_event(manager, "changed", "feedback.invitationrules", rules.pk)
    assert event.target_label == "the invitation sending rules"
    assert event.data == {"delete contact details after (days)": [str(rules.purge_after_days), "30"]}


def test_creating_and_revoking_a_visits_api_token_are_recorded_without_the_secret(manager_client, manager):
    from feedback.models import IntegrationToken

    page = manager_client.post(reverse("invitations:integration_list"), {"name": "Practice system"})
    secret = page.context["new_token"]
    token = IntegrationToken.objects.get()
    event = the_event(manager, "created", "feedback.integrationtoken", token.pk)
    assert event.target_label == f"the visits API token “Practice system” (ending {token.hint})"
    assert secret not in str(AuditEvent.objects.values().get())
    AuditEvent.objects.all().delete()

    manager_client.post(reverse("invitations:integration_revoke", args=[token.pk]), {"confirmed": "yes"})
    manager_client.post(
        reverse("invitations:integration_revoke", args=[token.pk]), {"confirmed": "yes"}
    )  # already revoked

    the_event(manager, "removed", "feedback.integrationtoken", token.pk)


def test_a_refused_change_records_nothing(manager_client):
    manager_client.post(reverse("location_create"), {"name": ""})
    manager_client.post(reverse("closed_day_add"), {"date": "not a date"})
    manager_client.post(reverse("delivery:template_create"), {"title": ""})
    assert not AuditEvent.objects.exists()
    assert not Location.objects.exists()
