"""What the dashboard does when a pillar says something changed: keep its summaries true."""

from __future__ import annotations

from django.utils import timezone

from dashboard.summaries import feedback_days_refresh
from feedback.models import Response
from feedback.signals import response_themes_changed


def on_response_themes_changed(sender: object, *, response_id: int, **kwargs: object) -> None:
    """A manager corrected a comment's themes: recount its day (a few grouped queries), however long
    ago it was (the sweep rechecks only recent days, and by responses per day)."""
    submitted_at = Response.objects.filter(pk=response_id).values_list("submitted_at", flat=True).first()
    if submitted_at is not None:
        feedback_days_refresh(days=[timezone.localdate(submitted_at)])


def connect() -> None:
    response_themes_changed.connect(
        on_response_themes_changed, dispatch_uid="dashboard.response_themes_changed"
    )
