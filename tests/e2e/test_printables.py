"""The printables print as they should: the monthly report is at most two A4 pages with its
charts drawn on the server (no JavaScript needed to print them)."""

from __future__ import annotations

import re

import pytest
from django.conf import settings
from playwright.sync_api import expect

from servicedesk.demo import DEMO_PASSWORD
from servicedesk.models import User
from tests.e2e.conftest import RESULTS
from tests.factories import QuestionFactory, SurveyFactory, UserFactory

PDF_PAGE = re.compile(rb"/Type\s*/Page(?!s)")


def pages(pdf: bytes) -> int:
    return len(PDF_PAGE.findall(pdf))


def test_the_monthly_report_is_a_two_page_a4_brief_with_charts(demo, page, log_in, shot):
    log_in(page, User.objects.get(username="manager"), DEMO_PASSWORD)
    page.goto("/dashboard/report/")
    shot(page, "monthly report")
    assert page.locator("svg.report-chart").count() >= 2
    assert page.get_by_role("heading", name="The month in brief").is_visible()
    page.emulate_media(media="print")
    pdf = page.pdf(format="A4", print_background=True)
    (RESULTS / "monthly-report.pdf").write_bytes(pdf)
    assert 1 <= pages(pdf) <= 2, f"the monthly report prints on {pages(pdf)} A4 pages"


@pytest.mark.parametrize("size", ["a4", "a5", "card"])
def test_each_qr_poster_prints_on_one_page_with_the_practice_name(page, log_in, shot, size):
    survey = SurveyFactory(title="Waiting room", slug="waiting-room")
    QuestionFactory(survey=survey)
    log_in(page, UserFactory(manager=True))
    page.goto(f"/feedback/surveys/{survey.pk}/poster/?size={size}")
    shot(page, f"poster {size}")
    poster = page.locator(".poster")
    expect(poster.locator(".poster-practice").first).to_have_text(settings.PRACTICE_NAME)
    expect(poster.locator("[lang=es]").first).to_be_visible()
    assert poster.locator(".poster-qr svg").count() == (2 if size == "card" else 1)
    page.emulate_media(media="print")
    pdf = page.pdf(prefer_css_page_size=True, print_background=True)
    (RESULTS / f"poster-{size}.pdf").write_bytes(pdf)
    assert pages(pdf) == 1, f"the {size} poster prints on {pages(pdf)} pages"
