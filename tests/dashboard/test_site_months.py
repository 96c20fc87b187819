"""The comparison's monthly per-site sums: a period read as whole months plus its end days gives
exactly what summing every day gives, each half of a month is rebuilt from its own daily table,
and the upgrade fills the months from the days already summarised."""

from __future__ import annotations

import random
from datetime import date, timedelta

import pytest
from django.db.models import Sum
from django.utils import timezone

from dashboard.comparison import figures, months
from dashboard.comparison.summaries import site_days_refresh
from dashboard.models import FeedbackDay, SiteDay, SiteMonth
from dashboard.tasks import refresh_feedback_summaries
from tests.factories import LocationFactory, TouchpointFactory
from tests.migrating import migrate, migrate_to_latest

pytestmark = pytest.mark.django_db

FIRST, LAST = date(2025, 10, 15), date(2026, 12, 31)


@pytest.mark.parametrize(
    ("first", "last", "whole"),
    [
        (date(2026, 3, 1), date(2026, 3, 31), (date(2026, 3, 1), date(2026, 4, 1))),
        (date(2026, 3, 2), date(2026, 3, 31), (date(2026, 4, 1), date(2026, 4, 1))),  # none whole
        (date(2026, 2, 10), date(2026, 5, 9), (date(2026, 3, 1), date(2026, 5, 1))),
        (date(2025, 12, 7), date(2026, 12, 6), (date(2026, 1, 1), date(2026, 12, 1))),  # over new year
        (
            date(2024, 2, 29),
            date(2024, 2, 29),
            (date(2024, 3, 1), date(2024, 3, 1)),
        ),  # a leap day, none whole
    ],
)
def test_the_whole_months_of_a_period(first, last, whole):
    assert months.whole_months(first, last) == whole


def _days_with_counts(sites) -> None:
    """A site's summary on most days of 15 months."""
    rng = random.Random(19)
    now = timezone.now()
    rows = []
    day = FIRST
    while day <= LAST:
        for site in sites:
            if rng.random() < 0.2:
                continue  # a quiet day: no row at all
            rows.append(SiteDay(
                day=day, location=site, refreshed_at=now, fft_very_good=rng.randint(0, 9),
                fft_poor=rng.randint(0, 3), fft_dont_know=rng.randint(0, 1), nps_promoters=rng.randint(0, 5),
                nps_detractors=rng.randint(0, 2), incidents_responded=rng.randint(0, 3),
                response_seconds=rng.uniform(0, 9000), response_seconds_squared=rng.uniform(0, 9e7),
                checks_completed=rng.randint(0, 4), checks_missed=rng.randint(0, 1),
            ))  # fmt: skip
        day += timedelta(days=1)
    SiteDay.objects.bulk_create(rows)
    all_days = [FIRST + timedelta(days=n) for n in range((LAST - FIRST).days + 1)]
    months.refresh_months(SiteDay, fields=SiteMonth.FIELDS, days=all_days, now=now)


def _summed_day_by_day(model, fields, first, last) -> dict[int, dict]:
    rows = (
        model.objects.filter(day__gte=first, day__lte=last, location__is_active=True)
        .values("location_id")
        .order_by()
        .annotate(**{f: Sum(f) for f in fields})
    )
    return {row.pop("location_id"): row for row in rows}


@pytest.mark.parametrize("days", [30, 90, 365])
@pytest.mark.parametrize(
    "today", [date(2026, 12, 6), date(2026, 11, 30), date(2026, 12, 1), date(2026, 3, 1)]
)
def test_a_period_read_from_months_and_its_end_days_sums_exactly_what_its_days_sum(days, today):
    sites = [LocationFactory(), LocationFactory(), LocationFactory(is_active=False)]
    _days_with_counts(sites)
    first, last = figures.period(days, today=today)

    for headline in figures.HEADLINES.values():
        got = {
            row.pop("location_id"): row for row in months.summed(SiteDay, set(headline.fields), first, last)
        }
        expected = _summed_day_by_day(SiteDay, headline.fields, first, last)
        assert set(got) == set(expected) == {sites[0].pk, sites[1].pk}  # the closed site is left out
        for site, sums in expected.items():
            for field, value in sums.items():
                assert got[site][field] == pytest.approx(value or 0), (headline.key, field)


def test_the_comparison_reads_one_grouped_query_for_a_year_as_for_a_month(django_assert_num_queries):
    _days_with_counts([LocationFactory(), LocationFactory()])
    for days in (30, 365):
        with django_assert_num_queries(2):  # the summed rows (one UNION ALL), the sites
            figures.compare(
                figures.HEADLINES["fft"],
                **dict(zip(("first_day", "last_day"), figures.period(days, today=LAST), strict=True)),
            )


def test_a_sites_feedback_summaries_are_summed_into_its_day_and_month():
    site, other, now = LocationFactory(), LocationFactory(), timezone.now()
    day = date(2026, 11, 3)
    for touchpoint, good in ((TouchpointFactory(location=site), 4), (TouchpointFactory(location=site), 3)):
        FeedbackDay.objects.create(
            day=day, location=site, touchpoint=touchpoint, fft_good=good, refreshed_at=now
        )
    FeedbackDay.objects.create(
        day=day, location=None, fft_good=50, refreshed_at=now
    )  # practice-wide: no site's
    FeedbackDay.objects.create(day=day + timedelta(days=1), location=other, nps_promoters=2, refreshed_at=now)

    site_days_refresh(days=[day, day + timedelta(days=1)], now=now)
    site_days_refresh(days=[day], now=now)  # again: the same rows

    assert sorted(SiteDay.objects.values_list("day", "location_id", "fft_good", "nps_promoters")) == sorted(
        [(day, site.pk, 7, 0), (day + timedelta(days=1), other.pk, 0, 2)]
    )
    assert sorted(
        SiteMonth.objects.values_list("month", "location_id", "fft_good", "nps_promoters")
    ) == sorted([(date(2026, 11, 1), site.pk, 7, 0), (date(2026, 11, 1), other.pk, 0, 2)])

    FeedbackDay.objects.filter(location=site).delete()  # e.g. an erasure emptied the site's day
    site_days_refresh(days=[day], now=now)
    assert SiteMonth.objects.get(location=site).fft_good == 0


def test_the_summary_sweep_keeps_this_months_sums(time_machine):
    from tests.dashboard.test_site_days import _incident

    time_machine.move_to(timezone.make_aware(timezone.datetime(2026, 12, 6, 12, 0)), tick=False)
    site = LocationFactory()
    _incident(site, logged_hours_ago=3, acknowledged_hours_ago=1)

    refresh_feedback_summaries()
    refresh_feedback_summaries()

    row = SiteMonth.objects.get(location=site)
    assert (row.month, row.incidents_responded, row.response_seconds) == (date(2026, 12, 1), 1, 7200)


@pytest.mark.django_db(transaction=True)
def test_the_upgrade_sums_the_days_already_summarised_into_site_days_and_months():
    old = migrate([("dashboard", "0002_site_days")])
    Location = old.get_model("servicedesk", "Location")
    OldFeedbackDay, OldSiteDay = (
        old.get_model("dashboard", "FeedbackDay"),
        old.get_model("dashboard", "SiteDay"),
    )
    Touchpoint = old.get_model("servicedesk", "Touchpoint")
    now = timezone.now()
    ashford, brook = (
        Location.objects.create(name="Ashford (migration)"),
        Location.objects.create(name="Brook (m)"),
    )
    desk, phone = (
        Touchpoint.objects.create(name=f"{n} (migration)", location=ashford) for n in ("Desk", "Phone")
    )
    feedback = [
        (date(2026, 10, 30), ashford, desk, 3),
        (date(2026, 10, 30), ashford, phone, 1),
        (date(2026, 10, 31), ashford, desk, 4),
        (date(2026, 11, 1), ashford, desk, 5),
        (date(2026, 10, 2), brook, None, 1),
    ]
    for day, site, touchpoint, good in feedback:
        OldFeedbackDay.objects.create(
            day=day, location=site, touchpoint=touchpoint, fft_good=good, refreshed_at=now
        )
    OldFeedbackDay.objects.create(day=date(2026, 10, 30), location=None, fft_good=99, refreshed_at=now)
    OldSiteDay.objects.create(day=date(2026, 10, 2), location=brook, checks_missed=2, refreshed_at=now)

    migrate_to_latest()

    assert sorted(SiteDay.objects.values_list("day", "location_id", "fft_good", "checks_missed")) == sorted([
        (date(2026, 10, 30), ashford.pk, 4, 0),
        (date(2026, 10, 31), ashford.pk, 4, 0),
        (date(2026, 11, 1), ashford.pk, 5, 0),
        (date(2026, 10, 2), brook.pk, 1, 2),  # the day it had already: its checks kept
    ])  # fmt: skip
    months_now = SiteMonth.objects.values_list("month", "location_id", "fft_good", "checks_missed")
    assert sorted(months_now) == sorted([
        (date(2026, 10, 1), ashford.pk, 8, 0),
        (date(2026, 11, 1), ashford.pk, 5, 0),
        (date(2026, 10, 1), brook.pk, 1, 2),
    ])  # fmt: skip
