"""An upload is judged by its content, not its name or the browser's claim; too big or anything else
is refused with a message that says what to do."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from servicedesk.attachments import samples
from servicedesk.attachments.services import check_upload, clean_name
from tests.attachments.conftest import upload


def test_a_jpg_that_is_really_html_is_refused_whatever_its_name():
    page = b"<!doctype html><html><script>alert(1)</script></html>"
    with pytest.raises(ValidationError) as refused:
        check_upload(upload("holiday.jpg", page, "image/jpeg"))
    assert refused.value.code == "not_allowed"
    assert "not a photo" in refused.value.messages[0]


def test_svg_is_refused_even_though_it_is_an_image():
    svg = b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>'
    with pytest.raises(ValidationError):
        check_upload(upload("drawing.svg", svg, "image/svg+xml"))


def test_a_png_named_pdf_is_treated_as_a_png():
    checked = check_upload(upload("report.pdf", samples.picture(fmt="PNG"), "application/pdf"))
    assert (checked.kind, checked.content_type, checked.name) == ("image", "image/png", "report.png")


def test_a_pdf_is_recognised_by_its_magic_bytes(small_pdf):
    checked = check_upload(upload("minutes.bin", small_pdf, "application/octet-stream"))
    assert (checked.kind, checked.content_type, checked.name) == ("pdf", "application/pdf", "minutes.pdf")


def test_webp_is_accepted():
    assert check_upload(upload("p.webp", samples.picture(fmt="WEBP"))).content_type == "image/webp"


def test_a_file_over_the_limit_is_refused_with_the_limit_in_the_message(settings):
    settings.ATTACHMENT_MAX_BYTES = 1024 * 1024
    big = samples.picture(size=(2000, 2000), fmt="PNG") + b"\0" * (1024 * 1024)
    with pytest.raises(ValidationError) as refused:
        check_upload(upload("big.png", big))
    assert refused.value.code == "too_large"
    assert "at most 1 MB" in refused.value.messages[0]


def test_an_empty_file_is_refused():
    with pytest.raises(ValidationError) as refused:
        check_upload(upload("empty.jpg", b""))
    assert refused.value.code == "empty"


def test_the_file_name_loses_its_path_and_odd_characters():
    assert clean_name("../../etc/pass wd\x00<script>.jpg", "jpg") == "pass wd_script.jpg"
    assert clean_name(r"C:\Users\me\IMG_0001.HEIC", "jpg") == "IMG_0001.jpg"
    assert clean_name("", "pdf") == "attachment.pdf"
