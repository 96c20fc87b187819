"""The funnel plot's geometry: round ticks, limits drawn inside the plot, nothing drawn without data."""

from __future__ import annotations

from dashboard.comparison import stats
from dashboard.comparison.chart import HEIGHT, WIDTH, funnel_chart, nice_ticks
from dashboard.comparison.stats import Counts, Kind


def test_ticks_are_round_numbers_spanning_the_range():
    assert nice_ticks(0, 420) == [0, 100, 200, 300, 400]
    assert nice_ticks(42.5, 97.3) == [50, 60, 70, 80, 90]


def test_no_chart_when_no_site_has_enough_to_compare():
    funnel = stats.funnel(Kind.PROPORTION, [("a", "A", Counts(n=3, hits=1))], min_volume=5)
    assert funnel_chart(funnel) is None


def test_every_point_of_the_chart_lies_inside_the_picture_and_outliers_are_labelled():
    sites = [("a", "Ashford", Counts(n=100, hits=95)), ("c", "Cedar", Counts(n=400, hits=320))]
    sites += [("d", "Dale", Counts(n=96, hits=45)), ("e", "Elm", Counts(n=4, hits=0))]
    chart = funnel_chart(stats.funnel(Kind.PROPORTION, sites, min_volume=5))
    points = [tuple(map(float, p.split(","))) for curve in chart.curves.values() for p in curve.split()]
    points += [(dot.x, dot.y) for dot in chart.dots]
    assert all(0 <= x <= WIDTH and 0 <= y <= HEIGHT for x, y in points)
    assert {dot.label for dot in chart.labelled} == {"Ashford", "Dale"}
    assert "Elm" not in {dot.label for dot in chart.dots}  # too few: not plotted
