"""Two-factor authentication for managers: a TOTP authenticator app (django-otp).

Who must verify, and the helpers the views, the middleware, the demo and the tests share.
"""

from __future__ import annotations

import time
from base64 import b32encode

import qrcode
import qrcode.image.svg
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice

from servicedesk.models import User

DEVICE_NAME = "Authenticator app"


def needs_two_factor(user) -> bool:
    """Managers and superusers see patient data across the practice, and site managers give roles
    to their sites' people: they need a second factor."""
    return bool(user.is_authenticated and (user.is_superuser or user.is_manager or user.is_site_manager))


def has_confirmed_device(user: User) -> bool:
    return TOTPDevice.objects.filter(user=user, confirmed=True).exists()


def secret_for_humans(device: TOTPDevice) -> str:
    """The key in base32, in groups of four, for typing into an app that cannot scan."""
    secret = b32encode(device.bin_key).decode().rstrip("=")
    return " ".join(secret[i : i + 4] for i in range(0, len(secret), 4))


def qr_code_svg(device: TOTPDevice) -> str:
    """The device's otpauth:// URL as an SVG QR code (no image request, no inline script)."""
    image = qrcode.make(device.config_url, image_factory=qrcode.image.svg.SvgPathImage, box_size=10, border=2)
    return image.to_string(encoding="unicode")


def current_code(device: TOTPDevice, *, at: float | None = None, step_offset: int = 0) -> str:
    """The code an authenticator app shows now (for the demo command and the tests)."""
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    totp.time = (time.time() if at is None else at) + step_offset * device.step
    return f"{totp.token():0{device.digits}d}"
