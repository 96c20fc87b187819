"""The manager dashboard: composes its own feedback section with what every pillar contributes
through ``servicedesk.panels`` (sections such as design's goals, figure panels, comparisons,
attention lists).

Each section is a small fixed number of queries; a pillar's contribution that fails is logged
and left out, so one pillar's bug cannot take the managers' landing page down.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import partial
from typing import Any, TypeVar

from django.utils.translation import gettext_lazy as _

from dashboard.feedback import feedback_sections
from feedback.contributions import responses_url
from servicedesk import panels
from servicedesk.figures import small_number
from servicedesk.panels import (
    AttentionList,
    ComparisonRow,
    Figure,
    Scope,
)

logger = logging.getLogger(__name__)

T = TypeVar("T")


def comparison_chart(rows: list[ComparisonRow]) -> dict:
    """A comparison as Chart.js wants it: horizontal bars, this period against the one before."""
    return {
        "labels": [row.label for row in rows],
        "horizontal": True,
        "datasets": [
            {"label": str(_("This period")), "data": [row.current for row in rows]},
            {"label": str(_("Period before")), "data": [row.previous for row in rows]},
        ],
    }


@dataclass(frozen=True)
class ComparisonView:
    comparison: panels.Comparison
    rows: list[ComparisonRow]

    @property
    def chart(self) -> dict:
        return comparison_chart(self.rows)

    @property
    def dom_id(self) -> str:
        return self.comparison.key.replace("_", "-")

    @property
    def data_id(self) -> str:
        return f"{self.dom_id}-data"


@dataclass(frozen=True)
class PanelView:
    """One pillar's section as the page shows it: its figures and the comparisons under it."""

    panel: panels.Panel
    figures: list[Figure]
    url: str
    comparisons: list[ComparisonView]


def _contributed(what: str, compute: Callable[[], T], fallback: T) -> T:
    """A pillar's contribution, or ``fallback`` when it fails: one pillar's bug must not take the
    managers' landing page down (logged loudly, with the contribution's name)."""
    try:
        return compute()
    except Exception:
        logger.exception("dashboard contribution %s failed", what)
        return fallback


def pillar_sections(scope: Scope) -> dict[str, Any]:
    """Each pillar's own section by its key ("goals"), or its empty value when the pillar's code fails."""
    return {
        section.key: _contributed(section.key, partial(section.compute, scope), section.empty())
        for section in panels.sections
    }


def panel_figures(scope: Scope) -> dict[str, list[Figure]]:
    """Each pillar's row of figures, by its key ("recovery", "delivery"), in the registry's order."""
    return {panel.key: _contributed(panel.key, partial(panel.figures, scope), []) for panel in panels.panels}


def comparison_rows(scope: Scope) -> dict[str, list[ComparisonRow]]:
    return {
        comparison.key: _contributed(comparison.key, partial(comparison.rows, scope), [])
        for comparison in panels.comparisons
    }


def _lists(registry: Iterable[panels.Attention], scope: Scope, **options: int) -> list[AttentionList]:
    """Each pillar's list in the registry's order, one or two queries each (a failed one is left out)."""
    lists = (_contributed(item.key, partial(item.items, scope, **options), None) for item in registry)
    return [listing for listing in lists if listing is not None]


def attention(scope: Scope) -> list[AttentionList]:
    """What needs a manager today, whatever period the dashboard shows, each list contributed by the
    pillar that owns what it lists."""
    return _lists(panels.attention, scope)


def actions_taken(scope: Scope, *, limit: int = 3) -> list[AttentionList]:
    """What the practice did in the period: the first ``limit`` of each pillar's list, for the
    pillars that did something."""
    return [listing for listing in _lists(panels.actions, scope, limit=limit) if listing.total]


def panel_views(
    scope: Scope, figures: dict[str, list[Figure]], compared: dict[str, list[ComparisonRow]]
) -> list[PanelView]:
    """Each pillar's section, in the registry's order, with the comparisons it shows under it."""
    return [
        PanelView(
            panel=panel,
            figures=figures[panel.key],
            url=panel.link(scope),
            comparisons=[
                ComparisonView(comparison=c, rows=compared[c.key])
                for c in panels.comparisons
                if c.panel == panel.key
            ],
        )
        for panel in panels.panels
    ]


# The attention lists whose totals head the dashboard, beside goals, FFT and NPS.
HEADLINE_LISTS = (("overdue_incidents", _("Overdue incidents")), ("missed_checks", _("Missed checks")))


def headline_lists(lists: list[AttentionList]) -> list[tuple[str, AttentionList | None]]:
    """(label, list) for the headline; None where the pillar gave no list (its code failed)."""
    by_key = {listing.key: listing for listing in lists}
    return [(str(label), by_key.get(key)) for key, label in HEADLINE_LISTS]


def sections(scope: Scope) -> dict:
    """Everything the dashboard page shows for this scope: its own feedback section, and what each
    pillar contributes (sections, figure panels with their comparisons, attention lists)."""
    figures, compared = panel_figures(scope), comparison_rows(scope)
    lists = attention(scope)
    return {
        **pillar_sections(scope),
        **feedback_sections(scope),
        "attention": lists,
        "headline_lists": headline_lists(lists),
        "small_number": small_number(),
        "links": {"responses": responses_url(scope)},
        "panels": panel_views(scope, figures, compared),
        **figures,
        **compared,
    }
