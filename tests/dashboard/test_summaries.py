"""The daily feedback summaries: recounted from the feedback tables, never doubled, self-healing."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from dashboard.models import FeedbackDay, FeedbackThemeDay
from dashboard.summaries import feedback_days_refresh, feedback_days_stale
from dashboard.tasks import refresh_feedback_summaries
from tests.factories import InvitationFactory, ThemeFactory, TouchpointFactory

pytestmark = pytest.mark.django_db


def test_a_day_is_counted_per_place_in_the_six_fft_categories_and_nps_bands(feedback):
    desk = TouchpointFactory()
    feedback(2, choice="very_good", nps=10, touchpoint=desk)
    feedback(1, choice="dont_know", nps=7, touchpoint=desk)
    feedback(1, choice="very_poor", nps=2)
    today = timezone.localdate()
    assert feedback_days_refresh(days=[today]) == 1

    at_desk = FeedbackDay.objects.get(day=today, touchpoint=desk)
    assert (at_desk.responses, at_desk.fft_very_good, at_desk.fft_dont_know) == (3, 2, 1)
    assert (at_desk.nps_promoters, at_desk.nps_passives, at_desk.nps_detractors) == (2, 1, 0)
    nowhere = FeedbackDay.objects.get(day=today, touchpoint=None)
    counts = (nowhere.responses, nowhere.negative, nowhere.fft_very_poor, nowhere.nps_detractors)
    assert counts == (1, 1, 1, 1)


def test_refreshing_twice_gives_the_same_counts_not_double(feedback):
    feedback(3, choice="good", themes=(ThemeFactory(name="Staff attitude"),))
    today = timezone.localdate()
    feedback_days_refresh(days=[today])
    feedback_days_refresh(days=[today])
    assert FeedbackDay.objects.get(day=today).responses == 3
    assert FeedbackThemeDay.objects.get(day=today).mentions == 3


def test_local_days_are_used_so_a_late_evening_answer_counts_on_its_own_day(feedback, settings):
    settings.TIME_ZONE = "Europe/London"
    timezone.activate("Europe/London")
    summer_evening = timezone.make_aware(timezone.datetime(2026, 7, 1, 23, 30))  # 22:30 UTC
    feedback(1, when=summer_evening)
    feedback_days_refresh(days=[summer_evening.date(), summer_evening.date() + timedelta(days=1)])
    assert list(FeedbackDay.objects.values_list("day", flat=True)) == [summer_evening.date()]


def test_stale_days_are_today_yesterday_and_any_day_whose_responses_changed(feedback):
    today = timezone.localdate()
    feedback(2, when=timezone.now() - timedelta(days=10))
    feedback_days_refresh(days=[today - timedelta(days=10)])
    assert feedback_days_stale(now=timezone.now()) == [today - timedelta(days=1), today]

    feedback(1, when=timezone.now() - timedelta(days=10))  # e.g. an import added one
    feedback(1, when=timezone.now() - timedelta(days=20))  # a day never summarised
    assert feedback_days_stale(now=timezone.now()) == [
        today - timedelta(days=20),
        today - timedelta(days=10),
        today - timedelta(days=1),
        today,
    ]


def test_an_invitation_answered_days_after_the_visit_makes_its_visit_day_stale(feedback):
    today = timezone.localdate()
    visit = timezone.now() - timedelta(days=5)
    invitation = InvitationFactory(survey=feedback.survey, visit_at=visit, status="sent")
    feedback_days_refresh(days=[timezone.localdate(visit)])
    assert timezone.localdate(visit) not in feedback_days_stale(now=timezone.now())
    invitation.status, invitation.completed_at = "completed", timezone.now()
    invitation.save()
    assert timezone.localdate(visit) in feedback_days_stale(now=timezone.now())
    assert today in feedback_days_stale(now=timezone.now())


def test_the_sweep_heals_the_summaries_and_a_rerun_changes_nothing(feedback):
    feedback(4, when=timezone.now() - timedelta(days=30))
    feedback(2)
    refresh_feedback_summaries()
    refresh_feedback_summaries()
    assert sorted(FeedbackDay.objects.values_list("responses", flat=True)) == [2, 4]


def test_a_day_whose_responses_were_erased_is_emptied(feedback):
    (response,) = feedback(1, when=timezone.now() - timedelta(days=3))
    day = timezone.localdate(response.submitted_at)
    feedback_days_refresh(days=[day])
    response.answers.all().delete()
    response.delete()
    refresh_feedback_summaries()
    assert not FeedbackDay.objects.filter(day=day).exists()


# The names the two sweeps had when they lived in servicedesk/tasks.py: beat and queued messages use them.
MOVED_SWEEPS = ("servicedesk.tasks.refresh_feedback_summaries", "servicedesk.tasks.send_weekly_digests")


def test_the_summary_sweep_and_the_digest_are_scheduled_by_beat_under_the_names_they_had(settings):
    from servicedesk.celery import app

    tasks = {entry["task"] for entry in settings.CELERY_BEAT_SCHEDULE.values()}
    assert set(MOVED_SWEEPS) <= tasks
    app.loader.import_default_modules()
    assert [app.tasks[name].run.__module__ for name in MOVED_SWEEPS] == ["dashboard.tasks", "dashboard.tasks"]
    assert refresh_feedback_summaries.name == MOVED_SWEEPS[0]


def test_every_task_in_the_beat_schedule_is_registered(settings):
    from servicedesk.celery import app

    app.loader.import_default_modules()
    missing = {e["task"] for e in settings.CELERY_BEAT_SCHEDULE.values()} - set(app.tasks)
    assert not missing, f"beat names tasks no worker knows: {missing}"


def test_the_refresh_command_recounts_every_day_with_all(feedback):
    from django.core.management import call_command

    feedback(2, when=timezone.now() - timedelta(days=500))  # older than the sweep looks
    feedback(1)
    call_command("refresh_dashboard")
    assert FeedbackDay.objects.filter(day__lt=timezone.localdate() - timedelta(days=400)).count() == 0
    call_command("refresh_dashboard", "--all")
    assert sorted(FeedbackDay.objects.values_list("responses", flat=True)) == [1, 2]
