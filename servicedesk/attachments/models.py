"""One stored file: a photo or a PDF someone attached to an incident, a note, a failed check or a drill.

The row is the source of truth; the bytes live in the private ``attachments`` storage (a folder
under var/ by default, any S3-compatible bucket in production) under names that carry a random key,
never a patient's words. The pillars link to it (a nullable foreign key on their own row); this
model knows nothing of them (see ``servicedesk.attachments.services`` for the design).

An image arrives as ``incoming`` (the upload as sent, EXIF and all) and is *processed* into the
kept ``file`` (re-encoded: orientation applied, EXIF and GPS gone), a ``display`` copy sized for a
page and a ``thumbnail``; ``incoming`` is then deleted. Until ``processed_at`` is set nothing of it
is served. A PDF is kept as sent and is processed on arrival.
"""

from __future__ import annotations

import uuid
from typing import Any

from django.conf import settings
from django.core.files.storage import Storage, storages
from django.core.signals import setting_changed
from django.db import models, transaction
from django.db.models import Q
from django.dispatch import receiver
from django.utils.functional import LazyObject, empty
from django.utils.translation import gettext_lazy as _

from servicedesk.models import TimeStamped


class AttachmentStorage(LazyObject):
    """``STORAGES["attachments"]`` behind a proxy that looks it up again after a settings change. A
    FileField resolves its storage once, when the models load; without this, a test (or a settings
    override) that swaps the storage would still read and write the folder of the start."""

    def _setup(self) -> None:
        self._wrapped = storages["attachments"]


attachment_files = AttachmentStorage()


@receiver(setting_changed)
def _forget_storage(*, setting: str, **kwargs: Any) -> None:
    if setting == "STORAGES":
        attachment_files._wrapped = empty


def attachment_storage() -> Storage:
    """The private storage, for FileField(storage=…): a callable keeps the settings out of migrations."""
    return attachment_files  # type: ignore[return-value]  # a lazy Storage


FILE_FIELDS = ("file", "display", "thumbnail", "incoming")


def remove_files(names: list[str]) -> None:
    """Delete stored files; a file already gone is not an error (a second erasure, a crash)."""
    storage = attachment_storage()
    for name in names:
        if name:
            storage.delete(name)


class AttachmentQuerySet(models.QuerySet):
    def pending(self) -> AttachmentQuerySet:
        return self.filter(processed_at__isnull=True)

    def delete(self) -> tuple[int, dict[str, int]]:
        """Delete the rows, and their files once the deletion has committed (a rollback keeps both)."""
        names = [name for row in self.values_list(*FILE_FIELDS) for name in row if name]
        result = super().delete()
        transaction.on_commit(lambda: remove_files(names))
        return result


class Attachment(TimeStamped):
    class Kind(models.TextChoices):
        IMAGE = "image", _("Photo")
        PDF = "pdf", _("PDF")

    key = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    kind = models.CharField(_("kind"), max_length=8, choices=Kind)
    # Detected from the content, never taken from the browser's claim or the file's name.
    content_type = models.CharField(_("content type"), max_length=40)
    original_name = models.CharField(_("file name"), max_length=120, blank=True)
    size = models.PositiveIntegerField(_("size in bytes"))
    sha256 = models.CharField(_("SHA-256"), max_length=64)
    width = models.PositiveIntegerField(null=True, blank=True)
    height = models.PositiveIntegerField(null=True, blank=True)
    file = models.FileField(storage=attachment_storage, max_length=200, blank=True)
    display = models.FileField(storage=attachment_storage, max_length=200, blank=True)
    thumbnail = models.FileField(storage=attachment_storage, max_length=200, blank=True)
    incoming = models.FileField(storage=attachment_storage, max_length=200, blank=True)
    processed_at = models.DateTimeField(null=True, blank=True)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    objects = AttachmentQuerySet.as_manager()

    class Meta:
        verbose_name = _("attachment")
        indexes = [
            # AttachmentQuerySet.pending: the sweep that processes what the queue missed.
            models.Index(
                fields=["created_at"], condition=Q(processed_at__isnull=True), name="attachment_pending_idx"
            ),
        ]

    def __str__(self) -> str:
        return f"attachment #{self.pk}"

    @property
    def is_image(self) -> bool:
        return self.kind == self.Kind.IMAGE

    @property
    def is_ready(self) -> bool:
        return self.processed_at is not None

    def delete(self, *args: Any, **kwargs: Any) -> tuple[int, dict[str, int]]:
        return Attachment.objects.filter(pk=self.pk).delete()
