"""Moving the summary and digest tables from the core to the dashboard app keeps every row."""

from __future__ import annotations

from datetime import date

import pytest
from django.utils import timezone

from tests.migrating import migrate, migrate_to_latest

BEFORE = [("dashboard", None), ("servicedesk", "0005_closed_days")]
# The schema the rows are written in: the core as it was, with the apps its tables point at.
OLD_STATE = [
    ("servicedesk", "0005_closed_days"),
    ("feedback", "0007_negative_latest_index"),
    ("design", "0001_initial"),
    ("contenttypes", "0002_remove_content_type_name"),
]


@pytest.mark.django_db(transaction=True)
def test_rows_written_under_the_old_schema_are_read_through_the_dashboard_models():
    old = migrate(BEFORE, state=OLD_STATE)
    Location = old.get_model("servicedesk", "Location")
    User = old.get_model("servicedesk", "User")
    Theme = old.get_model("feedback", "Theme")
    OldDay = old.get_model("servicedesk", "FeedbackDay")
    OldThemeDay = old.get_model("servicedesk", "FeedbackThemeDay")
    OldDigest = old.get_model("servicedesk", "DigestDelivery")
    ContentType = old.get_model("contenttypes", "ContentType")
    ContentType.objects.get_or_create(app_label="servicedesk", model="feedbackday")

    now = timezone.now()
    site = Location.objects.create(name="Riverside (migration test)")
    theme = Theme.objects.create(name="Waiting times (migration test)", keywords="wait")
    manager = User.objects.create(username="migrating-manager")
    OldDay.objects.create(day=date(2026, 11, 2), location=site, responses=7, fft_good=5, refreshed_at=now)
    OldDay.objects.create(day=date(2026, 11, 3), responses=3, negative=1, refreshed_at=now)
    OldThemeDay.objects.create(day=date(2026, 11, 2), theme=theme, mentions=4, negative_mentions=2)
    OldDigest.objects.create(week_of=date(2026, 11, 2), recipient=manager, sent_at=now)

    migrate_to_latest()

    from django.contrib.contenttypes.models import ContentType as LiveContentType

    from dashboard.models import DigestDelivery, FeedbackDay, FeedbackThemeDay

    days = FeedbackDay.objects.order_by("day")
    assert [(d.day, d.location_id, d.responses, d.fft_good, d.negative) for d in days] == [
        (date(2026, 11, 2), site.pk, 7, 5, 0),
        (date(2026, 11, 3), None, 3, 0, 1),
    ]
    theme_day = FeedbackThemeDay.objects.get()
    assert (theme_day.theme_id, theme_day.mentions, theme_day.negative_mentions) == (theme.pk, 4, 2)
    assert DigestDelivery.objects.get().recipient_id == manager.pk
    # Content types followed the model, so permissions and admin history stay attached to it.
    assert LiveContentType.objects.filter(app_label="dashboard", model="feedbackday").exists()
    assert not LiveContentType.objects.filter(app_label="servicedesk", model="feedbackday").exists()
