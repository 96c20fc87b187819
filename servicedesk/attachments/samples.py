"""Pictures made on the spot for the demo practice and the tests: no image files in the repository."""

from __future__ import annotations

from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image, ImageDraw

from servicedesk import images
from servicedesk.attachments.services import CheckedUpload, check_upload


def picture(*, size: tuple[int, int] = (640, 480), colour: str = "#8a6d3b", fmt: str = "JPEG",
            exif: Image.Exif | None = None) -> bytes:  # fmt: skip
    """A plain scene (a wall, a door, some boxes) as a file in ``fmt``, with ``exif`` if given."""
    image = Image.new("RGB", size, colour)
    draw = ImageDraw.Draw(image)
    width, height = size
    draw.rectangle((width * 0.35, height * 0.15, width * 0.65, height * 0.95), fill="#2e7d32")  # a door
    for n in range(3):  # boxes against it
        left = width * (0.3 + 0.12 * n)
        draw.rectangle(
            (left, height * 0.6, left + width * 0.14, height * 0.95), fill="#c8a165", outline="#5d4037"
        )
    if exif is not None:
        return images.encode(image, fmt, exif=exif) if fmt == "JPEG" else images.encode(image, fmt)
    return images.encode(image, fmt)


def photo(name: str = "photo.jpg", **options: object) -> CheckedUpload:
    """A checked upload of ``picture(**options)``, as if a phone had sent it."""
    return check_upload(SimpleUploadedFile(name, picture(**options), content_type="image/jpeg"))  # type: ignore[arg-type]
