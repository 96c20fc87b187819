"""Exports: the dashboard's figures as CSV (safe to open in a spreadsheet) and the monthly report."""

from __future__ import annotations

import csv
import io
from datetime import date, datetime, time, timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from servicedesk.spreadsheet import spreadsheet_safe
from tests.factories import TouchpointFactory

pytestmark = pytest.mark.django_db


def _rows(response) -> list[list[str]]:
    assert response["Content-Type"].startswith("text/csv")
    return list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))


@pytest.mark.parametrize("value", ['=HYPERLINK("http://x")', "+1+1", "-2+3", "@SUM(A1)", "\tcmd", "\rcmd"])
def test_cells_that_a_spreadsheet_would_run_as_formulas_are_neutralised(value):
    assert spreadsheet_safe(value) == "'" + value


def test_numbers_and_plain_text_are_left_alone():
    assert spreadsheet_safe(-12.5) == -12.5
    assert spreadsheet_safe("Front desk") == "Front desk"


def test_the_csv_has_the_period_figures_and_breakdowns(manager_client, feedback, summarise):
    desk = TouchpointFactory(name="Front desk")
    feedback(6, choice="good", nps=9, touchpoint=desk)
    summarise()
    response = manager_client.get(reverse("dashboard_export"), {"days": 7})
    assert 'attachment; filename="dashboard-' in response["Content-Disposition"]
    rows = _rows(response)
    assert rows[0] == ["section", "figure", "this period", "previous period", "unit", "note"]
    by_figure = {(row[0], row[1]): row for row in rows}
    assert by_figure[("feedback", "Responses")][2:4] == ["6", "0"]
    assert by_figure[("feedback", "FFT positive")][2] == "100"
    assert by_figure[("feedback by touchpoint", "Front desk: NPS")][2] == "100"


def test_a_touchpoint_named_like_a_formula_is_neutralised_in_the_csv(manager_client, feedback, summarise):
    evil = TouchpointFactory(name='=HYPERLINK("http://evil.example","Click")')
    feedback(5, choice="good", touchpoint=evil)
    summarise()
    rows = _rows(manager_client.get(reverse("dashboard_export")))
    names = [row[1] for row in rows if row[0] == "feedback by touchpoint"]
    assert names
    assert all(name.startswith("'=HYPERLINK") for name in names)


def test_small_breakdowns_say_too_few_in_the_csv_instead_of_numbers(manager_client, feedback, summarise):
    TouchpointFactory(name="Video")
    feedback(2, choice="very_poor", touchpoint=TouchpointFactory(name="Video consultations"))
    summarise()
    rows = _rows(manager_client.get(reverse("dashboard_export")))
    (row,) = [row for row in rows if row[0] == "feedback by touchpoint"]
    assert row[1:] == ["Video consultations", "", "", "", "too few to show"]


def test_a_bad_filter_on_the_export_is_a_form_error(manager_client):
    response = manager_client.get(reverse("dashboard_export"), {"location": "nope"})
    assert response.status_code == 400
    assert "location" in response.context["form"].errors


def test_the_monthly_report_counts_fft_answers_in_the_six_categories(manager_client, feedback, summarise):
    today = timezone.localdate()
    last_month = (today.replace(day=1) - timedelta(days=1)).replace(day=1)
    mid = timezone.make_aware(datetime.combine(last_month + timedelta(days=10), time(12)))
    counts = {"very_good": 7, "good": 4, "neither": 3, "poor": 2, "very_poor": 1, "dont_know": 1}
    for choice, n in counts.items():
        feedback(n, choice=choice, when=mid)
    summarise()
    response = manager_client.get(reverse("dashboard_report"))
    assert response.context["month"] == last_month
    month_row = next(row for row in response.context["fft_months"] if row.month == last_month)
    assert month_row.counts.fft_counts == [
        ("Very good", 7),
        ("Good", 4),
        ("Neither good nor poor", 3),
        ("Poor", 2),
        ("Very poor", 1),
        ("Don't know", 1),
    ]
    page = response.content.decode()
    assert f"Service report, {last_month:%B %Y}" in page
    assert "Neither good nor poor" in page
    assert "61.1 %" in page  # (7 + 4) / 18, to one place by the one rounding rule
    assert "data-print" in page
    assert "css/dashboard.css" in page


def test_the_monthly_report_takes_any_of_the_last_24_months_and_refuses_others(manager_client):
    month = timezone.localdate().replace(day=1)
    assert manager_client.get(reverse("dashboard_report"), {"month": month.isoformat()}).status_code == 200
    for bad in ("2001-01-01", "last month", date(2030, 1, 1).isoformat()):
        response = manager_client.get(reverse("dashboard_report"), {"month": bad})
        assert response.status_code == 400
        assert "month" in response.context["form"].errors
