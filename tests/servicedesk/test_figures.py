"""The one rounding rule and the one small-number threshold."""

from __future__ import annotations

from decimal import Decimal

from delivery.metrics import completion_pct
from design.templatetags.design_tags import metric_value
from feedback import figures as feedback_figures
from feedback.figures import FftCounts, NpsCounts
from recovery.metrics import median_hours, within_sla_pct
from servicedesk.figures import csv_number, figure_text, round_figure, small_number
from servicedesk.metrics import Unit
from servicedesk.templatetags.dashboard_tags import figure


def test_figures_round_half_away_from_zero_to_the_places_of_their_unit():
    assert round_figure(2.675, Unit.RATING) == Decimal("2.68")  # Python's round() gives 2.67
    assert round_figure(0.25, Unit.PERCENT) == Decimal("0.3")  # round() gives 0.2 (half to even)
    assert round_figure(-0.25, Unit.PERCENT) == Decimal("-0.3")
    assert round_figure(41.5, Unit.SCORE) == Decimal("42")
    assert round_figure(9.05, Unit.HOURS) == Decimal("9.1")
    assert round_figure(None, Unit.PERCENT) is None


def test_every_page_writes_a_figure_from_the_same_rounded_number():
    assert figure_text(87.45, Unit.PERCENT) == "87.5"
    assert figure_text(91.0, Unit.PERCENT) == "91"
    assert figure_text(41.67, Unit.SCORE) == "+42"
    assert figure(87.45, Unit.PERCENT) == "87.5 %"
    assert metric_value(87.45, Unit.PERCENT) == "87.5 %"
    assert figure(9.05, Unit.HOURS) == "9.1 h"
    assert csv_number(87.45, Unit.PERCENT) == "87.5"
    assert csv_number(-12.4, Unit.SCORE) == "-12"
    assert csv_number(None) == ""


def test_feedback_figures_are_none_below_the_small_number_threshold(settings):
    settings.FEEDBACK_SMALL_NUMBER = 5
    assert small_number() == 5
    four = FftCounts(total=4, positive=4, negative=0)
    assert feedback_figures.fft_positive_pct(four) is None
    assert feedback_figures.nps(NpsCounts(promoters=4)) is None
    assert feedback_figures.response_rate_pct(answered=1, invited=4) is None
    five = FftCounts.from_choices({"very_good": 2, "good": 1, "dont_know": 1, "poor": 1})
    assert feedback_figures.fft_positive_pct(five) == 60  # don't know counts in the denominator
    assert feedback_figures.fft_negative_pct(five) == 20
    assert feedback_figures.nps(NpsCounts.from_scores({10: 3, 8: 1, 0: 1})) == 40
    settings.FEEDBACK_SMALL_NUMBER = 3
    assert feedback_figures.fft_positive_pct(four) == 100


def test_completion_and_recovery_figures_need_something_to_divide():
    assert completion_pct(completed=0, missed=0) is None
    assert completion_pct(completed=2, missed=1) == Decimal(200) / 3
    assert within_sla_pct(within=0, resolved=0) is None
    assert median_hours([]) is None


# Templates that may format a number by hand, and why: what they show is not a figure.
HAND_FORMATTED = {
    "design/goal_detail.html": "a money budget and staff hours",
}


def test_every_figure_is_written_by_the_one_filter():
    """Percentages, hours and scores go through ``figure`` (or ``metric_value``, which uses it), so a
    figure reads the same on every page: "93.1 %", never "93.10 %" or "93%"."""
    from pathlib import Path

    from django.conf import settings

    root = Path(settings.BASE_DIR) / "templates"
    by_hand = {
        str(path.relative_to(root))
        for path in root.rglob("*.*")
        if "floatformat" in path.read_text(encoding="utf-8")
    }
    assert by_hand <= set(HAND_FORMATTED), sorted(by_hand - set(HAND_FORMATTED))
