"""CSV export of a survey's responses, safe to open in a spreadsheet."""

from __future__ import annotations

import csv
from collections.abc import Iterable, Iterator

from feedback.models import Answer, Question, Response
from servicedesk.spreadsheet import spreadsheet_safe


class _Echo:
    def write(self, value: str) -> str:
        return value


def header(questions: list[Question]) -> list[str]:
    return [
        "response",
        "submitted_at",
        "survey",
        "channel",
        "language",
        "location",
        "touchpoint",
        "sentiment",
        "negative",
        "negative_reasons",
        "themes",
        *[f"Q{n}. {q.text}" + (" (archived)" if q.is_archived else "") for n, q in enumerate(questions, 1)],
    ]


def row(response: Response, questions: list[Question]) -> list[object]:
    by_question: dict[int, Answer] = {a.question_id: a for a in response.answers.all()}
    cells: list[object] = [
        response.pk,
        # A staff pulse answer's time of day could point to whoever was on shift: the date only.
        response.submitted_at.date().isoformat()
        if response.channel == Response.Channel.STAFF
        else response.submitted_at.isoformat(timespec="seconds"),
        response.survey.title,
        response.channel,
        response.language,
        response.location.name if response.location else "",
        response.touchpoint.name if response.touchpoint else "",
        "" if response.sentiment is None else response.sentiment,
        "yes" if response.is_negative else "no",
        " ".join(response.negative_reasons),
        "; ".join(t.name for t in response.themes.all()),
    ]
    for q in questions:
        answer = by_question.get(q.pk)
        if answer is None:
            cells.append("")
            continue
        answer.question = q  # no query per cell
        value = answer.value if q.kind in (Question.Kind.NPS, Question.Kind.RATING) else answer.display()
        cells.append(value)
    return cells


def rows(responses: Iterable[Response], questions: list[Question]) -> Iterator[str]:
    """CSV lines, streamed: the export of 100,000 responses never sits in memory at once."""
    writer = csv.writer(_Echo())
    yield "\ufeff"  # a byte-order mark so Excel reads UTF-8 (accents, Spanish comments) correctly
    yield writer.writerow([spreadsheet_safe(cell) for cell in header(questions)])
    for response in responses:
        yield writer.writerow([spreadsheet_safe(cell) for cell in row(response, questions)])
