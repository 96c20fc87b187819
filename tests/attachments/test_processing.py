"""Pictures are re-made before anything is kept or shown: orientation applied, EXIF (GPS included)
gone, a display copy and a thumbnail; large ones in the background, once, however often it runs."""

from __future__ import annotations

import pytest
from django.utils import timezone
from PIL import Image

from servicedesk.attachments import samples
from servicedesk.attachments.models import Attachment, attachment_storage
from servicedesk.attachments.services import (
    attachment_process,
    attachment_store,
    check_upload,
    pending_process,
)
from servicedesk.attachments.tasks import process_pending_attachments
from tests.attachments.conftest import GPS_IFD, exif_of, jpeg_with_gps, upload

pytestmark = pytest.mark.django_db


def read(name: str) -> bytes:
    with attachment_storage().open(name, "rb") as handle:
        return handle.read()


def store(data: bytes, name: str = "photo.jpg") -> Attachment:
    return attachment_store(upload=check_upload(upload(name, data)), by=None, now=timezone.now())


def test_gps_and_every_exif_tag_are_stripped_from_what_is_kept():
    sent = jpeg_with_gps()
    assert exif_of(sent).get_ifd(GPS_IFD)  # the test's photo really carries a position

    attachment = store(sent)

    for field in ("file", "display", "thumbnail"):
        kept = read(getattr(attachment, field).name)
        assert not exif_of(kept).get_ifd(GPS_IFD)
        assert len(exif_of(kept)) == 0
    assert attachment.incoming.name == ""


def test_the_camera_orientation_is_applied_before_the_exif_goes():
    attachment = store(jpeg_with_gps(size=(400, 300), orientation=6))  # held upright: 90° turn
    assert (attachment.width, attachment.height) == (300, 400)


def test_display_copy_and_thumbnail_are_resized_within_their_boxes():
    attachment = store(samples.picture(size=(3000, 2000)))
    with Image.open(attachment.display) as display, Image.open(attachment.thumbnail) as thumbnail:
        assert max(display.size) == 1600
        assert max(thumbnail.size) == 320


def test_a_large_picture_waits_for_the_background_and_is_processed_once(
    settings, django_capture_on_commit_callbacks
):
    settings.ATTACHMENT_INLINE_BYTES = 0  # everything counts as large
    with django_capture_on_commit_callbacks() as callbacks:
        attachment = store(jpeg_with_gps())
    assert attachment.processed_at is None
    assert not attachment.file
    assert len(callbacks) == 1  # the task, published after commit

    now = timezone.now()
    assert attachment_process(attachment_id=attachment.pk, now=now) is True
    attachment.refresh_from_db()
    first = (attachment.file.name, attachment.thumbnail.name, attachment.sha256)
    assert attachment_process(attachment_id=attachment.pk, now=now) is False  # a redelivery: nothing
    attachment.refresh_from_db()
    assert (attachment.file.name, attachment.thumbnail.name, attachment.sha256) == first
    folder = attachment_storage().listdir(str(attachment.key))[1]
    assert sorted(folder) == [
        "display.jpg",
        "incoming",
        "original.jpg",
        "thumbnail.jpg",
    ]  # incoming: on commit


def test_the_sweep_processes_what_the_queue_never_delivered(settings):
    settings.ATTACHMENT_INLINE_BYTES = 0
    waiting = [store(samples.picture()) for _ in range(2)]  # the broker was down: nothing published

    assert process_pending_attachments() == 2
    assert process_pending_attachments() == 0
    assert all(a.processed_at for a in Attachment.objects.filter(pk__in=[w.pk for w in waiting]))
    assert pending_process(now=timezone.now()) == 0


def test_a_pdf_is_kept_as_sent_and_is_ready_at_once(small_pdf):
    attachment = store(small_pdf, "minutes.pdf")
    assert attachment.is_ready
    assert not attachment.thumbnail
    assert read(attachment.file.name) == small_pdf
