from __future__ import annotations

from django.core.management.base import BaseCommand
from django.utils import timezone

from dashboard.comparison.summaries import site_days_all, site_days_refresh
from dashboard.summaries import feedback_days_all, feedback_days_refresh, feedback_days_stale


class Command(BaseCommand):
    help = (
        "Recount the dashboard's daily feedback summaries now (the Celery sweep does this every few "
        "minutes). Without options: the days that changed. --all: every day that has feedback."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("--all", action="store_true", help="Recount every day from the first response.")

    def handle(self, *args, **options) -> None:
        now = timezone.now()
        days = feedback_days_all(now=now) if options["all"] else feedback_days_stale(now=now)
        rebuilt = feedback_days_refresh(days=days, now=now)
        self.stdout.write(self.style.SUCCESS(f"Recounted the feedback summaries of {rebuilt} day(s)."))
        if options["all"]:
            days = sorted(set(days) | set(site_days_all(today=timezone.localdate(now))))
        sites = site_days_refresh(days=days, now=now)
        self.stdout.write(self.style.SUCCESS(f"Recounted the per-site summaries of {sites} day(s)."))
