"""Letters to a complainant: in their language, from the words managers keep, emailed once through
the outbox or printed and recorded as posted, each on the timeline; the words cannot run code."""

from __future__ import annotations

import pytest
from django.urls import reverse
from django.utils import timezone

from complaints import services
from complaints.letters import letter_render
from complaints.models import LetterTemplate
from recovery.models import FollowUp
from servicedesk.models import OutboxMessage
from servicedesk.security.models import AuditEvent
from tests.complaints.conftest import record

pytestmark = pytest.mark.django_db


def letter_url(complaint, kind: str, action: str = "") -> str:
    name = f"complaints:complaint_letter_{action}" if action else "complaints:complaint_letter"
    return reverse(name, args=[complaint.reference, kind])


def test_the_acknowledgement_fills_in_the_patient_and_the_complaint(staff_client, complaint):
    page = staff_client.get(letter_url(complaint, "acknowledgement")).content.decode()
    assert "Dear Ada Lovelace," in page
    assert complaint.reference in page
    assert "$" not in page.split('class="card card-body letter"')[1]  # every placeholder filled
    assert AuditEvent.objects.filter(target_label__startswith="a letter to the patient").count() == 1


def test_a_spanish_speaking_patient_gets_the_letter_in_spanish(staff_client, staff):
    complaint = record(by=staff, language="es")
    letter = letter_render(complaint=complaint, kind="acknowledgement")
    assert letter.language == "es"
    assert letter.body.startswith("Estimado/a Ada Lovelace:")


def test_a_language_with_no_words_falls_back_to_english(staff):
    complaint = record(by=staff, language="pl")
    assert letter_render(complaint=complaint, kind="acknowledgement").language == "en"


def test_emailing_the_letter_queues_one_email_and_one_timeline_row_however_often_pressed(
    staff_client, complaint
):
    for _ in range(2):
        assert staff_client.post(letter_url(complaint, "acknowledgement", "email")).status_code == 302
    [email] = OutboxMessage.objects.filter(kind="complaint_letter")
    assert (email.to, email.subject) == ("ada@example.org", f"Your complaint {complaint.reference}")
    rows = complaint.incident.timeline.filter(body="Acknowledgement letter emailed to the patient.")
    assert rows.count() == 1


def test_no_email_without_an_address_the_patient_agreed_to(staff_client, staff):
    complaint = record(by=staff, patient_email="", contact_preference="letter", patient_address="1 High St")
    page = staff_client.get(letter_url(complaint, "acknowledgement")).content.decode()
    assert "Email it to the patient" not in page
    assert "1 High St" in page
    response = staff_client.post(letter_url(complaint, "acknowledgement", "email"))
    assert response.status_code == 400
    assert "no email address" in response.content.decode()
    assert not OutboxMessage.objects.exists()


def test_a_posted_letter_is_recorded_on_the_timeline(staff_client, complaint):
    assert staff_client.post(letter_url(complaint, "acknowledgement", "posted")).status_code == 302
    assert complaint.incident.timeline.filter(
        kind=FollowUp.Kind.NOTE, body="Acknowledgement letter printed and posted."
    ).exists()


def test_the_final_response_letter_waits_for_the_response(staff_client, complaint, staff):
    response = staff_client.get(letter_url(complaint, "final_response"), follow=True)
    assert "Record the final response and its outcome first." in response.content.decode()
    assert staff_client.post(letter_url(complaint, "final_response", "posted")).status_code == 400
    services.complaint_respond(
        complaint=complaint, outcome="partly_upheld", summary="We have changed how we rebook.", by=staff,
        now=timezone.now(),
    )  # fmt: skip
    page = staff_client.get(letter_url(complaint, "final_response")).content.decode()
    assert "We have changed how we rebook." in page
    assert "your complaint is partly upheld" in page


def test_an_unknown_letter_is_a_404(staff_client, complaint):
    assert staff_client.get(letter_url(complaint, "ransom")).status_code == 404


def test_managers_edit_the_words_and_the_next_letter_uses_them(manager_client, complaint):
    template = LetterTemplate.objects.get(kind="acknowledgement", language="en")
    edit = reverse("complaints:letter_template_edit", args=[template.pk])
    response = manager_client.post(edit, {"subject": "About $reference", "body": "Hello $patient_name."})
    assert response.status_code == 302
    assert letter_render(complaint=complaint, kind="acknowledgement").body == "Hello Ada Lovelace."


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ("Hello $secret_key.", "Not a placeholder: $secret_key"),
        ("{{ settings.SECRET_KEY }} costs $5", "write $$ for a dollar sign"),
        ("", "This field is required."),
    ],
)
def test_words_that_are_not_placeholders_are_refused_and_nothing_saved(manager_client, body, message):
    template = LetterTemplate.objects.get(kind="acknowledgement", language="en")
    before = template.body
    edit = reverse("complaints:letter_template_edit", args=[template.pk])
    response = manager_client.post(edit, {"subject": "Your complaint", "body": body})
    assert response.status_code == 400
    assert message in response.content.decode()
    template.refresh_from_db()
    assert template.body == before


def test_template_code_in_the_words_is_printed_not_run(manager_client, complaint):
    template = LetterTemplate.objects.get(kind="acknowledgement", language="en")
    edit = reverse("complaints:letter_template_edit", args=[template.pk])
    manager_client.post(edit, {"subject": "x", "body": "{{ settings.SECRET_KEY }} {% debug %}"})
    assert (
        letter_render(complaint=complaint, kind="acknowledgement").body
        == "{{ settings.SECRET_KEY }} {% debug %}"
    )


def test_the_letters_page_lists_every_letter_and_language_for_managers_only(manager_client, client, staff):
    page = manager_client.get(reverse("complaints:letter_template_list")).content.decode()
    assert page.count("Edit<span") == 4
    client.force_login(staff)
    assert client.get(reverse("complaints:letter_template_list")).status_code == 403


def test_the_words_come_back_if_their_rows_are_gone(staff):
    LetterTemplate.objects.all().delete()
    complaint = record(by=staff)
    assert letter_render(complaint=complaint, kind="acknowledgement").body.startswith("Dear Ada Lovelace,")
