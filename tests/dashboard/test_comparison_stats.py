"""The funnel-plot statistics against worked examples computed by hand (the arithmetic is shown;
nothing here calls the code under test to find the expected value)."""

from __future__ import annotations

import math

import pytest

from dashboard.comparison import stats
from dashboard.comparison.stats import Counts, Kind, Position

# A group of five sites answering a yes/no question (e.g. FFT positive), 1,000 answers in all:
#   A  95 of 100   (95 %)      B 340 of 400 (85 %)      C 320 of 400 (80 %)
#   D  45 of  96   (46.875 %)  E   0 of   4 (0 %, too few)
# Pooled: (95 + 340 + 320 + 45 + 0) / (100 + 400 + 400 + 96 + 4) = 800 / 1000 = 0.8.
GROUP = [
    ("a", "Site A", Counts(n=100, hits=95)),
    ("b", "Site B", Counts(n=400, hits=340)),
    ("c", "Site C", Counts(n=400, hits=320)),
    ("d", "Site D", Counts(n=96, hits=45)),
    ("e", "Site E", Counts(n=4, hits=0)),
]


def test_proportion_limits_at_a_volume_of_100_match_the_binomial_by_hand():
    # SE(100) = √(0.8 x 0.2 / 100) = √0.0016 = 0.04, i.e. 4 percentage points.
    # 95 %:   80 ± 1.959964 x 4 = 80 ± 7.839856   → 72.160144 … 87.839856
    # 99.8 %: 80 ± 3.090232 x 4 = 80 ± 12.360928  → 67.639072 … 92.360928
    limits = stats.limits(Kind.PROPORTION, Counts(n=1000, hits=800))
    assert limits.target == pytest.approx(80.0)
    assert limits.at(100, stats.Z95) == pytest.approx((72.160144, 87.839856), abs=1e-6)
    assert limits.at(100, stats.Z998) == pytest.approx((67.639072, 92.360928), abs=1e-6)


def test_proportion_limits_narrow_with_volume_as_one_over_root_n():
    # SE(400) = √(0.16 / 400) = 0.02 → 2 points; 95 %: 80 ± 3.919928; 99.8 %: 80 ± 6.180464.
    limits = stats.limits(Kind.PROPORTION, Counts(n=1000, hits=800))
    assert limits.at(400, stats.Z95) == pytest.approx((76.080072, 83.919928), abs=1e-6)
    assert limits.at(400, stats.Z998) == pytest.approx((73.819536, 86.180464), abs=1e-6)


def test_each_site_is_placed_against_the_limits_at_its_own_volume():
    funnel = stats.funnel(Kind.PROPORTION, GROUP, min_volume=5)
    by_key = {site.key: site for site in funnel.sites}
    # A: 95 > 92.360928 (99.8 % upper at n=100).
    assert by_key["a"].position is Position.ABOVE_998
    # B: 85 is above 83.919928 (95 % at n=400) but under 86.180464 (99.8 %).
    assert by_key["b"].position is Position.ABOVE_95
    # C: 80 is the target.
    assert by_key["c"].position is Position.WITHIN
    # D: SE(96) = √(0.16/96) = 0.0408248 → 99.8 % lower 80 - 3.090232 x 4.08248 = 67.384; 46.875 is far below.
    assert by_key["d"].position is Position.BELOW_998
    assert by_key["d"].value == pytest.approx(46.875)
    # E: 4 answers < 5, so never named, whatever its value (0 %).
    assert by_key["e"].position is Position.TOO_FEW
    assert by_key["e"].value is None
    assert [s.key for s in funnel.outside(Position.ABOVE_998, Position.BELOW_998)] == ["a", "d"]


def test_small_sites_still_count_in_the_group_value_but_not_in_the_quartiles():
    funnel = stats.funnel(Kind.PROPORTION, GROUP, min_volume=5)
    assert funnel.limits.target == pytest.approx(80.0)  # 800 / 1000, E's 4 answers included
    # Compared values sorted: 46.875, 80, 85, 95 (E left out). Linear interpolation, (n - 1)·q:
    # lower: position 0.75 → 46.875 + 0.75 x (80 - 46.875) = 71.71875
    # median: position 1.5 → (80 + 85) / 2 = 82.5
    # upper: position 2.25 → 85 + 0.25 x (95 - 85) = 87.5
    assert funnel.quartiles == stats.Quartiles(71.71875, 82.5, 87.5)


def test_nps_limits_use_the_variance_of_a_difference_of_two_proportions():
    # 1,000 answers: 500 promoters (+1), 300 passives (0), 200 detractors (-1).
    # NPS = 100 x (0.5 - 0.2) = 30. Per answer: E[x] = 0.3, E[x²] = 0.5 + 0.2 = 0.7,
    # variance = 0.7 - 0.3² = 0.61 (= p₊ + p₋ - (p₊ - p₋)²); SD = √0.61 = 0.7810250.
    # SE(100) = 0.0781025 → 7.81025 points; 95 %: 30 ± 1.959964 x 7.81025 = 30 ± 15.307809
    # 99.8 %: 30 ± 3.090232 x 7.81025 = 30 ± 24.135484
    limits = stats.limits(Kind.NPS, Counts(n=1000, hits=500, misses=200))
    assert limits.target == pytest.approx(30.0)
    assert limits.at(100, stats.Z95) == pytest.approx((14.692191, 45.307809), abs=1e-5)
    assert limits.at(100, stats.Z998) == pytest.approx((5.864516, 54.135484), abs=1e-5)
    # A site of 100 answers with NPS 50 (60 promoters, 10 detractors): above 95 %, within 99.8 %.
    assert limits.position(50.0, 100) is Position.ABOVE_95


def test_nps_limits_stay_between_minus_and_plus_100():
    # Everyone a promoter but 1 in 1,000: the upper limit at n=5 would pass +100; it is clipped.
    limits = stats.limits(Kind.NPS, Counts(n=1000, hits=999, misses=1))
    assert limits.at(5, stats.Z998)[1] == 100.0


def test_mean_limits_use_the_pooled_standard_deviation_over_root_n():
    # Times in hours (scale 1): site A 1, 2, 3; site B 4, 5.
    # Group: n = 5, sum = 15, sum of squares = 1 + 4 + 9 + 16 + 25 = 55; mean = 3.
    # Sample variance = (55 - 15²/5) / (5 - 1) = (55 - 45) / 4 = 2.5; SD = √2.5 = 1.5811388.
    # SE(3) = 1.5811388 / √3 = 0.9128709; 95 %: 3 ± 1.959964 x 0.9128709 = 3 ± 1.789194.
    a, b = Counts(n=3, total=6.0, squares=14.0), Counts(n=2, total=9.0, squares=41.0)
    group = a + b
    assert stats.standard_deviation(group) == pytest.approx(math.sqrt(2.5))
    limits = stats.limits(Kind.MEAN, group, scale=1.0)
    assert limits.target == pytest.approx(3.0)
    assert limits.at(3, stats.Z95) == pytest.approx((1.210806, 4.789194), abs=1e-6)
    assert limits.position(2.0, 3) is Position.WITHIN  # A's mean, 2 h


def test_mean_in_seconds_is_shown_in_hours():
    # 2 incidents of 1 h and 3 h: 3600 + 10800 = 14400 s, squares 3600² + 10800² = 129,600,000.
    counts = Counts(n=2, total=14400.0, squares=129_600_000.0)
    assert stats.value(Kind.MEAN, counts, scale=3600.0) == pytest.approx(2.0)
    # SD in seconds: (129.6e6 - 14400²/2) / 1 = 129.6e6 - 103.68e6 = 25.92e6 → 5091.169 s = 1.4142 h.
    assert stats.unit_spread(Kind.MEAN, counts, scale=3600.0) == pytest.approx(math.sqrt(2), abs=1e-9)


def test_proportion_limits_stay_inside_0_and_100_percent():
    limits = stats.limits(Kind.PROPORTION, Counts(n=100, hits=98))
    low, high = limits.at(5, stats.Z998)
    assert high == 100.0
    assert low >= 0.0


def test_no_data_gives_no_limits_and_every_site_too_few():
    funnel = stats.funnel(Kind.PROPORTION, [("a", "A", Counts(n=0))], min_volume=5)
    assert funnel.limits is None
    assert funnel.quartiles is None
    assert funnel.sites[0].position is Position.TOO_FEW


def test_no_sites_at_all_is_an_empty_funnel():
    funnel = stats.funnel(Kind.NPS, [], min_volume=5)
    assert funnel.sites == []
    assert funnel.compared == []
    assert funnel.limits is None


@pytest.mark.parametrize(
    ("value", "higher_is_better", "expected"),
    [
        (90.0, True, "top"),  # ≥ upper quartile 87.5
        (87.5, True, "top"),  # on the quartile: the better quarter
        (80.0, True, "middle"),
        (71.71875, True, "middle"),  # on the lower quartile: still the middle half
        (50.0, True, "bottom"),
        (50.0, False, "top"),  # lower is better (response time): ≤ lower quartile
        (90.0, False, "bottom"),
    ],
)
def test_a_sites_quarter_follows_the_quartiles_and_which_way_is_better(value, higher_is_better, expected):
    spread = stats.Quartiles(71.71875, 82.5, 87.5)
    assert stats.quarter(value, spread, higher_is_better=higher_is_better) == expected


def test_quartiles_of_one_site_are_its_value():
    assert stats.quartiles([42.0]) == stats.Quartiles(42.0, 42.0, 42.0)
