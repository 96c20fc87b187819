"""The public "Tell us / make a complaint" page: no login, both languages, validation in the
patient's words, bots turned away (honeypot, timing, replay), rate-limited, and a thank-you page
whose address holds only an opaque token."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from django.core.cache import cache
from django.test import Client, override_settings
from django.utils import timezone

from complaints.models import Complaint
from recovery.models import FollowUp, Incident

URL = "/complaints/tell-us/"
pytestmark = pytest.mark.django_db


def fill(form, **overrides) -> dict[str, str]:
    data = {
        "started": form["started"].initial,
        "lang": "en",
        "subject_area": "communications",
        "description": "I was promised a call back about my results and nobody rang.",
        "patient_consented": "on",
        "patient_name": "Grace Hopper",
        "contact_preference": "email",
        "patient_email": "grace@example.org",
        "patient_phone": "",
        "patient_address": "",
        "website": "",
    }
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


def _shown(client: Client, *, lang: str = ""):
    with time_machine.travel(timezone.now() - timedelta(seconds=60), tick=False):
        return client.get(URL + (f"?lang={lang}" if lang else "")).context["form"]


def test_a_patient_makes_a_complaint_and_sees_its_reference_not_in_the_address(client):
    response = client.post(URL, fill(_shown(client)))
    assert response.status_code == 302
    complaint = Complaint.objects.select_related("incident").get()
    assert complaint.received_by == "online"
    assert complaint.incident.patient_email == "grace@example.org"
    assert complaint.incident.reporter is None
    assert complaint.reference not in response["Location"]
    thanks = client.get(response["Location"])
    assert complaint.reference in thanks.content.decode()
    assert thanks["Cache-Control"] == "no-store"
    assert complaint.incident.timeline.filter(
        kind=FollowUp.Kind.NOTE, body__contains="Formal complaint"
    ).exists()


def test_the_thank_you_page_with_an_unknown_token_shows_no_reference(client):
    response = client.get("/complaints/tell-us/thanks/?t=forged")
    assert response.status_code == 200
    assert "Your reference" not in response.content.decode()


def test_the_page_is_in_spanish_when_asked(client):
    response = client.get(URL + "?lang=es")
    assert response.status_code == 200
    page = response.content.decode()
    for spanish in ("Cuéntenos / presente una queja", "Enviar mi queja", "Tratamiento clínico", "Carta"):
        assert spanish in page
    complaint_response = client.post(URL, fill(_shown(client, lang="es"), lang="es"))
    assert complaint_response.status_code == 302
    assert Complaint.objects.get().language == "es"


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"description": ""}, "Please tell us what happened."),
        ({"subject_area": "nonsense"}, "Please choose one of the answers shown."),
        ({"patient_consented": None}, "We need to be able to reply to your complaint."),
        ({"patient_name": ""}, "Please give your name."),
        ({"patient_email": "not-an-address"}, "Enter an email address like name@example.com."),
        ({"patient_email": "", "contact_preference": "email"}, "Give an email address to reply by email."),
        ({"contact_preference": "letter"}, "Give a postal address to reply by letter."),
        ({"contact_preference": "pigeon"}, "Select a valid choice"),
    ],
)
def test_bad_input_comes_back_with_a_clear_message_and_nothing_saved(client, overrides, message):
    response = client.post(URL, fill(_shown(client), **overrides))
    assert response.status_code == 400
    assert message in response.content.decode()
    assert not Complaint.objects.exists()
    assert not Incident.objects.exists()


def test_a_form_sent_too_quickly_is_refused_and_a_replayed_one_too(client):
    quick = client.get(URL).context["form"]
    response = client.post(URL, fill(quick))
    assert response.status_code == 400
    assert "quicker than we expected" in response.content.decode()
    form = _shown(client)
    assert client.post(URL, fill(form)).status_code == 302
    again = client.post(URL, fill(form))
    assert again.status_code == 400
    assert "already sent" in again.content.decode()
    assert Complaint.objects.count() == 1


def test_a_forged_stamp_is_refused(client):
    response = client.post(URL, fill(_shown(client), started="forged"))
    assert response.status_code == 400
    assert not Complaint.objects.exists()


def test_a_filled_honeypot_is_thanked_and_discarded(client):
    response = client.post(URL, fill(_shown(client), website="http://spam.example"))
    assert response.status_code == 302
    assert not Complaint.objects.exists()


def test_a_post_without_the_csrf_token_is_refused():
    client = Client(enforce_csrf_checks=True)
    response = client.post(URL, {"description": "x"})
    assert response.status_code == 403
    assert not Complaint.objects.exists()


@override_settings(RATE_LIMIT_ENABLED=True)
def test_many_complaints_from_one_address_are_rate_limited(client):
    cache.clear()
    statuses = [client.post(URL, {"description": ""}).status_code for _ in range(7)]
    assert statuses[:5] == [400] * 5
    assert statuses[5] == 429
    assert not Complaint.objects.exists()


def test_the_patient_pages_link_to_the_complaint_page_but_not_to_itself(client):
    assert URL in client.get("/f/thanks/").content.decode()
    assert "make a complaint</a>" not in client.get(URL).content.decode()  # the footer's link


def test_every_string_on_the_public_complaint_pages_has_spanish():
    import re
    from pathlib import Path

    from django.conf import settings

    from tests.feedback.test_i18n import CATALOGUE, _po_entries

    po = _po_entries(CATALOGUE / "django.po")
    pages = (Path(settings.BASE_DIR) / "templates" / "complaints").glob("tell_us*.html")
    used = {
        t
        for page in pages
        for t in re.findall(r'{% translate "([^"]+)" %}', page.read_text(encoding="utf-8"))
    }
    assert sorted(t for t in used if t not in po) == []


def test_bad_input_in_spanish_is_explained_in_spanish(client):
    response = client.post(URL, fill(_shown(client, lang="es"), lang="es", description=""))
    assert response.status_code == 400
    assert "Por favor, cuéntenos qué pasó." in response.content.decode()
