"""The practice's own look: its logo and accent colour on everything a patient sees or pins up —
the patient pages, the invitation emails, the QR posters and the monthly report.

The logo is kept in the database (the source of truth; nothing to copy besides a backup) as a
PNG made by us from the upload: read by its content, not its name, shrunk to at most
``LOGO_BOX``, and re-encoded, which drops every piece of metadata (EXIF, location included).
It and the accent's stylesheet are served under a URL that names their version, so browsers
keep them for a year and a change is a new URL.

An accent is accepted only when white text on it, and it as text on the page, are both
legible (``MIN_CONTRAST``, WCAG AA); a colour that fails gets the nearest darker shade that
passes as a suggestion.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from functools import partial

from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from servicedesk import images
from servicedesk.audit import Action, log_action
from servicedesk.caching import cached, forget
from servicedesk.models import PracticeIdentity, User

MAX_LOGO_BYTES = 2 * 1024 * 1024
MAX_LOGO_PIXELS = images.MAX_PIXELS  # checked from the header, before a pixel is decoded
LOGO_BOX = (600, 200)  # the largest stored size; pages show it smaller
LOGO_FORMATS = {"PNG": "PNG", "JPEG": "JPEG", "WEBP": "WebP", "GIF": "GIF"}
MIN_CONTRAST = 4.5
# What the accent must stand out against: white text on it, and the pages' white and grey.
BACKGROUNDS = ("#ffffff", "#f6f7f9")
STANDARD_ACCENT = "#0b3d91"  # the patient pages' own blue, used when the practice picks none
HEX_COLOUR = re.compile(r"^#[0-9a-f]{6}$")

_CACHE_KEY = "practice-identity:v1"
_CACHE_SECONDS = 300  # bounds how stale a copy can be if deleting it after a change failed


# --- Colour -----------------------------------------------------------------------------------------


def _rgb(colour: str) -> tuple[int, int, int]:
    return int(colour[1:3], 16), int(colour[3:5], 16), int(colour[5:7], 16)


def _hex(rgb: tuple[float, float, float]) -> str:
    return "#" + "".join(f"{max(0, min(255, round(c))):02x}" for c in rgb)


def luminance(colour: str) -> float:
    """WCAG 2 relative luminance of ``#rrggbb``."""

    def channel(value: int) -> float:
        c = value / 255
        return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4

    r, g, b = (channel(v) for v in _rgb(colour))
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast(first: str, second: str) -> float:
    """The WCAG contrast ratio of two colours, 1 to 21."""
    light, dark = sorted((luminance(first), luminance(second)), reverse=True)
    return (light + 0.05) / (dark + 0.05)


def weakest_contrast(colour: str) -> float:
    """The accent's contrast against the worst of the backgrounds it meets."""
    return min(contrast(colour, background) for background in BACKGROUNDS)


def mix(colour: str, other: str, share: float) -> str:
    """``colour`` with ``share`` (0 to 1) of ``other`` mixed in."""
    return _hex(tuple(a + (b - a) * share for a, b in zip(_rgb(colour), _rgb(other), strict=True)))


def legible_shade(colour: str) -> str:
    """The lightest shade of ``colour`` (mixed towards black) that meets ``MIN_CONTRAST``."""
    for step in range(101):
        shade = mix(colour, "#000000", step / 100)
        if weakest_contrast(shade) >= MIN_CONTRAST:
            return shade
    return "#000000"


def check_accent(value: str) -> str:
    """``value`` as ``#rrggbb``, or a ValidationError that says why and what would pass."""
    colour = value.strip().lower()
    if not HEX_COLOUR.match(colour):
        raise ValidationError(
            _("Give the colour as # and six hexadecimal digits, like #0b3d91."), code="invalid"
        )
    ratio = weakest_contrast(colour)
    if ratio < MIN_CONTRAST:
        raise ValidationError(
            _(
                "%(colour)s is too light to read: white text on it, or it as text on the page, has a "
                "contrast of %(ratio).1f:1, and %(minimum).1f:1 is needed. %(suggestion)s is the "
                "nearest darker shade that passes."
            ),
            code="low_contrast",
            params={
                "colour": colour,
                "ratio": ratio,
                "minimum": MIN_CONTRAST,
                "suggestion": legible_shade(colour),
            },
        )
    return colour


# --- Logo ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PreparedLogo:
    png: bytes
    width: int
    height: int


def prepare_logo(upload: UploadedFile) -> PreparedLogo:
    """The uploaded file as the PNG we keep, or a ValidationError a manager can act on."""
    if upload.size is not None and upload.size > MAX_LOGO_BYTES:
        raise ValidationError(
            _("The logo file is %(size)s MB; it can be at most 2 MB."),
            code="too_large",
            params={"size": f"{upload.size / 1024 / 1024:.1f}"},
        )
    unreadable = ValidationError(
        _("This file is not a picture we can read. Upload the logo as a PNG, JPEG, WebP or GIF image."),
        code="not_an_image",
    )
    try:
        image = images.open_upright(upload.read(), LOGO_FORMATS, max_pixels=MAX_LOGO_PIXELS)
    except images.UnreadableImage:
        raise unreadable from None
    except images.TooManyPixels as exc:
        raise ValidationError(
            _("This picture is %(width)s by %(height)s pixels; save a smaller copy (under 6,000 by 6,000)."),
            code="too_many_pixels",
            params={"width": exc.width, "height": exc.height},
        ) from None
    image = images.shrunk(image.convert("RGBA"), LOGO_BOX)
    png = images.encode(image, "PNG", optimize=True)  # a fresh file: no EXIF, no text chunks
    return PreparedLogo(png=png, width=image.width, height=image.height)


# --- What the pages read --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Identity:
    """What a page needs of the practice's look (never the logo's bytes)."""

    accent: str = ""
    logo_digest: str = ""
    logo_width: int = 0
    logo_height: int = 0

    @property
    def version(self) -> str:
        return hashlib.sha256(f"{self.accent}|{self.logo_digest}".encode()).hexdigest()[:12]

    @property
    def has_logo(self) -> bool:
        return bool(self.logo_digest)

    @property
    def colour(self) -> str:
        return self.accent or STANDARD_ACCENT

    @property
    def logo_url(self) -> str:
        return reverse("practice_logo", args=[self.logo_digest]) if self.logo_digest else ""

    @property
    def stylesheet_url(self) -> str:
        """The accent's stylesheet; none for the standard blue, which the pages' own CSS already is."""
        return reverse("practice_theme", args=[self.version]) if self.accent else ""


def _read() -> Identity:
    row = PracticeIdentity.objects.defer("logo").filter(pk=PracticeIdentity.SINGLETON).first()
    if row is None:
        return Identity()
    return Identity(
        accent=row.accent,
        logo_digest=row.logo_digest,
        logo_width=row.logo_width or 0,
        logo_height=row.logo_height or 0,
    )


def current() -> Identity:
    """The practice's look now: from the cache, or one small query."""
    return cached(_CACHE_KEY, _read, timeout=_CACHE_SECONDS)


def logo_png(digest: str) -> bytes | None:
    """The stored logo, when ``digest`` names the current one."""
    row = PracticeIdentity.objects.filter(pk=PracticeIdentity.SINGLETON, logo_digest=digest).first()
    return bytes(row.logo) if row is not None and row.logo else None


def theme_css(identity: Identity) -> str:
    """The stylesheet that gives the patient pages, posters and report the practice's colour."""
    accent = identity.colour
    darker, darkest, tint = (
        mix(accent, "#000000", 0.15),
        mix(accent, "#000000", 0.3),
        mix(accent, "#ffffff", 0.9),
    )
    r, g, b = _rgb(accent)
    return f"""/* {identity.version}: the practice's accent colour, checked for contrast when chosen. */
.practice-themed {{
  --bs-primary: {accent}; --bs-primary-rgb: {r}, {g}, {b};
  --bs-link-color: {accent}; --bs-link-color-rgb: {r}, {g}, {b};
  --bs-link-hover-color: {darker};
  --sd-accent: {accent}; --sd-accent-tint: {tint};
}}
.practice-themed .btn-primary {{
  --bs-btn-bg: {accent}; --bs-btn-border-color: {accent};
  --bs-btn-hover-bg: {darker}; --bs-btn-hover-border-color: {darker};
  --bs-btn-active-bg: {darkest}; --bs-btn-active-border-color: {darkest};
  --bs-btn-disabled-bg: {accent}; --bs-btn-disabled-border-color: {accent};
}}
.practice-themed .btn-outline-primary {{
  --bs-btn-color: {accent}; --bs-btn-border-color: {accent};
  --bs-btn-hover-bg: {accent}; --bs-btn-hover-border-color: {accent};
  --bs-btn-active-bg: {darker}; --bs-btn-active-border-color: {darker};
}}
.practice-themed .patient-header {{ background: {accent}; }}
.practice-themed .choice-tile input:checked + label,
.practice-themed .scale-option input:checked + label {{ border-color: {accent}; background: {tint}; }}
.practice-themed .choice-tile input:checked + label::before {{ background: {accent}; }}
.practice-themed .poster-practice, .practice-themed .report-title {{ color: {accent}; }}
"""


# --- Changing it -------------------------------------------------------------------------------------


def identity_save(*, accent: str, logo: PreparedLogo | None, remove_logo: bool, by: User) -> PracticeIdentity:
    """Keep the practice's accent (``""`` for the standard one) and, when given, its new logo;
    audited, and every page shows it from the next request."""
    with transaction.atomic():
        row, _created = PracticeIdentity.objects.select_for_update().get_or_create(
            pk=PracticeIdentity.SINGLETON
        )
        changes: dict[str, list[str]] = {}
        if row.accent != accent:
            changes["accent colour"] = [row.accent or "standard", accent or "standard"]
            row.accent = accent
        if logo is not None:
            digest = hashlib.sha256(logo.png).hexdigest()[:16]
            if digest != row.logo_digest:
                changes["logo"] = [
                    "set" if row.logo_digest else "none",
                    f"new, {logo.width} by {logo.height} px",
                ]
                row.logo, row.logo_digest = logo.png, digest
                row.logo_width, row.logo_height = logo.width, logo.height
        elif remove_logo and row.logo_digest:
            changes["logo"] = ["set", "none"]
            row.logo, row.logo_digest, row.logo_width, row.logo_height = b"", "", None, None
        if changes:
            row.updated_by = by
            row.save()
            log_action(row, Action.CHANGED, by, changes, label="the practice's logo and colour")
        forget(_CACHE_KEY)  # now, for this request's next read, and again once committed, for everyone's
        transaction.on_commit(partial(forget, _CACHE_KEY))
    return row
