"""Issue 18's first "done when": on a 390 by 844 phone a staff member attaches a photo to a failed check
in one tap, the incident it opens shows the thumbnail, and the file is not reachable signed out."""

from __future__ import annotations

import re

from django.urls import reverse
from playwright.sync_api import expect

from recovery.models import Incident
from servicedesk.attachments import samples
from tests.e2e.test_delivery_journey import item


def test_a_photo_of_a_failed_check_shows_on_its_incident_and_only_to_the_team(
    phone_page, page, log_in, morning_check, shot, assert_accessible
):
    run, receptionist = morning_check
    phone = phone_page
    log_in(phone, receptionist)
    phone.goto(f"/delivery/runs/{run.pk}/")
    exits = item(phone, "Fire exits clear and unlocked")
    exits.get_by_text("Add a note").click()
    exits.get_by_label("Note").fill("Boxes against the back exit")
    camera = exits.locator('input[type="file"][capture="environment"]')
    camera.set_input_files(
        files=[{"name": "IMG_0042.jpg", "mimeType": "image/jpeg", "buffer": samples.picture()}]
    )
    exits.get_by_role("button", name="Fail").click()

    expect(exits.get_by_text("Saved: Fail")).to_be_visible()
    expect(exits.get_by_role("img", name="Photo of this check")).to_be_visible()
    shot(phone, "failed-check-with-photo")

    incident = Incident.objects.get(source_check__run=run)
    phone.goto(f"/recovery/incidents/{incident.reference}/")
    thumbnail = phone.get_by_role("img", name="Photo taken at the failed check")
    expect(thumbnail).to_be_visible()
    assert thumbnail.evaluate("img => img.complete && img.naturalWidth > 0")  # the picture really loaded
    assert phone.evaluate("document.documentElement.scrollWidth <= window.innerWidth")  # fits 390 px
    assert_accessible(phone)
    shot(phone, "incident-with-photo")

    # Signed out (another browser context), the file's address leads to the sign-in page only.
    attachment_id = incident.source_check.attachment_id
    for name in ("attachment_file", "attachment_thumbnail"):
        page.goto(reverse(name, args=[attachment_id]))
        expect(page).to_have_url(re.compile(r"/accounts/login/\?next="))
        expect(page.get_by_role("button", name="Log in")).to_be_visible()
