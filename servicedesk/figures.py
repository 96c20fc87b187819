"""How every figure is rounded, and below how many answers a figure is not shown: one place each.

Each pillar defines its figures once, as pure functions over counts (``feedback.figures``,
``delivery.metrics.completion_pct``, ``recovery.metrics.median_hours``); the goals, the dashboard,
the results page, the CSVs, the digest and the report all call those, and round here.

The rule: half away from zero (what a person expects, unlike Python's ``round`` on a float,
which rounds 0.5 to even and 2.675 to 2.67), to the places of the figure's unit.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

from django.conf import settings

from servicedesk.metrics import Number, Unit

# Decimal places each unit is shown and exported to.
PLACES = {
    Unit.PERCENT: 1,
    Unit.HOURS: 1,
    Unit.SCORE: 0,  # NPS is a whole number, from -100 to +100
    Unit.RATING: 2,
    Unit.COUNT: 0,
}


def small_number() -> int:
    """Below this many answers a percentage, score or breakdown is "too few to show" (setting
    ``FEEDBACK_SMALL_NUMBER``, default 5): it could identify a patient and misleads about staff."""
    return settings.FEEDBACK_SMALL_NUMBER


def too_few(answers: int) -> bool:
    return answers < small_number()


def round_figure(value: Number | None, unit: str = Unit.PERCENT) -> Decimal | None:
    """The figure as it is shown, compared and exported: half away from zero, to the unit's places."""
    if value is None:
        return None
    exponent = Decimal(1).scaleb(-PLACES.get(unit, 1))
    return Decimal(str(value)).quantize(exponent, rounding=ROUND_HALF_UP)


def figure_text(value: Number | None, unit: str = Unit.PERCENT) -> str:
    """The rounded number as pages write it ("87.5", "91", "+12", "1204"; no trailing zeros),
    "" for none; the template filters add the unit's words."""
    rounded = round_figure(value, unit)
    if rounded is None:
        return ""
    text = f"{rounded:+}" if unit == Unit.SCORE else f"{rounded}"
    return text.rstrip("0").rstrip(".") if "." in text else text


def share_pct(part: int, whole: int) -> Decimal | None:
    """``part`` as a percentage of ``whole``, unrounded; None when there is nothing to divide."""
    if not whole:
        return None
    return Decimal(100) * part / whole


def csv_number(value: Number | None, unit: str = Unit.PERCENT) -> str:
    """A figure in a CSV cell: rounded by the rule above, "" for no figure."""
    return figure_text(value, unit).removeprefix("+")
