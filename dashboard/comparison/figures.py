"""The headline figures the group compares its sites on, read from the per-site daily summaries.

One grouped query per page: ``SiteDay`` (one row a site a day: FFT, NPS, incidents, checklists,
goals) summed per site over the period's days — its whole months read from ``SiteMonth``
(``dashboard.comparison.months``) — plus the list of sites: the same number of queries for 3 sites
or 200, and for a month or a year.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from dashboard.comparison import months, stats
from dashboard.comparison.stats import Counts, Kind
from dashboard.models import SiteDay
from servicedesk.figures import small_number
from servicedesk.metrics import Unit
from servicedesk.models import Location

FFT_FIELDS = ("fft_very_good", "fft_good", "fft_neither", "fft_poor", "fft_very_poor", "fft_dont_know")


@dataclass(frozen=True)
class Headline:
    key: str
    label: Promise
    volume: Promise  # what n counts, in the table's heading
    kind: Kind
    unit: str
    higher_is_better: bool
    fields: tuple[str, ...]
    counts: Callable[[dict], Counts]
    scale: float = 100.0


HEADLINES = {
    h.key: h
    for h in (
        Headline(
            "fft",
            _("FFT % positive"),
            _("FFT answers"),
            Kind.PROPORTION,
            Unit.PERCENT,
            True,
            FFT_FIELDS,
            # NHS England's method: "don't know" is in the denominator.
            lambda s: Counts(n=sum(s[f] for f in FFT_FIELDS), hits=s["fft_very_good"] + s["fft_good"]),
        ),
        Headline(
            "nps",
            _("Net Promoter Score"),
            _("NPS answers"),
            Kind.NPS,
            Unit.SCORE,
            True,
            ("nps_promoters", "nps_passives", "nps_detractors"),
            lambda s: Counts(
                n=s["nps_promoters"] + s["nps_passives"] + s["nps_detractors"],
                hits=s["nps_promoters"],
                misses=s["nps_detractors"],
            ),
        ),
        Headline(
            "response",
            _("Time to first response to incidents (mean)"),
            _("Incidents responded to"),
            Kind.MEAN,
            Unit.HOURS,
            False,
            ("incidents_responded", "response_seconds", "response_seconds_squared"),
            lambda s: Counts(
                n=s["incidents_responded"], total=s["response_seconds"], squares=s["response_seconds_squared"]
            ),
            scale=3600.0,
        ),
        Headline(
            "recovery",
            _("Recovery success"),
            _("Patients who answered"),
            Kind.PROPORTION,
            Unit.PERCENT,
            True,
            ("recovery_answered", "recovery_succeeded"),
            lambda s: Counts(n=s["recovery_answered"], hits=s["recovery_succeeded"]),
        ),
        Headline(
            "checklists",
            _("Checklist completion"),
            _("Checklist runs due"),
            Kind.PROPORTION,
            Unit.PERCENT,
            True,
            ("checks_completed", "checks_missed"),
            lambda s: Counts(n=s["checks_completed"] + s["checks_missed"], hits=s["checks_completed"]),
        ),
        Headline(
            "goals",
            _("Goal attainment (goal-days met)"),
            _("Goal-days measured"),
            Kind.PROPORTION,
            Unit.PERCENT,
            True,
            ("goal_days_measured", "goal_days_met"),
            lambda s: Counts(n=s["goal_days_measured"], hits=s["goal_days_met"]),
        ),
    )
}
DEFAULT_HEADLINE = "fft"


def min_volume() -> int:
    """Below this volume a site is "too few to compare" (the feedback small-number threshold)."""
    return small_number()


def _summed(fields: set[str], first_day: date, last_day: date) -> list[dict]:
    return months.summed(SiteDay, fields, first_day, last_day)


def site_counts(headline: Headline, *, first_day: date, last_day: date) -> dict[int, Counts]:
    """Each active site's counts over the days, from one grouped query on the summaries."""
    rows = _summed(set(headline.fields), first_day, last_day)
    return {row["location_id"]: headline.counts(row) for row in rows}


def compare(headline: Headline, *, first_day: date, last_day: date) -> stats.Funnel:
    """The funnel of every active site for ``headline`` over the days (two queries)."""
    counted = site_counts(headline, first_day=first_day, last_day=last_day)
    sites = [
        (site.pk, site.name, counted.get(site.pk, Counts(n=0)))
        for site in Location.objects.active().only("pk", "name").order_by("name")
    ]
    return stats.funnel(headline.kind, sites, min_volume=min_volume(), scale=headline.scale)


def period(days: int, *, today: date) -> tuple[date, date]:
    """The last ``days`` local days, today included."""
    return today - timedelta(days=days - 1), today


@dataclass(frozen=True)
class SitePosition:
    """Where one site stands among the group's sites on one headline figure."""

    headline: Headline
    value: float | None  # None: too few to compare
    quarter: str | None  # "top", "middle" (the middle half) or "bottom"
    sites: int  # how many sites had enough to compare


def site_positions(location_id: int, *, first_day: date, last_day: date) -> list[SitePosition]:
    """The site's quarter among the sites on every headline, from one query."""
    rows = _summed(
        {field for headline in HEADLINES.values() for field in headline.fields}, first_day, last_day
    )
    positions = []
    for headline in HEADLINES.values():
        values = {}
        for row in rows:
            counts = headline.counts(row)
            if counts.n >= max(min_volume(), 1):
                values[row["location_id"]] = stats.value(headline.kind, counts, scale=headline.scale)
        own, spread = values.get(location_id), stats.quartiles([v for v in values.values() if v is not None])
        quarter = None
        if own is not None and spread is not None:
            quarter = stats.quarter(own, spread, higher_is_better=headline.higher_is_better)
        positions.append(SitePosition(headline, own, quarter, len(values)))
    return positions
