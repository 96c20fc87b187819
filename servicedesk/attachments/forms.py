"""The upload field the pillars' forms use: a phone's camera in one tap, or any allowed file.

Its cleaned value is a ``CheckedUpload`` (or None): the content was checked in ``clean``, so a
wrong file comes back on the form as a message, never as a 500.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from servicedesk.attachments.services import CheckedUpload, check_upload

ANY_ALLOWED = "image/jpeg,image/png,image/webp,image/heic,application/pdf"


class AttachmentField(forms.FileField):
    def __init__(self, *, camera: bool = False, **kwargs: Any) -> None:
        attrs = {"accept": "image/*", "capture": "environment"} if camera else {"accept": ANY_ALLOWED}
        kwargs.setdefault("required", False)
        kwargs.setdefault("widget", forms.FileInput(attrs=attrs))
        super().__init__(**kwargs)

    def clean(self, data: Any, initial: Any = None) -> CheckedUpload | None:
        upload = super().clean(data, initial)
        return check_upload(upload) if upload else None


def photo_field(**kwargs: Any) -> AttachmentField:
    kwargs.setdefault("label", _("Take a photo"))
    return AttachmentField(camera=True, **kwargs)


def file_field(**kwargs: Any) -> AttachmentField:
    kwargs.setdefault("label", _("Or attach a file"))
    kwargs.setdefault("help_text", _("A photo (JPEG, PNG, WebP) or a PDF, up to the size limit."))
    return AttachmentField(**kwargs)


def one_attachment(cleaned: dict[str, Any], *names: str) -> CheckedUpload | None:
    """The one file given among ``names`` (a form with a camera and a file input); two is refused."""
    given = [cleaned.get(name) for name in names if cleaned.get(name)]
    if len(given) > 1:
        raise forms.ValidationError(_("Attach one file at a time: either the photo or the file."))
    return given[0] if given else None
