"""Where photos attach: a failed check (and the incident it opens), an incident note, a drill — each
through its own form, a wrong file refused on that form with a message and nothing written."""

from __future__ import annotations

import pytest
from django.urls import reverse
from django.utils import timezone

from delivery.models import ChecklistResult
from recovery.models import Drill, FollowUp, Incident
from servicedesk.attachments import samples
from servicedesk.attachments.models import Attachment
from tests.attachments.conftest import upload
from tests.factories import (
    ChecklistItemFactory,
    ChecklistRunFactory,
    ChecklistTemplateFactory,
    RecoveryPlanFactory,
    TouchpointFactory,
    open_incident,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def run(staff, location):
    staff.location = location
    staff.save()
    template = ChecklistTemplateFactory(title="Morning premises check", location=location)
    ChecklistItemFactory(template=template, order=1, text="Fire exits clear", is_critical=True)
    return ChecklistRunFactory(template=template)


def record(client, run, data):
    item = run.template.items.first()
    return client.post(reverse("delivery:run_record", args=[run.pk, item.pk]), data, HTTP_HX_REQUEST="true")


def test_a_failed_check_with_a_photo_opens_an_incident_that_shows_its_thumbnail(
    staff_client, run, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = record(
            staff_client,
            run,
            {"outcome": "fail", "note": "Boxes", "photo": upload("exit.jpg", samples.picture())},
        )
    assert response.status_code == 200
    result = ChecklistResult.objects.get()
    assert result.attachment is not None
    assert result.attachment.thumbnail
    assert reverse("attachment_thumbnail", args=[result.attachment.pk]) in response.content.decode()

    incident = Incident.objects.get(source_check=result)
    page = staff_client.get(reverse("recovery:incident_detail", args=[incident.reference])).content.decode()
    assert reverse("attachment_thumbnail", args=[result.attachment.pk]) in page
    assert staff_client.get(reverse("attachment_thumbnail", args=[result.attachment.pk])).status_code == 200


def test_the_run_page_offers_the_camera_in_one_tap(staff_client, run):
    page = staff_client.get(reverse("delivery:run_detail", args=[run.pk])).content.decode()
    assert 'accept="image/*" capture="environment"' in page
    assert 'enctype="multipart/form-data"' in page


def test_a_file_that_is_not_a_photo_is_refused_on_the_check_and_nothing_is_saved(staff_client, run):
    response = record(
        staff_client, run, {"outcome": "fail", "note": "x", "photo": upload("exit.jpg", b"<html></html>")}
    )
    assert response.status_code == 422
    assert "not a photo" in response.content.decode()
    assert not ChecklistResult.objects.exists()
    assert not Attachment.objects.exists()


def test_a_note_with_a_photo_shows_its_thumbnail_on_the_timeline(staff_client, staff):
    incident = open_incident(touchpoint=TouchpointFactory(location=None))  # seen by every staff member
    url = reverse("recovery:incident_note", args=[incident.reference])
    response = staff_client.post(
        url, {"body": "Photo of the leak", "photo": upload("leak.jpg", samples.picture())}
    )
    assert response.status_code == 302
    entry = FollowUp.objects.get(kind="note")
    assert entry.attachment.uploaded_by == staff
    page = staff_client.get(reverse("recovery:incident_detail", args=[incident.reference])).content.decode()
    assert reverse("attachment_thumbnail", args=[entry.attachment.pk]) in page
    assert 'capture="environment"' in page
    assert 'enctype="multipart/form-data"' in page


def test_a_note_may_carry_a_pdf_as_any_file(staff_client, small_pdf):
    incident = open_incident(touchpoint=TouchpointFactory(location=None))  # seen by every staff member
    url = reverse("recovery:incident_note", args=[incident.reference])
    staff_client.post(url, {"body": "The letter", "file": upload("letter.pdf", small_pdf, "application/pdf")})
    assert FollowUp.objects.get(kind="note").attachment.kind == "pdf"


def test_a_note_with_a_photo_and_a_file_is_refused_with_a_message(staff_client, small_pdf):
    incident = open_incident(touchpoint=TouchpointFactory(location=None))  # seen by every staff member
    url = reverse("recovery:incident_note", args=[incident.reference])
    response = staff_client.post(url, {
        "body": "Both", "photo": upload("a.jpg", samples.picture()), "file": upload("b.pdf", small_pdf),
    })  # fmt: skip
    assert response.status_code == 400
    assert "either the photo or the file" in response.content.decode()
    assert not FollowUp.objects.filter(kind="note").exists()
    assert not Attachment.objects.exists()


def test_a_note_with_a_file_over_the_limit_is_refused(staff_client, settings):
    settings.ATTACHMENT_MAX_BYTES = 1024
    incident = open_incident(touchpoint=TouchpointFactory(location=None))  # seen by every staff member
    url = reverse("recovery:incident_note", args=[incident.reference])
    response = staff_client.post(url, {"body": "Big", "photo": upload("big.jpg", samples.picture())})
    assert response.status_code == 400
    assert "a file can be at most" in response.content.decode()
    assert not Attachment.objects.exists()


def test_a_drill_can_carry_a_photo(manager_client, manager):
    plan = RecoveryPlanFactory()
    response = manager_client.post(
        reverse("recovery:drill_create", args=[plan.pk]),
        {"held_on": timezone.localdate().isoformat(), "outcome": "worked", "notes": "Went well",
         "file": upload("drill.jpg", samples.picture())},
    )  # fmt: skip
    assert response.status_code == 302
    drill = Drill.objects.get()
    page = manager_client.get(reverse("recovery:plan_detail", args=[plan.pk])).content.decode()
    assert reverse("attachment_thumbnail", args=[drill.attachment.pk]) in page


def test_the_incident_page_costs_the_same_queries_with_one_photo_or_five(manager_client, count_queries):
    incident = open_incident(touchpoint=TouchpointFactory(location=None))
    url = reverse("recovery:incident_detail", args=[incident.reference])

    def note_with_photo() -> None:
        manager_client.post(
            reverse("recovery:incident_note", args=[incident.reference]),
            {"body": "Photo", "photo": upload("p.jpg", samples.picture(size=(64, 48)))},
        )

    note_with_photo()
    manager_client.get(url)  # shows (and clears) the "Note added" message, as the later visit does
    one = count_queries(lambda: manager_client.get(url))
    for _ in range(4):
        note_with_photo()
    assert manager_client.get(url).content.decode().count("/thumbnail/") == 5
    assert count_queries(lambda: manager_client.get(url)) == one
