"""Exports of the dashboard: its figures as CSV, and the printable monthly report.

Both read through the dashboard's section functions (``dashboard.board``), so an
export says exactly what the page says, with the same small-number protection.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from django.db.models.functions import TruncMonth
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from dashboard.board import (
    actions_taken,
    attention,
    comparison_rows,
    panel_figures,
    panel_views,
    pillar_sections,
)
from dashboard.charts import Bar, bar_chart
from dashboard.feedback import (
    FeedbackCounts,
    as_date,
    feedback_summary,
    negative_themes,
    satisfaction_by_need_profile,
    satisfaction_by_touchpoint,
    summed,
)
from dashboard.models import FeedbackDay
from servicedesk import panels
from servicedesk.figures import csv_number, small_number
from servicedesk.metrics import Unit
from servicedesk.panels import Figure, Scope
from servicedesk.templatetags.dashboard_tags import change, figure

# --- Monthly report ------------------------------------------------------------------------------


@dataclass(frozen=True)
class MonthRow:
    month: date
    counts: FeedbackCounts


def fft_by_month(*, first_month: date, last_month: date, scope: Scope | None = None) -> list[MonthRow]:
    """FFT counts in the six standard categories per calendar month (as practices report them)."""
    end = (last_month.replace(day=28) + timedelta(days=4)).replace(day=1)
    rows = FeedbackDay.objects.filter(day__gte=first_month, day__lt=end)
    if scope is not None:
        rows = rows.filter(**scope.at_place(need_profile="need_profile"))
    grouped = rows.annotate(month=TruncMonth("day")).values("month").annotate(**summed()).order_by("month")
    by_month = {as_date(row["month"]): FeedbackCounts.from_row(row) for row in grouped}
    months, month = [], first_month
    while month <= last_month:
        months.append(MonthRow(month=month, counts=by_month.get(month, FeedbackCounts())))
        month = (month.replace(day=28) + timedelta(days=4)).replace(day=1)
    return months


# --- Exports -------------------------------------------------------------------------------------


def export_rows(scope: Scope) -> list[list[object]]:
    """The dashboard's figures as rows: section, figure, this period, previous period, unit, note.

    Aggregates only: no comment text and nothing that identifies a patient. Breakdowns with
    too few responses say so instead of giving numbers.
    """
    too_few = str(_("too few to show"))
    rows: list[list[object]] = [
        ["section", "figure", "this period", "previous period", "unit", "note"],
        ["period", "days", f"{scope.first_day} to {scope.last_day}", f"{scope.previous_first_day} to "
         f"{scope.previous_last_day}", "", ""],
    ]  # fmt: skip
    for name in ("location", "touchpoint", "need_profile"):
        if obj := getattr(scope, name):
            rows.append(["filter", name.replace("_", " "), str(obj), "", "", ""])
    own = pillar_sections(scope)
    for section in panels.sections:
        rows += section.export(own[section.key])
    for fig in feedback_summary(scope).figures:
        rows.append(_figure_row("feedback", fig, too_few))
    for title, items in (
        ("touchpoint", satisfaction_by_touchpoint(scope)),
        ("patient group", satisfaction_by_need_profile(scope)),
    ):
        for item in items:
            if item.too_few:
                rows.append([f"feedback by {title}", item.name, "", "", "", too_few])
                continue
            counts = item.counts
            rows.append(
                [f"feedback by {title}", f"{item.name}: responses", counts.responses, "", Unit.COUNT, ""]
            )
            rows.append(
                [
                    f"feedback by {title}",
                    f"{item.name}: FFT positive",
                    csv_number(counts.fft_positive_pct, Unit.PERCENT),
                    "",
                    Unit.PERCENT,
                    "",
                ]
            )
            rows.append(
                [
                    f"feedback by {title}",
                    f"{item.name}: NPS",
                    csv_number(counts.nps, Unit.SCORE),
                    "",
                    Unit.SCORE,
                    "",
                ]
            )
    for theme in negative_themes(scope, examples=0):
        rows.append(
            [
                "negative themes",
                theme.name,
                "" if theme.too_few else theme.negative_mentions,
                "",
                Unit.COUNT,
                too_few if theme.too_few else "",
            ]
        )
    for section, figures in panel_figures(scope).items():
        rows += [_figure_row(section, fig, too_few) for fig in figures]
    compared = comparison_rows(scope)
    for comparison in panels.comparisons:
        rows += [
            [str(comparison.title).lower(), row.label, row.current, row.previous, Unit.COUNT, ""]
            for row in compared[comparison.key]
        ]
    for listing in attention(scope):
        rows.append(["needs attention today", listing.title, listing.total_label, "", Unit.COUNT, ""])
    return rows


def _figure_row(section: str, fig: Figure, too_few: str) -> list[object]:
    if fig.too_few:
        return [section, fig.label, "", "", fig.unit, too_few]
    return [
        section,
        fig.label,
        csv_number(fig.value, fig.unit),
        csv_number(fig.previous, fig.unit),
        fig.unit,
        fig.note,
    ]


def month_scope(month: date, *, now: datetime, **filters: object) -> Scope:
    """A calendar month (to date, for the current month) as a dashboard scope."""
    next_month = (month.replace(day=28) + timedelta(days=4)).replace(day=1)
    last_day = min(next_month - timedelta(days=1), timezone.localdate(now))
    return Scope(now=now, first_day=month, last_day=last_day, **filters)


REPORT_MONTHS = 6  # months of FFT counts and trend on the report


def monthly_report(scope: Scope) -> dict:
    """The printable two-page brief for a practice meeting: the month in sentences, two charts,
    goals, the FFT's six categories over six months, what unhappy patients talk about, the actions
    taken, and each pillar's figures."""
    first_month = scope.first_day
    for _month in range(REPORT_MONTHS - 1):
        first_month = (first_month - timedelta(days=1)).replace(day=1)
    feedback = feedback_summary(scope)
    goals = pillar_sections(scope)
    figures, compared = panel_figures(scope), comparison_rows(scope)
    fft_months = fft_by_month(first_month=first_month, last_month=scope.first_day, scope=scope)
    views = panel_views(scope, figures, compared)
    return {
        **goals,
        "feedback": feedback,
        "brief": brief(goals.get("goals"), feedback.figures, figures),
        "charts": [fft_chart(fft_months), *comparison_charts(views)],
        "fft_months": fft_months,
        "themes": negative_themes(scope, limit=3, examples=1),
        "panels": views,
        "attention": attention(scope),
        "actions": actions_taken(scope, limit=2),  # two of each, and how many more: a two-page brief
        "small_number": small_number(),
    }


def figure_sentence(fig: Figure) -> str:
    """ "FFT positive 80.2 %, +0.6 pts on the period before" — or why there is no figure."""
    if fig.too_few:
        return str(_("%(label)s: too few answers to show") % {"label": fig.label})
    if fig.value is None:
        return str(_("%(label)s: no data") % {"label": fig.label})
    text = f"{fig.label} {figure(fig.value, fig.unit)}"
    if fig.change is not None:
        text += str(_(", %(change)s on the period before") % {"change": change(fig)})
    return text


def brief(goals: object, feedback: list[Figure], pillars: dict[str, list[Figure]]) -> list[str]:
    """The month in a few sentences, as a manager would open the meeting with them."""
    sentences = []
    counts = getattr(goals, "counts", None)
    if counts and getattr(goals, "rows", None):
        sentences.append(
            str(
                _("Goals: %(missed)s missed, %(at_risk)s at risk, %(met)s met, %(no_data)s without data.")
                % counts
            )
        )
    sentences.append(str(_("Patients: ")) + "; ".join(figure_sentence(fig) for fig in feedback) + ".")
    for pillar_figures in pillars.values():
        if pillar_figures:
            sentences.append("; ".join(figure_sentence(fig) for fig in pillar_figures[:3]) + ".")
    return sentences


def fft_chart(months: list[MonthRow]) -> dict:
    return {
        "title": str(_("FFT % positive by month")),
        "svg": bar_chart(
            [Bar(f"{row.month:%B %Y}", row.counts.fft_positive_pct) for row in months],
            unit=Unit.PERCENT,
            title=str(_("FFT % positive by month")),
            maximum=100,
        ),
    }


def comparison_charts(views: list) -> list[dict]:
    """Each pillar's comparison (incidents by category, …): this month against the month before."""
    charts = []
    for view in views:
        for comparison in view.comparisons:
            if comparison.rows:
                title = str(comparison.comparison.title)
                bars = [Bar(row.label, row.current, row.previous) for row in comparison.rows[:8]]
                charts.append({"title": title, "svg": bar_chart(bars, unit=Unit.COUNT, title=title)})
    return charts
