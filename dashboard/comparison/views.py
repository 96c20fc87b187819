"""The group's comparison between sites (issue 19): every site's value for one headline figure,
the median and quartiles, a funnel plot with 95 % and 99.8 % control limits, and the sites outside
them named. For group managers only."""

from __future__ import annotations

from dataclasses import dataclass

from django import forms
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_GET

from dashboard.comparison import figures
from dashboard.comparison.chart import funnel_chart
from dashboard.comparison.stats import Funnel, Position, SiteResult
from servicedesk.access import group_manager_required
from servicedesk.forms import BootstrapWidgets
from servicedesk.refusal import refused
from servicedesk.replica import reads_from_replica
from servicedesk.templatetags.dashboard_tags import figure

TEMPLATE = "dashboard/compare.html"
ORDERS = [("value", _("Best first")), ("volume", _("Largest first")), ("name", _("Site name"))]


class ComparisonForm(BootstrapWidgets, forms.Form):
    figure = forms.ChoiceField(
        label=_("Figure"),
        required=False,
        choices=[(h.key, h.label) for h in figures.HEADLINES.values()],
    )
    days = forms.TypedChoiceField(
        label=_("Period"),
        coerce=int,
        required=False,
        empty_value=90,
        initial=90,
        choices=[(30, _("Last 30 days")), (90, _("Last 90 days")), (365, _("Last 12 months"))],
    )
    order = forms.ChoiceField(label=_("Order"), required=False, choices=ORDERS)

    def choice(self) -> tuple[figures.Headline, int, str]:
        data = self.cleaned_data if self.is_bound else {}
        headline = figures.HEADLINES[data.get("figure") or figures.DEFAULT_HEADLINE]
        return headline, data.get("days") or 90, data.get("order") or "value"


@dataclass(frozen=True)
class Outside:
    """One group of named sites: e.g. "above the 99.8 % limit", better or worse than the group."""

    title: str
    sites: list[SiteResult]


WHERE = {
    Position.ABOVE_998: _("above 99.8 % limit"),
    Position.ABOVE_95: _("above 95 % limit"),
    Position.WITHIN: _("within the limits"),
    Position.BELOW_95: _("below 95 % limit"),
    Position.BELOW_998: _("below 99.8 % limit"),
    Position.TOO_FEW: _("too few to compare"),
}


def _ordered(funnel: Funnel, order: str, higher_is_better: bool) -> list[SiteResult]:
    compared, too_few = funnel.compared, [s for s in funnel.sites if s.position is Position.TOO_FEW]
    if order == "name":
        return sorted(funnel.sites, key=lambda s: s.label.casefold())
    if order == "volume":
        return sorted(funnel.sites, key=lambda s: (-s.n, s.label.casefold()))
    sign = -1 if higher_is_better else 1
    return sorted(compared, key=lambda s: (sign * (s.value or 0), s.label.casefold())) + too_few


def _rows(funnel: Funnel, order: str, headline: figures.Headline) -> list[tuple[SiteResult, str, str]]:
    """(site, value as shown, where against the limits), texts made once per request, not per row
    in the template (200 sites: the lookups were most of the page's time)."""
    where = {position: str(text) for position, text in WHERE.items()}
    return [
        (site, figure(site.value, headline.unit), where[site.position])
        for site in _ordered(funnel, order, headline.higher_is_better)
    ]


def _outside(funnel: Funnel, higher_is_better: bool) -> list[Outside]:
    better, worse = _("better than the group"), _("worse than the group")
    high, low = (better, worse) if higher_is_better else (worse, better)
    groups = [
        (_("Above the 99.8 % limit"), high, Position.ABOVE_998),
        (_("Below the 99.8 % limit"), low, Position.BELOW_998),
        (_("Above the 95 % limit only"), high, Position.ABOVE_95),
        (_("Below the 95 % limit only"), low, Position.BELOW_95),
    ]
    return [Outside(f"{title} ({meaning})", funnel.outside(position)) for title, meaning, position in groups]


@require_GET
@group_manager_required
@reads_from_replica
def compare_sites(request: HttpRequest) -> HttpResponse:
    """Every site on one headline figure, fairly: value against volume with control limits."""
    form = ComparisonForm(request.GET or None)
    if form.is_bound and not form.is_valid():
        return refused(request, TEMPLATE, {"form": form})
    headline, days, order = form.choice()
    first_day, last_day = figures.period(days, today=timezone.localdate(timezone.now()))
    funnel = figures.compare(headline, first_day=first_day, last_day=last_day)
    outside = _outside(funnel, headline.higher_is_better)
    context = {
        "form": form,
        "headline": headline,
        "first_day": first_day,
        "last_day": last_day,
        "funnel": funnel,
        "rows": _rows(funnel, order, headline),
        "outside": outside,
        "any_outside": any(group.sites for group in outside),
        "chart": funnel_chart(funnel),
    }
    return render(request, TEMPLATE, context)
