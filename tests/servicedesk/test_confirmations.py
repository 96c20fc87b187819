"""Every destructive action asks first: the button posts, the answer is a page that says what will
happen with the button that does it and a way back; nothing changes until it is confirmed."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from delivery.models import ChecklistItem
from design.models import ServiceGoal
from feedback import invitations
from feedback.models import IntegrationToken, Question
from servicedesk.models import ClosedDay
from tests.factories import ChecklistItemFactory, QuestionFactory, ServiceGoalFactory

pytestmark = pytest.mark.django_db


def _question(manager):
    return "feedback:question_remove", QuestionFactory(text="How was the parking?"), "How was the parking?"


def _item(manager):
    return "delivery:item_remove", ChecklistItemFactory(text="Hearing loop on"), "Hearing loop on"


def _closed_day(manager):
    day = ClosedDay.objects.create(date=timezone.localdate() + timedelta(days=10), reason="Training")
    return "closed_day_remove", day, "Open as usual on"


def _goal(manager):
    return (
        "design:goal_retire",
        ServiceGoalFactory(title="Phone answered in 3 rings"),
        "Phone answered in 3 rings",
    )


def _token(manager):
    token, _raw = invitations.integration_token_create(name="EMIS at Riverside", by=manager)
    return "invitations:integration_revoke", token, "EMIS at Riverside"


def _still_there(obj) -> bool:
    if isinstance(obj, Question):
        return Question.objects.filter(pk=obj.pk, archived_at__isnull=True).exists()
    if isinstance(obj, ChecklistItem):
        return ChecklistItem.objects.active().filter(pk=obj.pk).exists()
    if isinstance(obj, ServiceGoal):
        return ServiceGoal.objects.filter(pk=obj.pk, status=ServiceGoal.Status.ACTIVE).exists()
    if isinstance(obj, IntegrationToken):
        return IntegrationToken.objects.filter(pk=obj.pk, revoked_at__isnull=True).exists()
    return type(obj).objects.filter(pk=obj.pk).exists()


ACTIONS = [_question, _item, _closed_day, _goal, _token]


@pytest.mark.parametrize("make", ACTIONS, ids=lambda make: make.__name__.strip("_"))
def test_the_first_post_asks_and_changes_nothing_the_confirmed_one_acts(manager_client, manager, make):
    name, obj, words = make(manager)
    url = reverse(name, args=[obj.pk])
    asked = manager_client.post(url)
    assert asked.status_code == 200
    page = asked.content.decode()
    assert words in page
    assert 'name="confirmed" value="yes"' in page
    assert "Cancel" in page
    assert _still_there(obj)

    done = manager_client.post(url, {"confirmed": "yes"})
    assert done.status_code == 302
    assert not _still_there(obj)


@pytest.mark.parametrize("make", ACTIONS, ids=lambda make: make.__name__.strip("_"))
def test_only_managers_are_asked(staff_client, manager, make):
    name, obj, _words = make(manager)
    url = reverse(name, args=[obj.pk])
    assert staff_client.post(url).status_code == 403
    assert Client().post(url).status_code == 302  # anonymous: to the login page
    assert _still_there(obj)


def test_asking_about_something_that_does_not_exist_is_a_404(manager_client):
    assert manager_client.post(reverse("feedback:question_remove", args=[999999])).status_code == 404
