"""A survey's results counted per local day and place, so the results page never scans every answer.

Written only by ``feedback.rollup`` (deleted and rewritten a whole day at a time, in one
transaction with the day's ``RollupDay``); read by ``feedback.results``. Nothing here is not
derivable from the responses, answers and theme mentions of that day.
"""

from __future__ import annotations

from django.db import models

from feedback.models.surveys import Question, Survey
from feedback.models.themes import Theme
from servicedesk.models import Location, Touchpoint


class RollupDay(models.Model):
    """Marks a local day as rolled up: its rows count the responses submitted from the day's local
    midnight up to ``counted_until`` (the end of the day, or a few minutes before the roll-up was
    built for a day still under way). The results page reads the rest of the day live."""

    day = models.DateField()
    counted_until = models.DateTimeField()
    built_at = models.DateTimeField()

    class Meta:
        constraints = [
            # Two rebuilds of one day at once: the second insert fails (and its transaction, with
            # every row it wrote for the day, rolls back) instead of doubling the day's counts.
            models.UniqueConstraint(fields=["day"], name="feedback_rollupday_once_per_day"),
        ]

    def __str__(self) -> str:
        return f"Results rolled up for {self.day} until {self.counted_until:%H:%M}"


class _DayAndPlace(models.Model):
    day = models.DateField()
    # Covered by the (survey, day) index below.
    survey = models.ForeignKey(Survey, on_delete=models.CASCADE, related_name="+", db_index=False)
    location = models.ForeignKey(Location, on_delete=models.CASCADE, null=True, related_name="+")
    touchpoint = models.ForeignKey(Touchpoint, on_delete=models.CASCADE, null=True, related_name="+")

    class Meta:
        abstract = True


class _Answers(models.Model):
    """Answers to one question counted per answer given: the number (``value``), the key picked
    (``choice``) or, for a multiple choice, the raw ``|a|b|`` keys."""

    question = models.ForeignKey(Question, on_delete=models.CASCADE, related_name="+")
    choice = models.CharField(max_length=64, blank=True)
    value = models.SmallIntegerField(null=True)
    choices = models.CharField(max_length=1000, blank=True)
    answers = models.PositiveIntegerField(default=0)

    class Meta:
        abstract = True


class ResultsDay(_DayAndPlace):
    """A survey's responses on one local day at one place: the totals at the top of the results page."""

    responses = models.PositiveIntegerField(default=0)
    negative = models.PositiveIntegerField(default=0)
    positive_text = models.PositiveIntegerField(default=0)
    negative_text = models.PositiveIntegerField(default=0)
    any_text = models.PositiveIntegerField(default=0)

    class Meta:
        indexes = [
            # The results page: one survey's days in its window.
            models.Index(fields=["survey", "day"], name="feedback_resultsday_survey"),
            # Rebuilding a day, and the sweep's check of responses per day.
            models.Index(fields=["day"], name="feedback_resultsday_day"),
        ]

    def __str__(self) -> str:
        return f"{self.responses} responses on {self.day}"


class AnswerDay(_DayAndPlace, _Answers):
    """Answers to one question on one local day at one place, counted per answer given."""

    class Meta:
        indexes = [
            # The results page: one survey's days in its window.
            models.Index(fields=["survey", "day"], name="feedback_answerday_survey"),
            # Rebuilding a day.
            models.Index(fields=["day"], name="feedback_answerday_day"),
        ]

    def __str__(self) -> str:
        return f"{self.answers} answers to question {self.question_id} on {self.day}"


class AnswerMonth(_DayAndPlace, _Answers):
    """A calendar month's ``AnswerDay`` rows summed (``day`` is the month's first day), rewritten in
    the transaction that rewrites any of its days: a results window of years reads a few hundred
    rows a month instead of a few hundred a day."""

    class Meta:
        indexes = [
            # The results page: one survey's whole months in its window.
            models.Index(fields=["survey", "day"], name="feedback_answermonth_survey"),
            # Rebuilding a month.
            models.Index(fields=["day"], name="feedback_answermonth_day"),
        ]

    def __str__(self) -> str:
        return f"{self.answers} answers to question {self.question_id} in {self.day:%B %Y}"


class ThemeDay(_DayAndPlace):
    """Responses whose comments mention a theme (a manager's removals left out), on one local day at
    one place, and of those the ones where a clause about it is negative."""

    theme = models.ForeignKey(Theme, on_delete=models.CASCADE, related_name="+")
    responses = models.PositiveIntegerField(default=0)
    negative = models.PositiveIntegerField(default=0)

    class Meta:
        indexes = [
            # The results page: one survey's days in its window.
            models.Index(fields=["survey", "day"], name="feedback_themeday_survey"),
            # Rebuilding a day.
            models.Index(fields=["day"], name="feedback_themeday_day"),
        ]

    def __str__(self) -> str:
        return f"{self.theme_id} in {self.responses} responses on {self.day}"
