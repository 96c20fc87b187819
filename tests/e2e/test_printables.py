"""The printables print as they should: the monthly report is at most two A4 pages with its
charts drawn on the server (no JavaScript needed to print them)."""

from __future__ import annotations

import re

from servicedesk.demo import DEMO_PASSWORD
from servicedesk.models import User
from tests.e2e.conftest import RESULTS

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
