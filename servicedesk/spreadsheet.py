"""Cells for CSV exports that are safe to open in a spreadsheet."""

from __future__ import annotations

import csv
from collections.abc import Iterable, Iterator

from django.http import HttpResponse, StreamingHttpResponse

# A cell starting with one of these is run as a formula by Excel, LibreOffice and Google Sheets
# (tab and carriage return too: some spreadsheets strip them and then see the next character).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def spreadsheet_safe(value: object) -> object:
    """Neutralise text a spreadsheet would run as a formula by putting an apostrophe in front.

    Only text is touched: numbers we write ourselves (a sentiment of -0.6) stay numbers.
    """
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


class _Echo:
    """A file-like object whose write returns the line: csv.writer then yields lines one by one."""

    def write(self, value: str) -> str:
        return value


def csv_lines(rows: Iterable[Iterable[object]]) -> Iterator[str]:
    """Every CSV the project writes goes through here: a byte-order mark so spreadsheets read UTF-8
    (accents, Spanish comments), then each row with every cell neutralised, streamed (an export of
    100,000 responses never sits in memory at once)."""
    writer = csv.writer(_Echo())
    yield "\ufeff"
    for row in rows:
        yield writer.writerow([spreadsheet_safe(cell) for cell in row])


def csv_response(
    rows: Iterable[Iterable[object]], filename: str, *, stream: bool = True
) -> HttpResponse | StreamingHttpResponse:
    """A CSV download of ``rows`` (see ``csv_lines``) named ``filename``; ``stream=False`` for a
    small one (a page of figures) written at once."""
    content_type = "text/csv; charset=utf-8"
    response: HttpResponse | StreamingHttpResponse
    if stream:
        response = StreamingHttpResponse(csv_lines(rows), content_type=content_type)
    else:
        response = HttpResponse("".join(csv_lines(rows)), content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response
