"""When incidents become a pattern: the third similar one in the window (the manager's rule), counted
in the practice's local days, recorded once however often detection runs."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from learning import services
from learning.models import LearningRules, Pattern
from learning.tasks import detect_patterns
from tests.factories import ResponseFactory, ThemeFactory, TouchpointFactory, UserFactory, open_incident
from tests.learning.conftest import london

pytestmark = pytest.mark.django_db


def test_a_pattern_appears_when_the_third_similar_incident_is_logged_not_the_second(
    similar, django_capture_on_commit_callbacks
):
    now = timezone.now()
    with django_capture_on_commit_callbacks(execute=True):
        similar(now - timedelta(days=10))
        similar(now - timedelta(days=5))
    assert not Pattern.objects.exists()
    with django_capture_on_commit_callbacks(execute=True):  # the incident_opened receiver detects it
        third = similar(now - timedelta(minutes=1))
    pattern = Pattern.objects.get()
    assert pattern.status == Pattern.Status.OPEN
    assert pattern.category == "waiting"
    assert pattern.incidents.count() == 3
    assert third in pattern.incidents.all()


def test_incidents_of_another_category_or_touchpoint_do_not_make_a_pattern(similar):
    now = timezone.now()
    similar(now - timedelta(days=3))
    similar(now - timedelta(days=2), category="communication")
    open_incident(now=now - timedelta(days=1), touchpoint=TouchpointFactory())
    assert services.patterns_detect(now=now) == 0
    assert not Pattern.objects.exists()


def test_the_manager_sets_the_threshold_and_window(similar):
    LearningRules.objects.create(pk=1, threshold=2, window_days=7)
    now = timezone.now()
    similar(now - timedelta(days=8))
    similar(now - timedelta(days=1))
    assert services.patterns_detect(now=now) == 0  # 8 days ago is outside a 7-day window
    similar(now - timedelta(hours=2))
    assert services.patterns_detect(now=now) == 1


def test_incidents_from_feedback_with_the_same_theme_make_a_theme_pattern(db):
    theme = ThemeFactory(name="Phones")
    now = timezone.now()
    for n in range(3):
        response = ResponseFactory(submitted_at=now - timedelta(days=n + 1))
        response.themes.add(theme)
        open_incident(
            now=now - timedelta(days=n + 1),
            source="feedback",
            category=["access", "communication", "other"][n],
            source_links={"source_response": response},
        )
    services.patterns_detect(now=now)
    pattern = Pattern.objects.get(kind=Pattern.Kind.THEME)
    assert pattern.theme == theme
    assert pattern.incidents.count() == 3


def test_detection_run_twice_records_one_pattern_and_links_each_incident_once(similar):
    now = timezone.now()
    for days in (3, 2, 1):
        similar(now - timedelta(days=days))
    assert detect_patterns() == 1
    assert detect_patterns() == 0
    assert (
        services.patterns_detect_for_incident(incident_id=Pattern.objects.get().incidents.first().pk, now=now)
        == 0
    )
    assert Pattern.objects.count() == 1
    assert Pattern.objects.get().incidents.count() == 3


def test_a_closed_pattern_is_followed_by_a_new_one_when_it_recurs(similar, manager):
    now = timezone.now()
    for days in (3, 2, 1):
        similar(now - timedelta(days=days))
    services.patterns_detect(now=now)
    services.pattern_close(pattern=Pattern.objects.get(), by=manager, now=now)
    assert services.patterns_detect(now=now) == 1
    assert Pattern.objects.filter(status=Pattern.Status.OPEN).count() == 1
    assert Pattern.objects.count() == 2


def _three_with_the_first_at(similar, first: str, others: str) -> None:
    similar(london(first))
    similar(london(others))
    similar(london(others) + timedelta(hours=1))


@pytest.mark.parametrize(
    ("first", "others", "still_in", "dropped_out"),
    [
        # 00:30 London in summer is 23:30 UTC the day before: a UTC count would drop it a day early.
        ("2026-06-01 00:30", "2026-06-20 12:00", "2026-06-30 23:30", "2026-07-01 00:30"),
        # 23:30 London in summer is 22:30 UTC: at 00:30 London on day 31 UTC still says day 30.
        ("2026-06-01 23:30", "2026-06-20 12:00", "2026-06-30 23:30", "2026-07-01 00:30"),
        # Across the clocks going forward (29 March 2026): the window is 30 local days, one of 23 hours.
        ("2026-03-01 00:30", "2026-03-20 12:00", "2026-03-30 23:30", "2026-03-31 00:30"),
        # Across the clocks going back (25 October 2026): one day of 25 hours.
        ("2026-10-01 23:30", "2026-10-20 12:00", "2026-10-30 23:30", "2026-10-31 00:30"),
    ],
)
def test_the_window_is_30_of_the_practices_days_today_included(similar, first, others, still_in, dropped_out):
    _three_with_the_first_at(similar, first, others)
    assert services.patterns_detect(now=london(dropped_out)) == 0, "the first incident is 31 local days back"
    assert services.patterns_detect(now=london(still_in)) == 1, "the first incident is on local day 1 of 30"


def test_detection_ignores_an_incident_that_no_longer_exists(db):
    assert services.patterns_detect_for_incident(incident_id=999_999, now=timezone.now()) == 0


def test_the_rule_refuses_a_threshold_under_two(db):
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError):
        services.rules_update(threshold=1, window_days=30, by=UserFactory(), now=timezone.now())
    assert not LearningRules.objects.exists()
