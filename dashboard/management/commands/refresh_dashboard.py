from __future__ import annotations

from datetime import timedelta

from django.core.management.base import BaseCommand
from django.db.models import Max, Min
from django.utils import timezone

from dashboard.summaries import feedback_days_refresh, feedback_days_stale, patient_responses


class Command(BaseCommand):
    help = (
        "Recount the dashboard's daily feedback summaries now (the Celery sweep does this every few "
        "minutes). Without options: the days that changed. --all: every day that has feedback."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("--all", action="store_true", help="Recount every day from the first response.")

    def handle(self, *args, **options) -> None:
        now = timezone.now()
        if options["all"]:
            span = patient_responses().aggregate(first=Min("submitted_at"), last=Max("submitted_at"))
            if span["first"] is None:
                days = []
            else:
                first, last = (
                    timezone.localdate(span["first"]),
                    max(timezone.localdate(span["last"]), timezone.localdate(now)),
                )
                days = [first + timedelta(days=i) for i in range((last - first).days + 1)]
        else:
            days = feedback_days_stale(now=now)
        rebuilt = feedback_days_refresh(days=days, now=now)
        self.stdout.write(self.style.SUCCESS(f"Recounted the feedback summaries of {rebuilt} day(s)."))
