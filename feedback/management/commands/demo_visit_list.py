"""Print a demo visit list (CSV) for today's visits at the practice's locations.

    python manage.py demo_visit_list > visits.csv

Upload it at /feedback/invitations/import/ to try the invitation journey end to end; the
console email and SMS backends show the messages the worker sends.
"""

from __future__ import annotations

import csv
import random
from datetime import timedelta

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from servicedesk.models import Location

FIRST_NAMES = [
    "Ana",
    "Tom",
    "Priya",
    "Grace",
    "Luis",
    "Sam",
    "Mohammed",
    "Eve",
    "Noah",
    "Mia",
    "Jordan",
    "Alex",
]


class Command(BaseCommand):
    help = "Print a demo visit list (CSV) of today's visits, to upload on the invitations page."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--rows", type=int, default=12, help="How many visits (default 12).")

    def handle(self, *args, **options) -> None:
        locations = list(Location.objects.active().values_list("name", flat=True))
        if not locations:
            raise CommandError("No locations yet: run seed_demo first.")
        rng = random.Random()  # noqa: S311 — demo data
        stamp = timezone.localtime().strftime("%Y%m%d%H%M")
        writer = csv.writer(self.stdout, lineterminator="\n")
        writer.writerow(["first name", "email", "mobile", "visit", "location", "language", "visit id"])
        start = timezone.localtime().replace(minute=0, second=0, microsecond=0) - timedelta(hours=4)
        for n in range(options["rows"]):
            name = rng.choice(FIRST_NAMES)
            by_sms = n % 3 == 2
            email = "" if by_sms else f"{name.lower()}.{stamp}.{n}@example.org"
            mobile = f"07700 9{rng.randint(0, 99999):05d}" if by_sms else ""
            visit = start + timedelta(minutes=15 * n)
            language = "es" if n % 5 == 4 else "en"
            writer.writerow(
                [
                    name,
                    email,
                    mobile,
                    visit.strftime("%Y-%m-%d %H:%M"),
                    locations[n % len(locations)],
                    language,
                    f"DEMO-CSV-{stamp}-{n:03d}",
                ]
            )
