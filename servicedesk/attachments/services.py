"""Photos and files attached to the pillars' records: checked, stored privately, processed, served.

Design (issue 18, part 1):

1. **One core model, linked from the pillars.** ``Attachment`` knows nothing of incidents or
   checklists; each pillar row that can carry a file has a nullable foreign key to it (an incident's
   timeline entry, a checklist result, a drill: one file each, ``on_delete=SET_NULL``). That is the
   simplest design that keeps the layers one way (core → nothing of ours) and adds one column, not
   a table, to each pillar. An incident's files are its timeline's; the incident opened from a
   failed check shows that check's photo through ``Incident.source_check``.
2. **Who may read one** is the rule of the record it belongs to. Each pillar registers an
   ``AttachmentOwner`` (``attachment_owners``): the attachments it links that a user may see
   (``Incident.objects.visible_to``, ``ChecklistRun.objects.visible_to``, managers for drills). A file
   no owner lets the user see is a 404, the same as a record of another site under need to know.
3. **Checked by content** (``check_upload``): a PDF by its ``%PDF-`` magic, a picture by Pillow
   reading its header (JPEG, PNG, WebP; HEIC when Pillow has a HEIF plug-in); nothing else, and
   nothing over ``ATTACHMENT_MAX_BYTES``. The name the browser sent is kept, cleaned, for display.
4. **Images are re-made** (``attachment_process``): orientation applied, then fresh encodes of the
   picture, a display copy and a thumbnail, so EXIF (GPS included) never reaches the kept files.
   Small pictures are processed in the request; larger ones (over ``ATTACHMENT_INLINE_BYTES``) by a
   Celery task after commit, and a sweep finds any the queue missed. Processing claims the row with
   ``select_for_update(skip_locked=True)`` on ``processed_at IS NULL`` and writes fixed names, so
   running it twice gives one result.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.db.models import QuerySet
from django.utils.translation import gettext as _
from PIL import Image

from servicedesk import images
from servicedesk.attachments.models import Attachment, attachment_storage, remove_files
from servicedesk.models import User
from servicedesk.queue import enqueue, task
from servicedesk.registry import Registry

# Pillow's format name → (content type, extension of the kept original, format it is re-encoded in).
IMAGE_FORMATS = {
    "JPEG": ("image/jpeg", "jpg", "JPEG"),
    "PNG": ("image/png", "png", "PNG"),
    "WEBP": ("image/webp", "webp", "WEBP"),
}
if "HEIF" in Image.OPEN:  # only when a HEIF plug-in (pillow-heif) is installed; kept as JPEG
    IMAGE_FORMATS["HEIF"] = ("image/jpeg", "jpg", "JPEG")
PDF_MAGIC = b"%PDF-"
DISPLAY_BOX = (1600, 1600)
THUMBNAIL_BOX = (320, 320)
UNSAFE_NAME = re.compile(r"[^\w .()+-]+")


@dataclass(frozen=True)
class CheckedUpload:
    """An upload that passed ``check_upload``: its bytes and what its content says it is."""

    data: bytes
    kind: str
    content_type: str
    extension: str
    name: str


def clean_name(name: str, extension: str) -> str:
    """The browser's file name, safe to show and to send back: no path, no control or odd characters,
    at most 120 characters, ending in the extension the content proved (a PNG called .pdf is .png)."""
    base = unicodedata.normalize("NFC", name or "").replace("\\", "/").rsplit("/", 1)[-1]
    stem = UNSAFE_NAME.sub("_", base.rsplit(".", 1)[0] if "." in base else base).strip(" ._") or "attachment"
    return f"{stem[:100]}.{extension}"


def check_upload(upload: UploadedFile[Any]) -> CheckedUpload:
    """The upload's bytes and kind, or a ValidationError that says what to do instead."""
    limit = settings.ATTACHMENT_MAX_BYTES
    megabytes = f"{limit / 1024 / 1024:g}"
    if upload.size is not None and upload.size > limit:
        raise ValidationError(
            _("This file is %(size)s MB; a file can be at most %(limit)s MB. Take the photo again at a "
              "lower resolution, or attach a smaller copy.") % {"size": f"{upload.size / 1024 / 1024:.1f}",
                                                                "limit": megabytes},
            code="too_large",
        )  # fmt: skip
    data = upload.read(limit + 1)
    if len(data) > limit:  # the size the browser claimed was wrong
        raise ValidationError(
            _("This file is larger than %(limit)s MB.") % {"limit": megabytes}, code="too_large"
        )
    if not data:
        raise ValidationError(_("This file is empty."), code="empty")
    if data.startswith(PDF_MAGIC):
        return CheckedUpload(
            data, Attachment.Kind.PDF, "application/pdf", "pdf", clean_name(upload.name or "", "pdf")
        )
    header = images.image_header(data, IMAGE_FORMATS)
    if header is None:
        raise ValidationError(
            _(
                "This file is not a photo (JPEG, PNG or WebP) or a PDF, whatever its name says. Only those "
                "can be attached."
            ),
            code="not_allowed",
        )
    fmt, width, height = header
    if width * height > images.MAX_PIXELS:
        raise ValidationError(
            _("This picture is %(width)s by %(height)s pixels; attach a smaller copy.")
            % {"width": width, "height": height},
            code="too_many_pixels",
        )
    content_type, extension, _encoding = IMAGE_FORMATS[fmt]
    return CheckedUpload(data, Attachment.Kind.IMAGE, content_type, extension,
                         clean_name(upload.name or "", extension))  # fmt: skip


def _put(attachment: Attachment, field: str, name: str, data: bytes) -> str:
    """Write ``data`` under a fixed name (replacing a copy a crashed earlier run left)."""
    storage = attachment_storage()
    path = f"{attachment.key}/{name}"
    if storage.exists(path):
        storage.delete(path)
    return storage.save(path, ContentFile(data))


@transaction.atomic
def attachment_store(*, upload: CheckedUpload, by: User | None, now: datetime) -> Attachment:
    """Keep a checked upload. Call inside the transaction that links it to its record.

    A PDF is kept as sent. A picture up to ``ATTACHMENT_INLINE_BYTES`` is processed now, so the
    page that follows shows its thumbnail; a larger one is left for the background task."""
    attachment = Attachment.objects.create(
        kind=upload.kind,
        content_type=upload.content_type,
        original_name=upload.name,
        size=len(upload.data),
        sha256=hashlib.sha256(upload.data).hexdigest(),
        uploaded_by=by,
    )
    if upload.kind == Attachment.Kind.PDF:
        attachment.file = _put(attachment, "file", f"original.{upload.extension}", upload.data)
        attachment.processed_at = now
        attachment.save(update_fields=["file", "processed_at", "updated_at"])
        return attachment
    attachment.incoming = _put(attachment, "incoming", "incoming", upload.data)
    attachment.save(update_fields=["incoming", "updated_at"])
    if len(upload.data) <= settings.ATTACHMENT_INLINE_BYTES:
        attachment_process(attachment_id=attachment.pk, now=now)
        attachment.refresh_from_db()
    else:
        enqueue(task("servicedesk.attachments.tasks.process_attachment"), attachment.pk)
    return attachment


def attachment_process(*, attachment_id: int, now: datetime) -> bool:
    """Make an image's kept copies from what was uploaded; False when there was nothing to do.

    1. Claim the row while ``processed_at`` is empty (another worker holding it: skip).
    2. Decode the upload the way the camera held it; write the original, the display copy and the
       thumbnail as fresh encodes (no EXIF, no GPS) under fixed names.
    3. Record them with their size and checksum, and delete the upload once committed.
    A picture that cannot be decoded after all is marked processed with no copies (nothing shown).
    """
    with transaction.atomic():
        attachment = (
            Attachment.objects.select_for_update(skip_locked=True).pending().filter(pk=attachment_id).first()
        )
        if attachment is None:
            return False
        incoming = attachment.incoming.name
        with attachment_storage().open(incoming, "rb") as handle:
            data = handle.read()
        fields = ["processed_at", "incoming", "updated_at"]
        try:
            picture = images.open_upright(data, IMAGE_FORMATS)
        except (images.UnreadableImage, images.TooManyPixels):
            pass
        else:
            content_type, extension, encoding = IMAGE_FORMATS[picture.format or "JPEG"]
            options = {"quality": 90} if encoding in ("JPEG", "WEBP") else {"optimize": True}
            original = images.encode(picture, encoding, **options)
            attachment.file = _put(attachment, "file", f"original.{extension}", original)
            display = images.shrunk(picture, DISPLAY_BOX)
            attachment.display = _put(
                attachment, "display", "display.jpg", images.encode(display, "JPEG", quality=85)
            )
            thumbnail = images.shrunk(picture, THUMBNAIL_BOX)
            attachment.thumbnail = _put(attachment, "thumbnail", "thumbnail.jpg",
                                        images.encode(thumbnail, "JPEG", quality=80))  # fmt: skip
            attachment.content_type = content_type
            attachment.width, attachment.height = picture.size
            attachment.size, attachment.sha256 = len(original), hashlib.sha256(original).hexdigest()
            fields += ["file", "display", "thumbnail", "content_type", "width", "height", "size", "sha256"]
        attachment.processed_at = now
        attachment.incoming = ""
        attachment.save(update_fields=fields)
        transaction.on_commit(lambda: remove_files([incoming]))
    return True


def pending_process(*, now: datetime, limit: int = 100) -> int:
    """The sweep: process what the queue never delivered (broker down, worker lost)."""
    due = Attachment.objects.pending().order_by("created_at").values_list("pk", flat=True)[:limit]
    return sum(attachment_process(attachment_id=pk, now=now) for pk in due)


# --- Who may read one -------------------------------------------------------------------------------


@dataclass(frozen=True)
class AttachmentOwner:
    """A pillar's records that carry attachments: those of them ``user`` may open, and how the audit
    log names one (by the record's reference, never a patient's words)."""

    visible_to: Callable[[User], QuerySet[Attachment]]
    describe: Callable[[int], str] | None = None


attachment_owners: Registry[AttachmentOwner] = Registry("records that carry attachments")


def attachment_for_user(user: User, pk: int) -> tuple[Attachment, AttachmentOwner] | None:
    """The attachment, when a record that carries it is one ``user`` may see; else None (a 404)."""
    for owner in attachment_owners:
        attachment = owner.visible_to(user).filter(pk=pk).first()
        if attachment is not None:
            return attachment, owner
    return None


def attachments_erase(*, attachments: QuerySet[Attachment]) -> int:
    """Delete rows and, once committed, their files (an erasure, a retention sweep)."""
    return attachments.delete()[0]
