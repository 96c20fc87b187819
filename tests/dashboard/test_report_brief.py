"""The monthly report opens with the month in sentences and charts drawn on the server."""

from __future__ import annotations

import pytest
from django.urls import reverse

from dashboard.charts import Bar, bar_chart
from dashboard.reports import figure_sentence
from servicedesk.metrics import Unit
from servicedesk.panels import Figure

pytestmark = pytest.mark.django_db


def test_a_figure_reads_as_a_sentence_with_its_change():
    fig = Figure(label="FFT positive", value=78.1, previous=81.6, unit=Unit.PERCENT)
    assert figure_sentence(fig) == "FFT positive 78.1 %, \N{MINUS SIGN}3.5 pts on the period before"
    assert figure_sentence(Figure(label="NPS", value=None, unit=Unit.SCORE)) == "NPS: no data"
    too_few = Figure(label="NPS", value=None, unit=Unit.SCORE, too_few=True)
    assert figure_sentence(too_few) == "NPS: too few answers to show"


def test_a_bar_chart_is_svg_with_a_bar_per_row_and_names_escaped():
    svg = str(
        bar_chart(
            [Bar("<script>", 80.0), Bar("Too few", None), Bar("Waiting time and everything about it", 40.0)],
            unit=Unit.PERCENT,
            title="FFT % positive by month",
            maximum=100,
        )
    )
    assert svg.startswith("<svg")
    assert 'aria-label="FFT % positive by month"' in svg
    assert svg.count("<rect") == 2  # no bar for a month with too few answers
    assert "&lt;script&gt;" in svg
    assert "<script>" not in svg
    assert "80 %" in svg
    assert "Waiting time and eve…" in svg


def test_the_report_has_the_brief_and_two_charts(manager_client, feedback, summarise):
    feedback(6, choice="very_good")
    summarise()
    response = manager_client.get(reverse("dashboard_report"))
    assert response.status_code == 200
    brief = response.context["brief"]
    assert any(sentence.startswith("Patients: Responses") for sentence in brief)
    assert len(response.context["charts"]) >= 1
    page = response.content.decode()
    assert "The month in brief" in page
    assert 'class="report-chart"' in page
