"""The patient sees the limit of their name and phone before typing, and longer text is refused."""

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
