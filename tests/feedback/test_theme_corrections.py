"""A manager corrects what a comment is about; the correction is kept and the dashboard follows."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from dashboard.models import FeedbackThemeDay
from dashboard.summaries import feedback_days_refresh
from feedback.forms import Answered
from feedback.models import Response, Theme, ThemeMention
from feedback.services import Where, response_submit
from servicedesk.security.models import AuditEvent
from tests.factories import QuestionFactory, SurveyFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def comment():
    survey = SurveyFactory()
    question = QuestionFactory(survey=survey, kind="text", text="Tell us more")
    response = response_submit(
        survey=survey,
        answers=[Answered(question=question, text="The portal login never works")],
        channel=Response.Channel.KIOSK,
        language="en",
        where=Where(),
        contact={},
        now=timezone.now(),
    )
    feedback_days_refresh(days=[timezone.localdate()])
    return response.answers.get()


def _negative(theme: Theme) -> int:
    return sum(FeedbackThemeDay.objects.filter(theme=theme).values_list("negative_mentions", flat=True))


def test_a_manager_adds_and_removes_a_theme_and_the_dashboard_counts_it(
    manager_client, comment, django_capture_on_commit_callbacks
):
    phone, portal = Theme.objects.get(name="Phone"), Theme.objects.get(name="Online and portal")
    url = reverse("feedback:answer_themes", args=[comment.pk])
    with django_capture_on_commit_callbacks(execute=True):
        response = manager_client.post(url, {"theme": phone.pk, "present": "1"})
    assert response.status_code == 302
    mention = ThemeMention.objects.get(answer=comment, theme=phone)
    assert (mention.source, mention.removed, mention.is_negative) == ("manager", False, True)
    assert phone in comment.response.themes.all()
    assert _negative(phone) == 1

    with django_capture_on_commit_callbacks(execute=True):
        manager_client.post(url, {"theme": portal.pk, "present": "0"})
    mention = ThemeMention.objects.get(answer=comment, theme=portal)
    assert (mention.source, mention.removed) == ("manager", True)
    assert portal not in comment.response.themes.all()
    assert _negative(portal) == 0
    assert AuditEvent.objects.filter(action="changed").count() == 2
    page = manager_client.get(
        reverse("feedback:response_detail", args=[comment.response_id])
    ).content.decode()
    assert "(set by a manager)" in page


@pytest.mark.parametrize(
    "data", [{"theme": "999999", "present": "1"}, {"theme": "x", "present": "1"}, {"present": "2"}]
)
def test_a_bad_correction_is_refused_with_a_message_and_changes_nothing(manager_client, comment, data):
    before = list(ThemeMention.objects.values_list("theme_id", "removed", "source"))
    response = manager_client.post(reverse("feedback:answer_themes", args=[comment.pk]), data)
    assert response.status_code == 400
    assert "Choose one of the practice&#x27;s themes." in response.content.decode()
    assert list(ThemeMention.objects.values_list("theme_id", "removed", "source")) == before


def test_only_managers_correct_themes(staff_client, comment):
    phone = Theme.objects.get(name="Phone")
    url = reverse("feedback:answer_themes", args=[comment.pk])
    assert staff_client.post(url, {"theme": phone.pk, "present": "1"}).status_code == 403
    assert Client().post(url, {"theme": phone.pk, "present": "1"}).status_code == 302  # to the login page
    assert not ThemeMention.objects.filter(theme=phone).exists()
