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
    """A site's summaries on most days of 15 months, up to three feedback rows a day (touchpoints)."""
    rng = random.Random(19)
    now = timezone.now()
    places = {site.pk: [TouchpointFactory(location=site) for _ in range(3)] for site in sites}
    feedback, site_days = [], []
    day = FIRST
    while day <= LAST:
        for site in sites:
            if rng.random() < 0.2:
                continue  # a quiet day: no row at all
            for touchpoint in places[site.pk][: rng.randint(1, 3)]:
                feedback.append(FeedbackDay(
                    day=day, location=site, touchpoint=touchpoint, refreshed_at=now,
                    fft_very_good=rng.randint(0, 9), fft_poor=rng.randint(0, 3),
                    fft_dont_know=rng.randint(0, 1), nps_promoters=rng.randint(0, 5),
                    nps_detractors=rng.randint(0, 2),
                ))  # fmt: skip
            site_days.append(SiteDay(
                day=day, location=site, refreshed_at=now, incidents_responded=rng.randint(0, 3),
                response_seconds=rng.uniform(0, 9000), response_seconds_squared=rng.uniform(0, 9e7),
                checks_completed=rng.randint(0, 4), checks_missed=rng.randint(0, 1),
            ))  # fmt: skip
        day += timedelta(days=1)
    feedback.append(FeedbackDay(day=FIRST, location=None, refreshed_at=now, fft_good=50))  # practice-wide
    FeedbackDay.objects.bulk_create(feedback)
    SiteDay.objects.bulk_create(site_days)
    all_days = [FIRST + timedelta(days=n) for n in range((LAST - FIRST).days + 1)]
    months.refresh_months(FeedbackDay, fields=SiteMonth.FEEDBACK_FIELDS, days=all_days, now=now)
    months.refresh_months(SiteDay, fields=SiteMonth.SITE_FIELDS, days=all_days, now=now)


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
            row.pop("location_id"): row
            for row in months.summed(headline.summary, set(headline.fields), first, last)
        }
        expected = _summed_day_by_day(headline.summary, headline.fields, first, last)
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


def test_each_half_of_a_month_is_rebuilt_from_its_own_days_and_keeps_the_other():
    site, now = LocationFactory(), timezone.now()
    day = date(2026, 11, 3)
    FeedbackDay.objects.create(day=day, location=site, refreshed_at=now, fft_good=4)
    SiteDay.objects.create(day=day, location=site, refreshed_at=now, checks_completed=2)
    months.refresh_months(FeedbackDay, fields=SiteMonth.FEEDBACK_FIELDS, days=[day], now=now)
    months.refresh_months(SiteDay, fields=SiteMonth.SITE_FIELDS, days=[day], now=now)
    months.refresh_months(SiteDay, fields=SiteMonth.SITE_FIELDS, days=[day], now=now)  # again: the same

    row = SiteMonth.objects.get()
    assert (row.month, row.fft_good, row.checks_completed) == (date(2026, 11, 1), 4, 2)

    FeedbackDay.objects.all().delete()  # e.g. an erasure emptied the month's feedback
    months.refresh_months(FeedbackDay, fields=SiteMonth.FEEDBACK_FIELDS, days=[day], now=now)
    row = SiteMonth.objects.get()
    assert (row.fft_good, row.checks_completed) == (0, 2)


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
def test_the_upgrade_sums_the_days_already_summarised_into_months():
    old = migrate([("dashboard", "0002_site_days")])
    Location = old.get_model("servicedesk", "Location")
    OldFeedbackDay, OldSiteDay = (
        old.get_model("dashboard", "FeedbackDay"),
        old.get_model("dashboard", "SiteDay"),
    )
    now = timezone.now()
    ashford, brook = (
        Location.objects.create(name="Ashford (migration)"),
        Location.objects.create(name="Brook (m)"),
    )
    for day, site, good in ((date(2026, 10, 30), ashford, 3), (date(2026, 10, 31), ashford, 4),
                            (date(2026, 11, 1), ashford, 5), (date(2026, 11, 1), brook, 1)):  # fmt: skip
        OldFeedbackDay.objects.create(day=day, location=site, fft_good=good, refreshed_at=now)
    OldFeedbackDay.objects.create(day=date(2026, 10, 30), location=None, fft_good=99, refreshed_at=now)
    OldSiteDay.objects.create(day=date(2026, 10, 2), location=brook, checks_missed=2, refreshed_at=now)

    migrate_to_latest()

    got = sorted((m.month, m.location_id, m.fft_good, m.checks_missed) for m in SiteMonth.objects.all())
    assert got == sorted([
        (date(2026, 10, 1), ashford.pk, 7, 0),
        (date(2026, 11, 1), ashford.pk, 5, 0),
        (date(2026, 11, 1), brook.pk, 1, 0),
        (date(2026, 10, 1), brook.pk, 0, 2),
    ])  # fmt: skip
