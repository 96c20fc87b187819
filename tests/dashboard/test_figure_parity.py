"""Each figure is defined once: the same data gives the same number, to the same rounding, on every
page that shows it — the goal, the dashboard tile, the survey results page, the CSV, the monthly
report and the weekly digest. Each test goes through the real views and services."""

from __future__ import annotations

import csv
import io
from datetime import datetime, timedelta
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from dashboard import digest
from design.services import goal_measure
from recovery.models import Incident
from servicedesk.clock import local_midnight
from tests.factories import ServiceGoalFactory, open_incident

pytestmark = pytest.mark.django_db


def _csv(response) -> dict[tuple[str, str], list[str]]:
    rows = csv.reader(io.StringIO(response.content.decode("utf-8-sig")))
    return {(row[0], row[1]): row for row in rows}


def _figure(figures, label: str):
    (figure,) = [f for f in figures if f.label == label]
    return figure


def _goal_row(context, goal):
    (row,) = [row for row in context["goals"].rows if row.goal.pk == goal.pk]
    return row


def _last_week_wednesday() -> datetime:
    """Noon on Wednesday of last week: inside the digest's week, the dashboard's 30 days and the
    results page's 90 days."""
    today = timezone.localdate()
    monday = today - timedelta(days=today.weekday())
    return local_midnight(monday - timedelta(days=5)) + timedelta(hours=12)


def test_fft_positive_and_nps_agree_on_the_goal_tile_results_csv_report_and_digest(
    manager_client, feedback, summarise
):
    when = _last_week_wednesday()
    # 12 FFT answers: 7 good, 3 neither, 2 poor -> 58.33 % positive (shown 58.3), 16.67 % negative;
    # NPS: 7 promoters, 3 passives, 2 detractors -> 41.67 (shown +42).
    feedback(7, choice="good", nps=10, when=when)
    feedback(3, choice="neither", nps=8, when=when)
    feedback(2, choice="poor", nps=3, when=when)
    summarise()
    fft_goal = ServiceGoalFactory(metric_key="feedback.fft_positive_pct", target=50)
    nps_goal = ServiceGoalFactory(metric_key="feedback.nps", target=10)
    for goal in (fft_goal, nps_goal):
        goal_measure(goal=goal, now=timezone.now())  # the hourly sweep; the dashboard reads this

    page = manager_client.get(reverse("dashboard"))
    tiles = page.context["feedback"].figures
    assert _goal_row(page.context, fft_goal).value == 58.3
    assert _figure(tiles, "FFT positive").value == 58.3
    assert _goal_row(page.context, nps_goal).value == 42
    assert _figure(tiles, "Net Promoter Score").value == 42
    assert page.context["feedback"].current.fft_negative_pct == 16.7

    results = manager_client.get(reverse("feedback:survey_results", args=[feedback.survey.pk]))
    r = results.context["results"]
    assert (r.fft_positive_pct, r.fft_negative_pct, r.nps) == (Decimal("58.3"), Decimal("16.7"), 42)
    html = results.content.decode()
    assert 'data-figure="fft-positive">58.3 %<' in html
    assert '<strong class="fs-4">58.3 %</strong> positive' in html  # the FFT question's headline
    assert 'data-figure="nps">+42<' in html

    exported = _csv(manager_client.get(reverse("dashboard_export")))
    assert exported[("feedback", "FFT positive")][2] == "58.3"
    assert exported[("feedback", "Net Promoter Score")][2] == "42"
    assert exported[("goal", fft_goal.title)][2] == "58.3"
    assert exported[("goal", nps_goal.title)][2] == "42"

    month = timezone.localdate(when).replace(day=1)
    report = manager_client.get(reverse("dashboard_report"), {"month": month.isoformat()})
    (report_month,) = [row for row in report.context["fft_months"] if row.month == month]
    assert report_month.counts.fft_positive_pct == 58.3
    assert _figure(report.context["feedback"].figures, "FFT positive").value == 58.3
    assert "58.3 %" in report.content.decode()

    week_of = timezone.localdate() - timedelta(days=timezone.localdate().weekday())
    weekly = digest.digest_context(week_of=week_of, now=timezone.now())
    assert _figure(weekly["feedback"].figures, "FFT positive").value == 58.3
    assert _figure(weekly["feedback"].figures, "Net Promoter Score").value == 42


def _incident(*, acknowledged: datetime, hours: float) -> Incident:
    created = acknowledged - timedelta(hours=hours)
    incident = open_incident(now=created)
    Incident.objects.filter(pk=incident.pk).update(
        created_at=created, acknowledged_at=acknowledged, status=Incident.Status.ACKNOWLEDGED
    )
    return incident


def test_median_time_to_first_response_is_the_same_in_the_goals_table_and_the_tile(manager_client):
    """The bug a manager found: "9.1 h, improving" in the goals table and "9.4 h, worse" in the tile.

    A rolling goal counted the last 30 x 24 hours, the tile the last 30 local days from midnight,
    so an incident acknowledged in between counted in one and not the other.
    """
    now = timezone.now()
    first_day = timezone.localdate(now) - timedelta(days=29)
    _incident(acknowledged=local_midnight(first_day) - timedelta(minutes=15), hours=20)  # the edge
    _incident(acknowledged=now - timedelta(days=2), hours=8.8)
    _incident(acknowledged=now - timedelta(days=3), hours=9.4)
    _incident(acknowledged=now - timedelta(days=40), hours=8.5)  # the period before
    goal = ServiceGoalFactory(
        metric_key="recovery.median_hours_to_first_response", comparator="lte", target=12
    )
    goal_measure(goal=goal, now=now)

    page = manager_client.get(reverse("dashboard"))
    row = _goal_row(page.context, goal)
    tile = _figure(page.context["recovery"], "Median time to first response")
    assert (row.value, row.previous_value) == (tile.value, tile.previous) == (9.1, 14.3)
    assert row.trend == "improving"
    assert tile.direction == "better"

    exported = _csv(manager_client.get(reverse("dashboard_export")))
    assert exported[("goal", goal.title)][2:4] == ["9.1", "14.3"]
    assert exported[("recovery", "Median time to first response")][2:4] == ["9.1", "14.3"]
