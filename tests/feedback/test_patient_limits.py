"""The patient sees the limit of their name and phone before typing, and longer text is refused."""

import re

import pytest

from feedback.models import Response
from tests.feedback.conftest import fields_for

pytestmark = pytest.mark.django_db


def test_the_contact_boxes_say_their_limit_tied_to_the_box_in_both_languages(client, kiosk_survey):
    page = client.get("/k/kiosk/").content.decode()
    assert '<p class="form-text" id="id_contact_name-limit">Up to 120 characters.</p>' in page
    assert 'aria-describedby="id_contact_name-limit"' in page
    assert 'id="id_contact_phone-limit">Up to 32 characters.' in page
    assert "Hasta 120 caracteres." in client.get("/k/kiosk/?lang=es").content.decode()


def test_a_name_over_the_limit_is_refused_with_its_length_not_cut(client, kiosk_survey):
    fields = fields_for(kiosk_survey)
    data = {fields["Overall?"]: "poor", "consent_to_contact": "on", "contact_name": "A" * 134, "lang": "en"}
    response = client.post("/k/kiosk/", data)
    assert response.status_code == 400
    page = response.content.decode()
    assert "120 characters (it has 134)" in page
    assert 'aria-describedby="id_contact_name-limit id_contact_name-error"' in page
    assert not Response.objects.exists()


def test_the_consent_box_is_described_by_the_hint_that_says_what_ticking_it_means(client, kiosk_survey):
    page = client.get("/k/kiosk/").content.decode()
    box = re.search(r'<input type="checkbox" name="consent_to_contact"[^>]*>', page).group(0)
    assert 'aria-describedby="id_consent_to_contact-hint"' in box
    assert '<p class="form-text" id="id_consent_to_contact-hint">We only keep your name' in page


def test_every_option_of_an_unanswered_required_question_is_marked_invalid_and_no_other(client, kiosk_survey):
    fields = fields_for(kiosk_survey)
    response = client.post("/k/kiosk/", {fields["Why?"]: "Kind staff", "lang": "en"})
    assert response.status_code == 400
    page = response.content.decode()
    fft_options = re.findall(rf'<input type="radio" name="{fields["Overall?"]}"[^>]*>', page)
    assert len(fft_options) == 6
    assert all('aria-invalid="true"' in option for option in fft_options)
    assert not re.search(r"<textarea[^>]*aria-invalid", page)  # the answered question is not marked
    assert "aria-invalid" not in client.get("/k/kiosk/").content.decode()
