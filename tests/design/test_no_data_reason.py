"""A goal with no figure says why, in words a manager can act on; never a metric key."""

from __future__ import annotations

import pytest
from django.urls import reverse

from tests.factories import AnswerFactory, ServiceGoalFactory

pytestmark = pytest.mark.django_db


def _reason(client, goal) -> str:
    page = client.get(reverse("design:goal_detail", args=[goal.pk]))
    return page.context["evaluation"].no_data_reason


def test_two_answers_of_the_five_needed_say_so(manager_client, settings):
    settings.FEEDBACK_SMALL_NUMBER = 5
    goal = ServiceGoalFactory(metric_key="feedback.fft_positive_pct")
    AnswerFactory.create_batch(2)
    reason = _reason(manager_client, goal)
    assert reason.startswith("2 of the 5 Friends and Family Test answers needed")
    page = manager_client.get(reverse("design:goal_detail", args=[goal.pk])).content.decode()
    assert "2 of the 5 Friends and Family Test answers needed" in page


def test_no_answers_at_all_say_so(manager_client):
    goal = ServiceGoalFactory(metric_key="feedback.nps")
    assert _reason(manager_client, goal) == "No 0-10 answers in this period."


def test_enough_answers_give_a_figure_and_no_reason(manager_client, settings):
    settings.FEEDBACK_SMALL_NUMBER = 2
    goal = ServiceGoalFactory(metric_key="feedback.fft_positive_pct")
    AnswerFactory.create_batch(2)
    assert _reason(manager_client, goal) == ""


def test_a_figure_nobody_measures_yet_is_explained_without_its_key(manager_client):
    goal = ServiceGoalFactory(metric_key="nowhere.some_figure")
    page = manager_client.get(reverse("design:goal_detail", args=[goal.pk])).content.decode()
    assert "not measured yet" in page
    assert "nowhere.some_figure" not in page
