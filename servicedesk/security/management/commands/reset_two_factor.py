from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError
from django_otp.plugins.otp_totp.models import TOTPDevice

from servicedesk.models import User


class Command(BaseCommand):
    help = (
        "Remove a manager's authenticator (a lost or replaced phone). "
        "They set up a new one at their next login."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("username")

    def handle(self, *args, username: str, **options) -> None:
        user = User.objects.filter(username=username).first()
        if user is None:
            raise CommandError(f"No account is called {username!r}.")
        removed, _ = TOTPDevice.objects.filter(user=user).delete()
        self.stdout.write(
            f"Removed {removed} authenticator(s) for {username}. "
            "They will be asked to set one up at their next login."
        )
