"""Pictures people upload, read and re-made the one way: the practice logo and attachment photos.

An upload is read by its content, never its name: Pillow must recognise it as one of the formats
the caller accepts, and its size in pixels is checked from the header before a pixel is decoded (a
small file can claim a huge picture). Decoding applies the camera's orientation (EXIF) and then
every saved copy is a fresh encode, which carries no EXIF, no GPS position, no text chunks.
"""

from __future__ import annotations

import io
from collections.abc import Collection

from PIL import Image, ImageOps, UnidentifiedImageError

# Checked from the header, before a pixel is decoded (about 6,000 by 6,600).
MAX_PIXELS = 40_000_000


class UnreadableImage(ValueError):
    """Not a picture Pillow can read in one of the accepted formats (or it is broken)."""


class TooManyPixels(ValueError):
    def __init__(self, width: int, height: int) -> None:
        super().__init__(f"{width} by {height} pixels")
        self.width, self.height = width, height


def image_header(data: bytes, formats: Collection[str]) -> tuple[str, int, int] | None:
    """Pillow's name for the picture in ``data`` ("JPEG", "PNG"…) and its size in pixels, read from
    the header alone, when it is one of ``formats``; else None."""
    try:
        with Image.open(io.BytesIO(data)) as image:
            fmt = image.format
            return (fmt, image.width, image.height) if fmt is not None and fmt in formats else None
    except (UnidentifiedImageError, OSError, ValueError, Image.DecompressionBombError):
        return None


def open_upright(data: bytes, formats: Collection[str], *, max_pixels: int = MAX_PIXELS) -> Image.Image:
    """The decoded picture, turned the way the camera held it. Raises ``UnreadableImage`` or
    ``TooManyPixels``; the returned image is detached from its EXIF (a re-encode drops it)."""
    try:
        image = Image.open(io.BytesIO(data))
    except (UnidentifiedImageError, OSError, ValueError, Image.DecompressionBombError):
        raise UnreadableImage from None
    if image.format not in formats:
        raise UnreadableImage
    if image.width * image.height > max_pixels:
        raise TooManyPixels(image.width, image.height)
    try:
        image.load()
        return ImageOps.exif_transpose(image)  # the way the camera held it, before the EXIF goes
    except (OSError, ValueError, Image.DecompressionBombError):
        raise UnreadableImage from None


def shrunk(image: Image.Image, box: tuple[int, int]) -> Image.Image:
    """A copy no larger than ``box``, in proportion (never enlarged)."""
    copy = image.copy()
    copy.thumbnail(box, Image.Resampling.LANCZOS)
    return copy


def encode(image: Image.Image, fmt: str, **options: object) -> bytes:
    """A fresh file of ``image`` in ``fmt``: no EXIF, no GPS, no text chunks survive."""
    if fmt == "JPEG" and image.mode not in ("RGB", "L"):
        flat = Image.new("RGB", image.size, "white")  # transparency onto white, as a page shows it
        rgba = image.convert("RGBA")
        flat.paste(rgba, mask=rgba.getchannel("A"))
        image = flat
    out = io.BytesIO()
    image.save(out, format=fmt, **options)
    return out.getvalue()
