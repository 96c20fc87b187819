"""A manager gives the practice its logo and accent colour; patients see them on their pages, in
invitation emails, and on the posters and report that are printed. A colour too light to read is
refused with a shade that would pass; a file that is not a picture is refused; the logo we keep
has no metadata."""

from __future__ import annotations

import io
import re

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from PIL import Image

from servicedesk import identity
from servicedesk.models import PracticeIdentity
from servicedesk.security.models import AuditEvent
from tests.factories import QuestionFactory, SurveyFactory

pytestmark = pytest.mark.django_db

URL = "/practice/identity/"


def picture(fmt: str = "PNG", size: tuple[int, int] = (1200, 300), *, exif: bool = False, mode: str = "RGB"):
    image = Image.new(mode, size, "#2a7f62" if mode == "RGB" else 1)
    out = io.BytesIO()
    extra = {}
    if exif:
        data = Image.Exif()
        data[0x010F] = "PhoneMaker"  # Make
        data[0x8825] = {2: (51.0, 30.0, 0.0)}  # GPSInfo: a latitude
        extra["exif"] = data.tobytes()
    image.save(out, format=fmt, **extra)
    return SimpleUploadedFile(f"logo.{fmt.lower()}", out.getvalue(), content_type=f"image/{fmt.lower()}")


def post(client, **data):
    return client.post(URL, {"accent": identity.STANDARD_ACCENT, **data})


# --- Colour -------------------------------------------------------------------------------------------


def test_contrast_is_the_wcag_ratio():
    assert identity.contrast("#ffffff", "#000000") == pytest.approx(21)
    assert identity.contrast("#777777", "#ffffff") == pytest.approx(4.48, abs=0.01)
    assert identity.weakest_contrast(identity.STANDARD_ACCENT) >= identity.MIN_CONTRAST


@pytest.mark.parametrize("light", ["#ffcc00", "#7fb3ff", "#e6e6e6", "#0d6efd"])
def test_a_light_colour_gets_the_nearest_darker_shade_that_passes(light):
    shade = identity.legible_shade(light)
    assert identity.weakest_contrast(shade) >= identity.MIN_CONTRAST
    assert identity.luminance(shade) < identity.luminance(light)
    assert identity.weakest_contrast(light) < identity.MIN_CONTRAST
    with pytest.raises(ValidationError, match="nearest darker shade"):
        identity.check_accent(light)
    assert identity.check_accent(shade.upper()) == shade


def test_a_manager_picks_a_colour_and_patient_pages_wear_it(manager_client, manager, client):
    response = post(manager_client, accent="#6A1B9A")
    assert response.status_code == 302
    assert PracticeIdentity.objects.get().accent == "#6a1b9a"
    event = AuditEvent.objects.get(action="changed", target_type="servicedesk.practiceidentity")
    assert event.data == {"accent colour": ["standard", "#6a1b9a"]}

    survey = SurveyFactory(slug="kiosk", is_anonymous=False)
    QuestionFactory(survey=survey)
    page = client.get("/k/kiosk/").content.decode()
    sheet = re.search(r'href="(/practice/theme/\w+\.css)"', page).group(1)
    assert '<body class="practice-themed">' in page
    css = client.get(sheet)
    assert css["Content-Type"].startswith("text/css")
    assert ".practice-themed .patient-header { background: #6a1b9a; }" in css.content.decode()
    assert "immutable" in css["Cache-Control"]
    assert "immutable" not in client.get("/practice/theme/old.css")["Cache-Control"]


def test_a_colour_too_light_to_read_is_refused_with_a_shade_that_passes(manager_client):
    response = post(manager_client, accent="#ffcc00")
    assert response.status_code == 400
    page = response.content.decode()
    assert "#ffcc00 is too light to read" in page
    assert "1.4:1, and 4.5:1 is needed" in page
    suggestion = identity.legible_shade("#ffcc00")
    assert f"{suggestion} is the nearest darker shade that passes" in page
    assert 'aria-invalid="true"' in page
    assert not PracticeIdentity.objects.exists()
    assert post(manager_client, accent=suggestion).status_code == 302


def test_a_colour_that_is_not_a_colour_is_refused(manager_client):
    response = post(manager_client, accent="red; background: url(x)")
    assert response.status_code == 400
    assert "Give the colour as # and six hexadecimal digits" in response.content.decode()


def test_the_standard_blue_comes_back_when_asked(manager_client):
    post(manager_client, accent="#6a1b9a")
    assert post(manager_client, accent="#ffcc00", standard_accent="on").status_code == 302
    assert PracticeIdentity.objects.get().accent == ""
    assert identity.current().colour == identity.STANDARD_ACCENT
    assert "Use the standard blue" not in manager_client.get(URL).content.decode()
    post(manager_client, accent="#6a1b9a")
    assert post(manager_client, accent=identity.STANDARD_ACCENT.upper()).status_code == 302
    assert PracticeIdentity.objects.get().accent == ""  # picking the standard blue is the standard


# --- Logo ---------------------------------------------------------------------------------------------


def test_an_uploaded_logo_is_kept_small_without_its_metadata_and_shown_to_patients(manager_client, client):
    assert post(manager_client, logo=picture("JPEG", (3000, 1000), exif=True)).status_code == 302
    row = PracticeIdentity.objects.get()
    kept = Image.open(io.BytesIO(bytes(row.logo)))
    assert kept.format == "PNG"
    assert kept.size == (600, 200) == (row.logo_width, row.logo_height)
    assert not kept.getexif()
    assert b"PhoneMaker" not in bytes(row.logo)

    survey = SurveyFactory(slug="kiosk", is_anonymous=False)
    QuestionFactory(survey=survey)
    page = client.get("/k/kiosk/").content.decode()
    src = re.search(r'<img class="practice-logo" src="([^"]+)" alt="" width="600" height="200">', page).group(
        1
    )
    logo = client.get(src)
    assert logo.status_code == 200
    assert logo["Content-Type"] == "image/png"
    assert "immutable" in logo["Cache-Control"]
    assert logo.content == bytes(row.logo)
    assert client.get(reverse("practice_logo", args=["0000000000000000"])).status_code == 404


@pytest.mark.parametrize(
    ("upload", "message"),
    [
        (SimpleUploadedFile("logo.png", b"<svg onload=alert(1)>", "image/png"), "not a picture we can read"),
        (SimpleUploadedFile("logo.png", b"%PDF-1.4 not an image", "image/png"), "not a picture we can read"),
        (
            SimpleUploadedFile("logo.png", b"\x89PNG\r\n\x1a\n truncated", "image/png"),
            "not a picture we can read",
        ),
    ],
)
def test_a_file_that_is_not_a_picture_is_refused_by_its_content_not_its_name(manager_client, upload, message):
    response = post(manager_client, logo=upload)
    assert response.status_code == 400
    assert message in response.content.decode()
    assert not PracticeIdentity.objects.exists()


def test_a_picture_with_too_many_pixels_is_refused_before_it_is_decoded(manager_client):
    response = post(manager_client, logo=picture("PNG", (7000, 7000), mode="1"))
    assert response.status_code == 400
    assert "7000 by 7000 pixels" in response.content.decode()


def test_a_file_over_two_megabytes_is_refused(manager_client):
    big = SimpleUploadedFile("logo.png", b"\0" * (2 * 1024 * 1024 + 1), "image/png")
    response = post(manager_client, logo=big)
    assert response.status_code == 400
    assert "it can be at most 2 MB" in response.content.decode()


def test_removing_the_logo_leaves_the_name_alone(manager_client, client):
    post(manager_client, logo=picture())
    digest = PracticeIdentity.objects.get().logo_digest
    assert post(manager_client, remove_logo="on").status_code == 302
    assert PracticeIdentity.objects.get().logo_digest == ""
    assert client.get(reverse("practice_logo", args=[digest])).status_code == 404
    changes = [event.data for event in AuditEvent.objects.filter(target_type="servicedesk.practiceidentity")]
    assert {"logo": ["set", "none"]} in changes


# --- Where it shows -----------------------------------------------------------------------------------


def test_the_poster_and_the_report_carry_the_logo_and_colour(manager_client):
    post(manager_client, accent="#6a1b9a", logo=picture())
    survey = SurveyFactory()
    QuestionFactory(survey=survey)
    look = identity.current()
    poster = manager_client.get(reverse("feedback:survey_poster", args=[survey.pk])).content.decode()
    assert f'<img class="poster-logo" src="{look.logo_url}"' in poster
    assert look.stylesheet_url in poster
    report = manager_client.get(reverse("dashboard_report")).content.decode()
    assert f'<img class="report-logo" src="{look.logo_url}"' in report
    assert look.stylesheet_url in report


def test_staff_pages_keep_the_standard_look(manager_client):
    post(manager_client, accent="#6a1b9a")
    page = manager_client.get(reverse("team_list")).content.decode()
    assert "/practice/theme/" not in page
    assert "practice-themed" not in page


def test_only_managers_change_it(staff_client):
    assert staff_client.get(URL).status_code == 403
    assert post(staff_client, accent="#6a1b9a").status_code == 403
    assert not PracticeIdentity.objects.exists()


def test_the_page_shows_what_patients_see_now(manager_client):
    page = manager_client.get(URL).content.decode()
    assert "No logo yet" in page
    assert "The standard blue." in page
    post(manager_client, accent="#6a1b9a", logo=picture())
    page = manager_client.get(URL).content.decode()
    assert "Accent colour #6a1b9a." in page
    assert "Logo 600 by 150 pixels." in page
    assert "Remove the logo" in page
