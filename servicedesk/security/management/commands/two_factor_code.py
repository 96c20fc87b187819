from __future__ import annotations

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django_otp.plugins.otp_totp.models import TOTPDevice

from servicedesk.security.twofactor import current_code


class Command(BaseCommand):
    help = "Development only: print the current two-factor code of a user (e.g. the demo manager)."

    def add_arguments(self, parser) -> None:
        parser.add_argument("username")

    def handle(self, *args, username: str, **options) -> None:
        if not settings.DEBUG:
            raise CommandError("two_factor_code works only in development (DEBUG=1): it defeats two-factor.")
        device = TOTPDevice.objects.filter(user__username=username, confirmed=True).first()
        if device is None:
            raise CommandError(f"{username} has no confirmed authenticator.")
        self.stdout.write(current_code(device))
