"""CSV export of a survey's responses, safe to open in a spreadsheet."""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from feedback.models import Answer, Question, Response


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


def rows(responses: Iterable[Response], questions: list[Question]) -> Iterator[list[object]]:
    """The header, then one row per response, lazily (``spreadsheet.csv_response`` writes them)."""
    yield header(questions)
    for response in responses:
        yield row(response, questions)
