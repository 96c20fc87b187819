"""Every file is read through the guarded view: signed in, allowed by the record it belongs to (need
to know included), audited for the original, never sniffed or run by the browser."""

from __future__ import annotations

import pytest
from django.core.cache import cache
from django.urls import reverse
from django.utils import timezone

from delivery import services as delivery_services
from recovery import services
from servicedesk.attachments import samples
from servicedesk.models import PracticeSettings
from servicedesk.security.models import AuditEvent
from tests.factories import (
    ChecklistItemFactory,
    ChecklistRunFactory,
    ChecklistTemplateFactory,
    LocationFactory,
    TouchpointFactory,
    UserFactory,
    open_incident,
)

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def need_to_know():
    PracticeSettings.objects.update_or_create(
        pk=PracticeSettings.SINGLETON, defaults={"staff_need_to_know": True}
    )
    cache.clear()


@pytest.fixture
def riverside():
    return LocationFactory(name="Riverside")


@pytest.fixture
def noted(riverside):
    """A Riverside incident with a photo on a note: (incident, attachment)."""
    incident = open_incident(touchpoint=TouchpointFactory(location=riverside), location=riverside)
    entry = services.incident_note(
        incident=incident, by=UserFactory(location=riverside), body="Chair broken", now=timezone.now(),
        attachment=samples.photo("chair.jpg"),
    )  # fmt: skip
    return incident, entry.attachment


def url(attachment, variant: str = "") -> str:
    name = f"attachment_{variant}" if variant else "attachment_file"
    return reverse(name, args=[attachment.pk])


def test_anonymous_is_sent_to_sign_in_for_every_variant(client, noted):
    _incident, attachment = noted
    for variant in ("", "display", "thumbnail"):
        response = client.get(url(attachment, variant))
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("login"))


def test_staff_of_another_site_get_a_404_under_need_to_know(client, noted):
    _incident, attachment = noted
    client.force_login(UserFactory(location=LocationFactory(name="Hilltop")))
    for variant in ("", "display", "thumbnail"):
        assert client.get(url(attachment, variant)).status_code == 404
    assert not AuditEvent.objects.filter(target_type="attachments.attachment").exists()


def test_staff_of_the_site_and_managers_may_read_it(client, noted, riverside):
    _incident, attachment = noted
    for user in (UserFactory(location=riverside), UserFactory(manager=True)):
        client.force_login(user)
        assert client.get(url(attachment, "thumbnail")).status_code == 200


def test_downloading_the_original_is_audited_and_thumbnails_are_not(manager_client, manager, noted):
    incident, attachment = noted
    manager_client.get(url(attachment, "thumbnail"))
    assert not AuditEvent.objects.filter(target_type="attachments.attachment").exists()

    response = manager_client.get(url(attachment))
    b"".join(response.streaming_content)

    event = AuditEvent.objects.get(target_type="attachments.attachment")
    assert (event.actor, event.action, event.target_id) == (manager, "viewed", str(attachment.pk))
    assert incident.reference in event.target_label
    assert "chair" not in event.target_label


def test_files_are_served_private_unsniffed_and_named(manager_client, noted):
    _incident, attachment = noted
    original = manager_client.get(url(attachment))
    thumbnail = manager_client.get(url(attachment, "thumbnail"))
    for response in (original, thumbnail):
        assert response["X-Content-Type-Options"] == "nosniff"
        assert "sandbox" in response["Content-Security-Policy"]
        assert response["Cache-Control"].startswith("private")
    assert original["Content-Type"] == "image/jpeg"
    assert original["Content-Disposition"] == 'inline; filename="chair.jpg"'
    assert original["Cache-Control"] == "private, no-store"


def test_a_pdf_is_downloaded_never_shown_inline(manager_client, riverside, small_pdf):
    from servicedesk.attachments.services import check_upload
    from tests.attachments.conftest import upload

    incident = open_incident(location=riverside)
    entry = services.incident_note(
        incident=incident, by=None, body="Letter", now=timezone.now(),
        attachment=check_upload(upload("letter.pdf", small_pdf, "application/pdf")),
    )  # fmt: skip
    response = manager_client.get(url(entry.attachment))
    assert response["Content-Disposition"] == 'attachment; filename="letter.pdf"'
    assert response["Content-Type"] == "application/pdf"


def test_an_attachment_no_record_carries_is_a_404_even_for_a_manager(manager_client):
    from servicedesk.attachments.services import attachment_store

    loose = attachment_store(upload=samples.photo(), by=None, now=timezone.now())
    assert manager_client.get(url(loose)).status_code == 404


def test_a_failed_checks_photo_follows_the_runs_rule_and_the_incidents(client, riverside):
    template = ChecklistTemplateFactory(location=riverside)
    item = ChecklistItemFactory(template=template, is_critical=True)
    run = ChecklistRunFactory(template=template)
    doer = UserFactory(location=riverside)
    result = delivery_services.run_record_result(
        run=run, item=item, outcome="fail", note="Exit blocked", by=doer, now=timezone.now(),
        photo=samples.photo("exit.jpg"),
    )  # fmt: skip
    client.force_login(doer)
    assert client.get(url(result.attachment, "thumbnail")).status_code == 200
    client.force_login(UserFactory(location=LocationFactory(name="Hilltop")))
    assert client.get(url(result.attachment, "thumbnail")).status_code == 404
