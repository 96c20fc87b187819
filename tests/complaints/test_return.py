"""The annual complaints return (KO41b): complaints received in a financial year by subject area
and outcome; every count equals the complaints list behind it; a CSV and a printout; managers only."""

from __future__ import annotations

import csv
import io
import re
from datetime import date, timedelta
from html import unescape

import pytest
from django.urls import reverse
from django.utils import timezone

from complaints import services
from complaints.returns import complaints_return, financial_year
from tests.complaints.conftest import record

pytestmark = pytest.mark.django_db
RETURN = reverse("complaints:complaints_return")


def this_year() -> int:
    return financial_year(timezone.localdate())[0].year


def answered(complaint, outcome: str, by) -> None:
    summary = "" if outcome == "withdrawn" else "We explained what happened."
    services.complaint_respond(
        complaint=complaint, outcome=outcome, summary=summary, by=by, now=timezone.now()
    )


@pytest.fixture
def year_of_complaints(staff):
    """Complaints across the financial year's edges: counted ones, and one each side just outside."""
    start, end = financial_year(timezone.localdate())
    today = timezone.localdate()
    inside = [start, start + timedelta(days=40), min(today, end)]
    answered(record(by=staff, received_on=inside[0], subject_area="appointments"), "upheld", staff)
    answered(record(by=staff, received_on=inside[1], subject_area="appointments"), "not_upheld", staff)
    answered(record(by=staff, received_on=inside[1], subject_area="clinical"), "partly_upheld", staff)
    answered(record(by=staff, received_on=inside[2], subject_area="clinical"), "withdrawn", staff)
    record(by=staff, received_on=inside[2], subject_area="attitude")  # no final response yet
    record(by=staff, received_on=start - timedelta(days=1), subject_area="attitude")  # 31 March: last year
    return start, end


def test_financial_years_run_from_1_april_to_31_march():
    assert financial_year(date(2027, 3, 31)) == (date(2026, 4, 1), date(2027, 3, 31))
    assert financial_year(date(2027, 4, 1)) == (date(2027, 4, 1), date(2028, 3, 31))


def test_the_return_counts_each_subject_by_outcome_within_the_year_in_one_query(
    year_of_complaints, django_assert_num_queries
):
    start, end = year_of_complaints
    with django_assert_num_queries(1):
        report = complaints_return(start=start, end=end)
    by_subject = {row.subject: [cell.count for cell in row.cells] for row in report.rows}
    # columns: upheld, partly upheld, not upheld, withdrawn, no final response yet
    assert by_subject["appointments"] == [1, 0, 1, 0, 0]
    assert by_subject["clinical"] == [0, 1, 0, 1, 0]
    assert by_subject["attitude"] == [0, 0, 0, 0, 1]  # the one from 31 March is last year's
    assert [cell.count for cell in report.totals] == [1, 1, 1, 1, 1]
    assert report.total.count == 5


def _count_in_list(client, url: str) -> int:
    page = client.get(url).content.decode()
    found = re.search(r"(\d+) complaints?\b", page)
    return int(found[1]) if found else 0


def test_every_count_equals_the_complaints_list_behind_it(manager_client, year_of_complaints):
    page = manager_client.get(RETURN).content.decode()
    report = complaints_return(start=year_of_complaints[0], end=year_of_complaints[1])
    cells = [cell for row in report.rows for cell in (*row.cells, row.total)] + [*report.totals, report.total]
    for cell in cells:
        assert _count_in_list(manager_client, cell.url) == cell.count, cell.url
        if cell.count:
            assert f'href="{cell.url}"'.replace("&", "&amp;") in page


def test_the_csv_holds_the_same_table(manager_client, year_of_complaints):
    response = manager_client.get(RETURN, {"year": this_year(), "format": "csv"})
    assert response.status_code == 200
    assert response["Content-Disposition"].startswith('attachment; filename="complaints-return-')
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))  # a BOM, for Excel
    assert rows[0] == ["Subject area", "Upheld", "Partly upheld", "Not upheld", "Withdrawn",
                       "No final response yet", "Total"]  # fmt: skip
    assert ["Appointments", "1", "0", "1", "0", "0", "2"] in rows
    assert rows[-1] == ["Total", "1", "1", "1", "1", "1", "5"]


def test_last_years_return_is_one_choice_away(manager_client, year_of_complaints):
    last = this_year() - 1
    response = manager_client.get(RETURN, {"year": last})
    assert response.status_code == 200
    page = unescape(response.content.decode())
    assert f"Received 1 April {last} to 31 March {last + 1}" in page


@pytest.mark.parametrize("year", ["1999", "²", "next", ""])
def test_a_year_not_offered_is_refused_with_a_message(manager_client, year_of_complaints, year):
    response = manager_client.get(RETURN, {"year": year})
    assert response.status_code == 400
    assert (
        "Choose one of the years shown." in response.content.decode()
        or "required" in response.content.decode()
    )


def test_an_empty_year_says_so_and_the_page_prints(manager_client):
    page = manager_client.get(RETURN).content.decode()
    assert "No complaints were received in this financial year." in page
    assert "data-print" in page  # printed as it is, the empty year included


def test_managers_only(client, staff, year_of_complaints):
    assert client.get(RETURN).status_code == 302  # to the login page
    client.force_login(staff)
    assert client.get(RETURN).status_code == 403
    assert "Annual return" not in client.get(reverse("complaints:complaint_list")).content.decode()


def test_the_list_links_to_the_return_for_managers(manager_client):
    assert RETURN in manager_client.get(reverse("complaints:complaint_list")).content.decode()


def test_the_list_refuses_a_backwards_date_range_and_still_filters_the_rest(
    manager_client, year_of_complaints
):
    start, _end = year_of_complaints
    page = manager_client.get(
        reverse("complaints:complaint_list"),
        {
            "state": "all",
            "received_from": start.isoformat(),
            "received_to": (start - timedelta(days=9)).isoformat(),
        },
    ).content.decode()
    assert "The end date is before the start date." in page
    assert "5 complaints" in page  # from the year's first day on; the backwards end is ignored
