"""The practice's own look in a real browser: a manager uploads the logo and picks a colour; the
patient's phone shows them legibly (no sideways scroll, no serious axe finding), and the posters
and the report still print on their pages with the logo on them."""

from __future__ import annotations

import pytest
from PIL import Image, ImageDraw
from playwright.sync_api import expect

from feedback import services
from servicedesk.models import PracticeIdentity
from tests.e2e.conftest import RESULTS
from tests.e2e.test_every_page_fits import OVERFLOW
from tests.e2e.test_printables import pages
from tests.factories import UserFactory

ACCENT = "#6a1b9a"


def _logo_file(tmp_path) -> str:
    image = Image.new("RGB", (1500, 500), "#ffffff")
    ImageDraw.Draw(image).rectangle((100, 100, 1400, 400), fill="#2a7f62")
    path = tmp_path / "riverside-logo.jpg"
    image.save(path, format="JPEG")
    return str(path)


def _brand(page, log_in, tmp_path) -> None:
    log_in(page, UserFactory(manager=True))
    page.goto("/")
    page.get_by_role("button", name="Practice").click()
    page.get_by_role("link", name="Logo and colour").click()
    page.get_by_label("Logo").set_input_files(_logo_file(tmp_path))
    page.get_by_label("Accent colour").fill("#fff3b0")  # too light: refused with a shade that passes
    page.get_by_role("button", name="Save").click()
    expect(page.locator("#error-summary")).to_contain_text("too light to read")
    page.get_by_label("Logo").set_input_files(_logo_file(tmp_path))
    page.get_by_label("Accent colour").fill(ACCENT)
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_text("Saved the practice's logo and colour.")).to_be_visible()
    assert PracticeIdentity.objects.get().accent == ACCENT


def test_patients_see_the_logo_and_colour_on_a_phone_legibly(page, phone_page, log_in, shot, axe, tmp_path):
    _brand(page, log_in, tmp_path)
    shot(page, "identity page")
    survey = services.survey_create_from_template(key="waiting-room-kiosk", active=True)
    phone_page.goto(f"/k/{survey.slug}/")
    logo = phone_page.locator(".patient-header img.practice-logo")
    expect(logo).to_be_visible()
    assert phone_page.evaluate("() => document.querySelector('.practice-logo').naturalWidth") == 600
    header = phone_page.evaluate(
        "() => getComputedStyle(document.querySelector('.patient-header')).backgroundColor"
    )
    assert header == "rgb(106, 27, 154)"
    shot(phone_page, "kiosk with logo")
    assert phone_page.evaluate(OVERFLOW, 390) <= 0
    serious = [
        v["id"] for v in axe.run(phone_page).response["violations"] if v["impact"] in {"serious", "critical"}
    ]
    assert serious == []


@pytest.mark.parametrize("size", ["a4", "a5", "card"])
def test_a_poster_with_the_logo_still_prints_on_one_page(page, log_in, shot, tmp_path, size):
    _brand(page, log_in, tmp_path)
    survey = services.survey_create_from_template(key="waiting-room-kiosk", active=True)
    page.goto(f"/feedback/surveys/{survey.pk}/poster/?size={size}")
    expect(page.locator(".poster-logo").first).to_be_visible()
    shot(page, f"poster {size} with logo")
    page.emulate_media(media="print")
    pdf = page.pdf(prefer_css_page_size=True, print_background=True)
    (RESULTS / f"poster-{size}-with-logo.pdf").write_bytes(pdf)
    assert pages(pdf) == 1, f"the {size} poster with a logo prints on {pages(pdf)} pages"


def test_the_report_with_the_logo_prints_on_two_pages_at_most(page, log_in, tmp_path):
    _brand(page, log_in, tmp_path)
    page.goto("/dashboard/report/")
    expect(page.locator(".report-logo")).to_be_visible()
    expect(page.locator(".report-title")).to_have_css("color", "rgb(106, 27, 154)")
    page.emulate_media(media="print")
    pdf = page.pdf(format="A4", print_background=True)
    assert 1 <= pages(pdf) <= 2
