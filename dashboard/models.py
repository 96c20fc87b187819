"""The dashboard's own tables: daily feedback summaries and the weekly digest's claims.

The dashboard sits above every pillar (DESIGN.md). Its tables hold nothing that is not derivable
from the pillars' tables; they were created by the core's migrations before this app existed and
keep their names (``db_table``), so moving them here moved no row.
"""

from __future__ import annotations

from django.db import models
from django.db.models.functions import Coalesce


class FeedbackAnswerCounts(models.Model):
    """FFT answers in the six standard categories and NPS answers 9-10, 7-8 and 0-6: the counts every
    feedback summary keeps (per day and place, per site a day, per site a month)."""

    fft_very_good = models.PositiveIntegerField(default=0)
    fft_good = models.PositiveIntegerField(default=0)
    fft_neither = models.PositiveIntegerField(default=0)
    fft_poor = models.PositiveIntegerField(default=0)
    fft_very_poor = models.PositiveIntegerField(default=0)
    fft_dont_know = models.PositiveIntegerField(default=0)
    nps_promoters = models.PositiveIntegerField(default=0)
    nps_passives = models.PositiveIntegerField(default=0)
    nps_detractors = models.PositiveIntegerField(default=0)

    FEEDBACK_FIELDS = (
        "fft_very_good", "fft_good", "fft_neither", "fft_poor", "fft_very_poor", "fft_dont_know",
        "nps_promoters", "nps_passives", "nps_detractors",
    )  # fmt: skip

    class Meta:
        abstract = True


class FeedbackDay(FeedbackAnswerCounts):
    """Patient feedback counted per local day and place, so the dashboard never scans every answer.

    Rebuilt per day by ``dashboard.summaries.feedback_days_refresh`` (a Celery sweep every few
    minutes keeps today and yesterday fresh and rebuilds any earlier day whose response count no
    longer matches). Counts follow the feedback pillar's definitions: FFT counts are answers in the
    six standard categories, NPS counts are answers 9-10, 7-8 and 0-6. Invitations are counted
    on the day of the visit they were about.
    """

    day = models.DateField()
    location = models.ForeignKey(
        "servicedesk.Location", on_delete=models.CASCADE, null=True, related_name="+"
    )
    touchpoint = models.ForeignKey(
        "servicedesk.Touchpoint", on_delete=models.CASCADE, null=True, related_name="+"
    )
    need_profile = models.ForeignKey(
        "design.PatientNeedProfile", on_delete=models.CASCADE, null=True, related_name="+"
    )
    responses = models.PositiveIntegerField(default=0)
    negative = models.PositiveIntegerField(default=0)
    invitations_delivered = models.PositiveIntegerField(default=0)
    invitations_answered = models.PositiveIntegerField(default=0)
    refreshed_at = models.DateTimeField()

    class Meta:
        db_table = "servicedesk_feedbackday"  # the core made it; kept
        constraints = [
            # Two refreshes of the same day at once: the second insert fails instead of doubling counts.
            models.UniqueConstraint(
                "day",
                Coalesce("location", models.Value(0)),
                Coalesce("touchpoint", models.Value(0)),
                Coalesce("need_profile", models.Value(0)),
                name="feedbackday_one_row_per_day_and_place",
            ),
        ]
        indexes = [
            # Every dashboard feedback figure: the days of the period (then filtered by place).
            models.Index(fields=["day"], name="feedbackday_day"),
            # The dashboard's location, touchpoint and need-profile filters within a period.
            models.Index(fields=["location", "day"], name="feedbackday_location_day"),
            models.Index(fields=["touchpoint", "day"], name="feedbackday_touchpoint_day"),
            models.Index(fields=["need_profile", "day"], name="feedbackday_profile_day"),
        ]

    def __str__(self) -> str:
        return f"Feedback on {self.day}: {self.responses} responses"


class FeedbackThemeDay(models.Model):
    """How many patient responses mentioned a theme, per local day and place (negative ones apart)."""

    day = models.DateField()
    theme = models.ForeignKey("feedback.Theme", on_delete=models.CASCADE, related_name="+")
    location = models.ForeignKey(
        "servicedesk.Location", on_delete=models.CASCADE, null=True, related_name="+"
    )
    touchpoint = models.ForeignKey(
        "servicedesk.Touchpoint", on_delete=models.CASCADE, null=True, related_name="+"
    )
    need_profile = models.ForeignKey(
        "design.PatientNeedProfile", on_delete=models.CASCADE, null=True, related_name="+"
    )
    mentions = models.PositiveIntegerField(default=0)
    negative_mentions = models.PositiveIntegerField(default=0)

    class Meta:
        db_table = "servicedesk_feedbackthemeday"  # the core made it; kept
        constraints = [
            models.UniqueConstraint(
                "day",
                "theme",
                Coalesce("location", models.Value(0)),
                Coalesce("touchpoint", models.Value(0)),
                Coalesce("need_profile", models.Value(0)),
                name="feedbackthemeday_one_row_per_day_theme_and_place",
            ),
        ]
        indexes = [
            # The dashboard's top themes in negative comments: the days of the period.
            models.Index(fields=["day", "theme"], name="feedbackthemeday_day_theme"),
        ]

    def __str__(self) -> str:
        return f"{self.theme} on {self.day}: {self.negative_mentions} negative"


class DigestDelivery(models.Model):
    """Claims the weekly digest for one manager and one week: the row exists once, so the email does."""

    week_of = models.DateField(help_text="The Monday of the week the digest is about.")
    recipient = models.ForeignKey("servicedesk.User", on_delete=models.CASCADE, related_name="+")
    sent_at = models.DateTimeField()

    class Meta:
        db_table = "servicedesk_digestdelivery"  # the core made it; kept
        constraints = [
            models.UniqueConstraint(fields=["week_of", "recipient"], name="digest_once_per_week_and_manager"),
        ]

    def __str__(self) -> str:
        return f"Digest for the week of {self.week_of} to {self.recipient}"


class SiteDay(FeedbackAnswerCounts):
    """Every figure the group compares its sites on, per local day and site: FFT and NPS answers,
    incidents, checklist runs and goals. The group page sums these rows (and ``SiteMonth``'s), never
    the history — one row a site a day, where ``FeedbackDay`` has one per touchpoint and patient
    group (a dozen a site a day in a group of 200 sites).

    Rebuilt per day by ``dashboard.comparison.summaries.site_days_refresh`` in the same sweep as the
    feedback summaries, after them: the FFT and NPS counts are ``FeedbackDay``'s summed per site;
    each pillar counts its own tables for the rest (``<pillar>.site_days``).
    """

    day = models.DateField()
    location = models.ForeignKey("servicedesk.Location", on_delete=models.CASCADE, related_name="+")
    incidents_opened = models.PositiveIntegerField(default=0)
    incidents_responded = models.PositiveIntegerField(default=0, help_text="Acknowledged that day.")
    response_seconds = models.FloatField(default=0, help_text="Sum of logging → acknowledgement, seconds.")
    response_seconds_squared = models.FloatField(
        default=0, help_text="Sum of their squares (for the spread)."
    )
    incidents_resolved = models.PositiveIntegerField(default=0)
    resolved_within_sla = models.PositiveIntegerField(default=0)
    recovery_answered = models.PositiveIntegerField(default=0, help_text='Answers to "Did we put it right?".')
    recovery_succeeded = models.PositiveIntegerField(default=0)
    checks_completed = models.PositiveIntegerField(default=0, help_text="Periodic runs due that day.")
    checks_missed = models.PositiveIntegerField(default=0)
    goal_days_measured = models.PositiveIntegerField(
        default=0, help_text="The site's goals measured that day."
    )
    goal_days_met = models.PositiveIntegerField(default=0)
    refreshed_at = models.DateTimeField()

    class Meta:
        constraints = [
            # Two refreshes of the same day at once: the second insert fails instead of doubling counts.
            models.UniqueConstraint(fields=["day", "location"], name="siteday_one_row_per_day_and_site"),
        ]
        # The unique constraint's index (day, location) serves the comparison page: a period's days.

    def __str__(self) -> str:
        return f"{self.location_id} on {self.day}"


class SiteMonth(FeedbackAnswerCounts):
    """One site's comparison figures for one calendar month: its ``SiteDay`` rows summed, so the
    comparison over 12 months reads a dozen rows a site where it read 365
    (``dashboard.comparison.months``).

    Derived, like the daily rows: a month is rebuilt from its days whenever ``site_days_refresh``
    rebuilds one of them.
    """

    month = models.DateField(help_text="The month's first day.")
    location = models.ForeignKey("servicedesk.Location", on_delete=models.CASCADE, related_name="+")
    incidents_responded = models.PositiveIntegerField(default=0)
    response_seconds = models.FloatField(default=0)
    response_seconds_squared = models.FloatField(default=0)
    recovery_answered = models.PositiveIntegerField(default=0)
    recovery_succeeded = models.PositiveIntegerField(default=0)
    checks_completed = models.PositiveIntegerField(default=0)
    checks_missed = models.PositiveIntegerField(default=0)
    goal_days_measured = models.PositiveIntegerField(default=0)
    goal_days_met = models.PositiveIntegerField(default=0)
    refreshed_at = models.DateTimeField()

    SITE_FIELDS = (
        "incidents_responded", "response_seconds", "response_seconds_squared", "recovery_answered",
        "recovery_succeeded", "checks_completed", "checks_missed", "goal_days_measured", "goal_days_met",
    )  # fmt: skip
    FIELDS = FeedbackAnswerCounts.FEEDBACK_FIELDS + SITE_FIELDS

    class Meta:
        constraints = [
            # The unique index (month, location) also serves the comparison: a period's months.
            models.UniqueConstraint(
                fields=["month", "location"], name="sitemonth_one_row_per_month_and_site"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.location_id} in {self.month:%Y-%m}"
