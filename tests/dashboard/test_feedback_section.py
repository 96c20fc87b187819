"""Feedback on the dashboard: headline figures against the previous period, breakdowns, themes,
and small-number protection."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from servicedesk.panels import Scope
from tests.factories import InvitationFactory, PatientNeedProfileFactory, ThemeFactory, TouchpointFactory

pytestmark = pytest.mark.django_db

URL = reverse("dashboard")


def _figures(response) -> dict:
    return {fig.label: fig for fig in response.context["feedback"].figures}


def test_headline_figures_compare_this_period_with_the_one_before(manager_client, feedback, summarise):
    forty_days_ago = timezone.now() - timedelta(days=40)
    feedback(8, choice="very_good", nps=10)
    feedback(2, choice="poor", nps=3)
    feedback(5, choice="good", nps=8, when=forty_days_ago)
    feedback(5, choice="very_poor", nps=0, when=forty_days_ago)
    feedback(3, choice="good", when=timezone.now() - timedelta(days=75))  # before both periods
    summarise()

    figures = _figures(manager_client.get(URL))
    responses, fft, nps = figures["Responses"], figures["FFT positive"], figures["Net Promoter Score"]
    assert (responses.value, responses.previous) == (10, 10)
    assert (fft.value, fft.previous) == (80.0, 50.0)
    assert fft.direction == "better"
    assert (nps.value, nps.previous) == (60.0, -50.0)  # 8 promoters, 2 detractors of 10; 0 and 5 of 10


def test_dont_know_counts_in_the_fft_denominator_as_the_nhs_defines_it(manager_client, feedback, summarise):
    feedback(3, choice="very_good")
    feedback(1, choice="dont_know")
    feedback(1, choice="neither")
    summarise()
    assert _figures(manager_client.get(URL))["FFT positive"].value == 60.0


def test_response_rate_is_answered_invitations_over_those_delivered(manager_client, feedback, summarise):
    for status in ["completed"] * 3 + ["sent"] * 4 + ["reminded", "pending", "failed"]:
        completed_at = timezone.now() if status == "completed" else None
        InvitationFactory(survey=feedback.survey, status=status, completed_at=completed_at)
    summarise()
    assert _figures(manager_client.get(URL))["Response rate"].value == pytest.approx(100 * 3 / 8)


def test_staff_pulse_answers_are_not_patient_feedback(manager_client, feedback, summarise):
    feedback(6, choice="very_good")
    feedback(6, choice="very_poor", channel="staff")
    summarise()
    assert _figures(manager_client.get(URL))["FFT positive"].value == 100.0


def test_filters_narrow_the_feedback_figures(manager_client, feedback, summarise):
    desk, phone = TouchpointFactory(name="Front desk"), TouchpointFactory(name="Main phone line")
    interpreter = PatientNeedProfileFactory(name="Needs an interpreter")
    feedback(6, choice="very_good", touchpoint=desk, location=desk.location)
    feedback(5, choice="very_poor", touchpoint=phone, need_profile=interpreter)
    summarise()
    assert _figures(manager_client.get(URL, {"touchpoint": desk.pk}))["FFT positive"].value == 100.0
    assert _figures(manager_client.get(URL, {"location": desk.location.pk}))["Responses"].value == 6
    assert _figures(manager_client.get(URL, {"need_profile": interpreter.pk}))["FFT positive"].value == 0.0


def test_the_least_satisfied_touchpoint_and_patient_group_come_first(manager_client, feedback, summarise):
    desk, phone, portal = (TouchpointFactory(name=n) for n in ("Front desk", "Main phone line", "Portal"))
    parents = PatientNeedProfileFactory(name="Working parents")
    older = PatientNeedProfileFactory(name="Older patients")
    feedback(9, choice="very_good", touchpoint=desk, need_profile=older)
    feedback(1, choice="poor", touchpoint=desk, need_profile=older)
    feedback(3, choice="good", touchpoint=phone, need_profile=parents)
    feedback(3, choice="very_poor", touchpoint=phone, need_profile=parents)
    feedback(2, choice="very_poor", touchpoint=portal)
    summarise()
    response = manager_client.get(URL)
    names = [row.name for row in response.context["by_touchpoint"]]
    assert names == ["Main phone line", "Front desk", "Portal"]
    assert [row.name for row in response.context["by_need_profile"]] == ["Working parents", "Older patients"]
    phone_row = response.context["by_touchpoint"][0]
    assert phone_row.counts.fft_positive_pct == 50.0


def test_a_breakdown_of_fewer_than_five_responses_shows_too_few_to_show(manager_client, feedback, summarise):
    quiet, busy = TouchpointFactory(name="Video consultations"), TouchpointFactory(name="Front desk")
    feedback(4, choice="very_poor", touchpoint=quiet)
    feedback(5, choice="good", touchpoint=busy)
    summarise()
    response = manager_client.get(URL)
    rows = {row.name: row for row in response.context["by_touchpoint"]}
    assert rows["Video consultations"].too_few
    assert not rows["Front desk"].too_few
    page = response.content.decode()
    table = page.split('id="by-touchpoint"')[1].split("</table>")[0]
    video_row = table.split("Video consultations")[1].split("</tr>")[0]
    assert "too few to show" in video_row
    assert "0 %" not in video_row  # the four unhappy patients' figure is not given away


def test_headline_percentages_on_fewer_than_five_answers_are_not_shown(manager_client, feedback, summarise):
    profile = PatientNeedProfileFactory(name="Carers")
    feedback(3, choice="very_poor", need_profile=profile, nps=0)
    summarise()
    figures = _figures(manager_client.get(URL, {"need_profile": profile.pk}))
    assert figures["Responses"].value == 3
    assert figures["FFT positive"].too_few
    assert figures["FFT positive"].value is None
    assert figures["Net Promoter Score"].too_few


def test_weekly_trend_leaves_weeks_with_too_few_answers_blank(manager_client, feedback, summarise):
    feedback(6, choice="good")
    feedback(2, choice="good", when=timezone.now() - timedelta(days=21))
    summarise()
    chart = manager_client.get(URL).context["trend_chart"]
    assert len(chart["labels"]) == 12
    assert chart["fft_positive"][-1] == 100.0 or chart["fft_positive"][-2] == 100.0
    assert sum(chart["responses"]) == 8
    assert [v for v in chart["fft_positive"] if v is not None] == [100.0]


def test_top_negative_themes_come_with_example_comments_unless_too_few(manager_client, feedback, summarise):
    waiting, phone = ThemeFactory(name="Wait time"), ThemeFactory(name="Phone")
    feedback(4, choice="poor", comment="Waited ninety minutes past my appointment", themes=(waiting,))
    feedback(1, choice="poor", comment="Nobody told us the clinic was running late", themes=(waiting,))
    feedback(2, choice="very_poor", comment="Nobody answers the phone, ever", themes=(phone,))
    feedback(6, choice="very_good", comment="Short wait, lovely staff", themes=(waiting,))
    summarise()
    response = manager_client.get(URL)
    themes = {theme.name: theme for theme in response.context["themes"]}
    assert themes["Wait time"].negative_mentions == 5
    # The latest two different comments: patients often write the same words.
    assert sorted(themes["Wait time"].examples) == [
        "Nobody told us the clinic was running late",
        "Waited ninety minutes past my appointment",
    ]
    assert themes["Phone"].too_few
    assert themes["Phone"].examples == []
    page = response.content.decode()
    assert "Nobody answers the phone" not in page
    assert "Short wait, lovely staff" not in page


def test_figures_come_from_the_summaries_recounted_by_the_sweep(manager_client, feedback, summarise):
    feedback(6, choice="good")
    assert not manager_client.get(URL).context["feedback"].has_data
    summarise(days=2)
    assert _figures(manager_client.get(URL))["Responses"].value == 6


def test_scope_periods_are_whole_local_days_and_end_now_for_today():
    now = timezone.now()
    scope = Scope.last_days(7, now=now)
    assert scope.period.end == now
    assert timezone.localtime(scope.period.start).time().hour == 0
    assert scope.previous.end == scope.period.start
    assert scope.days == 7
