"""The annual complaints return (NHS England's KO41b, for GP practices): the written complaints a
practice received in a financial year (1 April to 31 March), by subject area and by outcome.

Every count is a link to the complaints behind it (the complaints list, filtered to that subject,
outcome and year), and the counts come from one grouped query over the same rows the list
filters, so a cell and the list it opens cannot disagree. A complaint with no final response yet
is counted in its own column: the return is made while some are still open.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from urllib.parse import urlencode

from django.db.models import Count, QuerySet
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from complaints.models import Complaint
from complaints.vocabulary import Outcome, SubjectArea

NO_RESPONSE = "none"  # the list filter's value for "no final response yet"
COLUMNS = [*Outcome.choices, (NO_RESPONSE, _("No final response yet"))]


def financial_year(day: date) -> tuple[date, date]:
    """The financial year (1 April to 31 March) that ``day`` falls in."""
    first = day.year if day.month >= 4 else day.year - 1
    return date(first, 4, 1), date(first + 1, 3, 31)


@dataclass(frozen=True)
class Cell:
    count: int
    url: str
    column: str = ""  # its column's name, for a phone where the header row is hidden


@dataclass(frozen=True)
class Row:
    subject: str
    label: str
    cells: list[Cell]
    total: Cell


@dataclass(frozen=True)
class ComplaintsReturn:
    start: date
    end: date
    rows: list[Row]
    totals: list[Cell]
    total: Cell

    @property
    def columns(self) -> list[tuple[str, str]]:
        return COLUMNS

    def csv_rows(self) -> list[list[object]]:
        header = ["Subject area", *(str(label) for _value, label in COLUMNS), "Total"]
        body = [[row.label, *(cell.count for cell in row.cells), row.total.count] for row in self.rows]
        footer = ["Total", *(cell.count for cell in self.totals), self.total.count]
        return [header, *body, footer]


def _url(start: date, end: date, **filters: str) -> str:
    query = {"state": "all", "received_from": start.isoformat(), "received_to": end.isoformat(), **filters}
    return f"{reverse('complaints:complaint_list')}?{urlencode(query)}"


def complaints_return(
    *, start: date, end: date, complaints: QuerySet[Complaint] | None = None
) -> ComplaintsReturn:
    """The return for complaints received from ``start`` to ``end`` (inclusive): one query."""
    complaints = Complaint.objects.all() if complaints is None else complaints
    counted = (
        complaints.filter(received_on__range=(start, end))
        .order_by()
        .values_list("subject_area", "outcome")
        .annotate(n=Count("pk"))
    )
    counts = {(subject, outcome or NO_RESPONSE): n for subject, outcome, n in counted}
    rows = []
    for subject, label in SubjectArea.choices:
        cells = [
            Cell(
                counts.get((subject, column), 0),
                _url(start, end, subject_area=subject, outcome=column),
                str(column_label),
            )
            for column, column_label in COLUMNS
        ]
        total = Cell(sum(c.count for c in cells), _url(start, end, subject_area=subject))
        rows.append(Row(subject, str(label), cells, total))
    totals = [
        Cell(sum(row.cells[i].count for row in rows), _url(start, end, outcome=column), str(column_label))
        for i, (column, column_label) in enumerate(COLUMNS)
    ]
    return ComplaintsReturn(start, end, rows, totals, Cell(sum(t.count for t in totals), _url(start, end)))
