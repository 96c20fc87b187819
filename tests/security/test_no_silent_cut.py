"""No text is cut short without a word: no page lets the browser truncate a field at maxlength;
the server checks the length and says the limit, and patients see the limit before they type."""

from __future__ import annotations

import pytest
from django.urls import reverse

from tests.factories import QuestionFactory, SurveyFactory

pytestmark = pytest.mark.django_db


def test_no_manager_form_renders_a_maxlength(manager_client):
    for name in ("staff_member_create", "location_create", "touchpoint_create", "design:goal_create"):
        page = manager_client.get(reverse(name)).content.decode()
        assert "maxlength" not in page, name


def test_an_over_long_name_is_refused_with_the_limit_not_cut(manager_client):
    response = manager_client.post(
        reverse("location_create"), {"name": "R" * 130, "address": "", "phone": ""}
    )
    assert response.status_code == 400
    assert "at most 120 characters (it has 130)" in response.content.decode()


def test_a_patient_sees_the_limit_of_a_comment_and_the_browser_does_not_cut_it(client):
    survey = SurveyFactory(slug="kiosk")
    QuestionFactory(survey=survey, kind="text", text="Anything else?")
    page = client.get(reverse("patient:kiosk", args=["kiosk"])).content.decode()
    assert "maxlength" not in page
    assert "Up to " in page
    assert "characters." in page


def test_every_csv_the_project_writes_goes_through_the_one_safe_writer():
    """servicedesk.spreadsheet.csv_lines neutralises every cell; a csv.writer anywhere else could
    write a patient's '=cmd|…' as a formula."""
    from pathlib import Path

    from django.conf import settings

    root = Path(settings.BASE_DIR)
    writers = {
        str(path.relative_to(root))
        for app in ("servicedesk", "feedback", "recovery", "delivery", "design", "dashboard")
        for path in (root / app).rglob("*.py")
        if "csv.writer(" in path.read_text(encoding="utf-8")
    }
    # The demo visit list is made up names for trying the import, printed to a terminal.
    assert writers == {"servicedesk/spreadsheet.py", "feedback/management/commands/demo_visit_list.py"}


def test_a_hostile_name_is_shown_as_text_and_written_to_a_csv_as_text(manager_client):
    from tests.factories import TouchpointFactory

    hostile = '=HYPERLINK("http://evil.example","<b>click</b>")'
    TouchpointFactory(name=hostile)
    response = manager_client.get(reverse("touchpoint_list"))
    page = response.content.decode()
    assert "&lt;b&gt;click&lt;/b&gt;" in page  # shown as text, never as markup
    assert "<b>click</b>" not in page
    import csv
    import io

    from servicedesk.spreadsheet import csv_lines

    written = "".join(csv_lines([["touchpoint", hostile, 3, -0.5]])).lstrip("\ufeff")
    assert next(csv.reader(io.StringIO(written))) == ["touchpoint", "'" + hostile, "3", "-0.5"]
