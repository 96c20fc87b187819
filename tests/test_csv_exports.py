"""Every CSV answer the project gives, found by requesting every URL (not by reading the source):
with formula-like names planted in the text fields, no cell a spreadsheet would run comes back."""

import csv
import io

import pytest
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.urls.exceptions import NoReverseMatch

from servicedesk.spreadsheet import FORMULA_STARTS
from tests.factories import (
    AnswerFactory,
    LocationFactory,
    QuestionFactory,
    ResponseFactory,
    SurveyFactory,
    ThemeFactory,
    TouchpointFactory,
)

pytestmark = pytest.mark.django_db

HOSTILE = "=cmd|' /C calc'!A0"


def _names(resolver: URLResolver, prefix: str = "") -> list[str]:
    names = []
    for pattern in resolver.url_patterns:
        if isinstance(pattern, URLResolver):
            names += _names(pattern, f"{prefix}{pattern.namespace}:" if pattern.namespace else prefix)
        elif isinstance(pattern, URLPattern) and pattern.name:
            names.append(prefix + pattern.name)
    return names


def _url(name: str, pk: int) -> str | None:
    for args in ([], [pk]):
        try:
            return reverse(name, args=args)
        except NoReverseMatch:
            continue
    return None


def test_every_csv_response_has_no_cell_a_spreadsheet_would_run(client, manager):
    where = LocationFactory(name=HOSTILE)
    survey = SurveyFactory(title=HOSTILE)
    question = QuestionFactory(survey=survey, kind="text", text=HOSTILE)
    response = ResponseFactory(survey=survey, location=where, touchpoint=TouchpointFactory(name=HOSTILE))
    response.themes.add(ThemeFactory(name=HOSTILE))
    AnswerFactory(response=response, question=question, text=HOSTILE)
    client.raise_request_exception = False
    exported = {}
    for name in _names(get_resolver()):
        url = _url(name, survey.pk)
        if url is None:
            continue
        client.force_login(manager)  # a page that logs out must not hide the ones after it
        page = client.get(url)
        if page.get("Content-Type", "").startswith("text/csv"):
            exported[name] = list(csv.reader(io.StringIO(b"".join(page).decode("utf-8-sig"))))
    assert {"feedback:survey_export", "dashboard_export"} <= set(exported)
    for name, rows in exported.items():
        for row in rows:
            for cell in row:
                assert not cell.startswith(FORMULA_STARTS), (name, cell)
    assert any(cell == "'" + HOSTILE for row in exported["feedback:survey_export"] for cell in row)
