"""Demo two-factor device for the demo manager, so ``make run`` stays usable.

The secret is published here and in the README: it is as public as the demo password, and
like it exists only in demo data (seed_demo refuses to run in production without --force).
Add it to any authenticator app, or print the current code with
``python manage.py two_factor_code manager``.
"""

from __future__ import annotations

from base64 import b32decode
from collections.abc import Callable

from django.db import transaction
from django_otp.plugins.otp_totp.models import TOTPDevice

from servicedesk.models import User
from servicedesk.security.twofactor import DEVICE_NAME

DEMO_TOTP_SECRET = "SERV ICED ESKD EMOM ANAG ERTO TPSE CRET"  # noqa: S105 - demo only, published on purpose
DEMO_MANAGER = "manager"


def demo_key_hex() -> str:
    return b32decode(DEMO_TOTP_SECRET.replace(" ", "")).hex()


@transaction.atomic
def seed(*, options: dict, out: Callable[[str], None]) -> None:
    manager = User.objects.filter(username=DEMO_MANAGER).first()
    if manager is None:
        return
    TOTPDevice.objects.update_or_create(
        user=manager, name=DEVICE_NAME, defaults={"key": demo_key_hex(), "confirmed": True}
    )
    out(
        f"Two-factor for {DEMO_MANAGER}: authenticator key {DEMO_TOTP_SECRET} "
        f"(or run: .venv/bin/python manage.py two_factor_code {DEMO_MANAGER})"
    )
