"""Demo two-factor devices for the demo manager and site manager, so ``make run`` stays usable.

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
DEMO_MANAGERS = ("manager", "sitemanager")  # the group's manager and Hillcrest Clinic's


def demo_key_hex() -> str:
    return b32decode(DEMO_TOTP_SECRET.replace(" ", "")).hex()


@transaction.atomic
def seed(*, options: dict, out: Callable[[str], None]) -> None:
    group_site_managers = User.objects.filter(username__startswith="site-").exclude(totpdevice__isnull=False)
    TOTPDevice.objects.bulk_create(  # seed_demo --group's site managers: one published key for them all
        TOTPDevice(user=manager, name=DEVICE_NAME, key=demo_key_hex(), confirmed=True)
        for manager in group_site_managers
    )
    for manager in User.objects.filter(username__in=DEMO_MANAGERS).order_by("username"):
        TOTPDevice.objects.update_or_create(
            user=manager, name=DEVICE_NAME, defaults={"key": demo_key_hex(), "confirmed": True}
        )
        out(
            f"Two-factor for {manager.username}: authenticator key {DEMO_TOTP_SECRET} "
            f"(or run: .venv/bin/python manage.py two_factor_code {manager.username})"
        )
