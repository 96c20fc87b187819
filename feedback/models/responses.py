"""Patients' (and staff) responses and their answers."""

from __future__ import annotations

from datetime import datetime

from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from feedback.models.invitations import Invitation
from feedback.models.surveys import LANGUAGES, Question, Survey
from feedback.models.themes import Theme
from servicedesk.models import Location, Touchpoint

# --- Responses and answers ------------------------------------------------------------------------


class ResponseQuerySet(models.QuerySet):
    def negative(self) -> ResponseQuerySet:
        return self.filter(is_negative=True)

    def in_period(self, start: datetime, end: datetime) -> ResponseQuerySet:
        return self.filter(submitted_at__gte=start, submitted_at__lt=end)


class Response(models.Model):
    """One completed form. Staff pulse responses carry nothing that points back to the person."""

    class Channel(models.TextChoices):
        LINK = "link", _("Invitation link")
        KIOSK = "kiosk", _("Waiting-room kiosk")
        QR = "qr", _("QR poster")
        STAFF = "staff", _("Staff pulse")

    class Sentiment(models.TextChoices):
        POSITIVE = "positive", _("Positive")
        NEUTRAL = "neutral", _("Neutral")
        NEGATIVE = "negative", _("Negative")

    # VADER's conventional cut-offs for its compound score.
    POSITIVE_FROM = 0.05
    NEGATIVE_TO = -0.05

    survey = models.ForeignKey(Survey, on_delete=models.PROTECT, related_name="responses")
    # One response per invitation: response_submit claims the invitation with a conditional UPDATE
    # first (of two posts racing, the second waits on the row and finds it completed). A unique
    # constraint cannot say it: on PostgreSQL the responses are partitioned by month (issue 19),
    # and a partitioned table's unique keys must hold the month.
    invitation = models.ForeignKey(
        Invitation, on_delete=models.SET_NULL, null=True, blank=True, related_name="responses"
    )
    channel = models.CharField(_("channel"), max_length=10, choices=Channel)
    language = models.CharField(_("language"), max_length=5, choices=LANGUAGES, default="en")
    location = models.ForeignKey(
        Location, on_delete=models.PROTECT, null=True, blank=True, related_name="feedback_responses"
    )
    touchpoint = models.ForeignKey(
        Touchpoint, on_delete=models.PROTECT, null=True, blank=True, related_name="feedback_responses"
    )
    need_profile = models.ForeignKey(
        "design.PatientNeedProfile",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="feedback_responses",
        verbose_name=_("patient need profile"),
    )
    submitted_at = models.DateTimeField(_("submitted"), default=timezone.now)
    consent_to_contact = models.BooleanField(_("agreed to be contacted"), default=False)
    contact_name = models.CharField(_("name"), max_length=120, blank=True)
    contact_phone = models.CharField(_("phone"), max_length=32, blank=True)
    contact_email = models.EmailField(_("email"), blank=True)
    # Most negative VADER compound score among the text answers; None when there was no text.
    sentiment = models.FloatField(_("sentiment"), null=True, blank=True)
    is_negative = models.BooleanField(_("negative"), default=False)
    negative_reasons = models.JSONField(_("why negative"), default=list, blank=True)
    # No database constraints on what points at a response (answers, theme mentions, these tags,
    # Incident.source_response): on PostgreSQL the responses are partitioned by the month of
    # ``submitted_at`` and its primary key is (id, submitted_at), which a foreign key would have to
    # name whole. Ids still come from one sequence, so ``id`` alone stays unique; the writers keep
    # the references true (a response is written with its answers, mentions and tags in one
    # transaction, Django's on_delete runs on delete, and the retention sweep clears the
    # references to a month before it drops it).
    themes = models.ManyToManyField(Theme, blank=True, related_name="responses", db_constraint=False)

    objects = ResponseQuerySet.as_manager()

    class Meta:
        ordering = ["-submitted_at", "-pk"]
        indexes = [
            # Results, metrics and the responses list: one survey's responses in a date range.
            models.Index(fields=["survey", "submitted_at"], name="response_survey_submitted"),
            # The results page's cache key: the survey's newest response id (a back-dated one too).
            models.Index(fields=["survey", "id"], name="response_survey_latest"),
            # Metrics across surveys by period (dashboard, goals).
            models.Index(fields=["submitted_at"], name="response_submitted"),
            # The dashboard's attention list and example comments: the latest negative responses,
            # read backwards in the lists' own order (newest first, ties by id), so the first few
            # rows cost the same however many arrived this week.
            models.Index(
                fields=["submitted_at", "id"], condition=Q(is_negative=True), name="response_negative_latest"
            ),
        ]
        constraints = [
            # Contact details exist only with consent (data minimisation).
            models.CheckConstraint(
                condition=Q(consent_to_contact=True) | Q(contact_name="", contact_phone="", contact_email=""),
                name="response_contact_only_with_consent",
                violation_error_message=_(
                    "Contact details are kept only when the patient agrees to be contacted."
                ),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.survey} · {self.submitted_at:%Y-%m-%d %H:%M}"

    @classmethod
    def sentiment_label(cls, score: float | None) -> str | None:
        if score is None:
            return None
        if score >= cls.POSITIVE_FROM:
            return cls.Sentiment.POSITIVE
        if score <= cls.NEGATIVE_TO:
            return cls.Sentiment.NEGATIVE
        return cls.Sentiment.NEUTRAL

    @property
    def has_contact(self) -> bool:
        return self.consent_to_contact and bool(self.contact_phone or self.contact_email)


class AnswerQuerySet(models.QuerySet):
    def in_period(self, start: datetime | None, end: datetime | None) -> AnswerQuerySet:
        """Answers given in [start, end) (None: open on that side), bounded on the answer's own
        moment and its response's: on PostgreSQL both tables are partitioned by month, and a
        query joining them reads only the months asked for of each (the two moments are equal)."""
        return self.filter(submitted_between(start, end), submitted_between(start, end, prefix="response__"))


def submitted_between(start: datetime | None, end: datetime | None, *, prefix: str = "") -> Q:
    bounds = {f"{prefix}submitted_at__gte": start, f"{prefix}submitted_at__lt": end}
    return Q(**{name: moment for name, moment in bounds.items() if moment is not None})


class Answer(models.Model):
    """One question's answer. ``value`` is the number (FFT 5..1, NPS, rating, yes=1/no=0),
    ``choice`` the key picked (FFT, yes/no, single choice), ``choices`` the keys of a multiple
    choice as ``|a|b|`` (so SQL can count each option portably), ``text`` free text."""

    # FFT answers, best first, with the number stored in ``value`` (None for "don't know").
    FFT_CHOICES = (
        ("very_good", _("Very good"), 5),
        ("good", _("Good"), 4),
        ("neither", _("Neither good nor poor"), 3),
        ("poor", _("Poor"), 2),
        ("very_poor", _("Very poor"), 1),
        ("dont_know", _("Don't know"), None),
    )
    FFT_POSITIVE = ("very_good", "good")
    FFT_NEGATIVE = ("poor", "very_poor")

    response = models.ForeignKey(
        Response, on_delete=models.CASCADE, db_constraint=False, related_name="answers"
    )
    question = models.ForeignKey(Question, on_delete=models.PROTECT, related_name="answers")
    value = models.SmallIntegerField(null=True, blank=True)
    choice = models.CharField(max_length=64, blank=True)
    choices = models.CharField(max_length=1000, blank=True)
    text = models.TextField(blank=True)
    sentiment = models.FloatField(null=True, blank=True)
    # The response's moment, copied when the answer is written (a response is never re-dated):
    # on PostgreSQL the answers are partitioned by its month (issue 19), and the hot queries filter
    # on it so that only the months asked for are read. The database's primary key is
    # (id, submitted_at); ids still come from one sequence, so ``id`` alone stays unique.
    submitted_at = models.DateTimeField(_("submitted"))

    objects = AnswerQuerySet.as_manager()

    class Meta:
        constraints = [
            # A partitioned table's unique keys must hold its partition key; a response's answers
            # share its moment, so this is still one answer per question per response.
            models.UniqueConstraint(
                fields=["response", "question", "submitted_at"], name="answer_one_per_question"
            ),
        ]
        indexes = [
            # Per-question distributions on the results page: GROUP BY value/choice for one question.
            models.Index(fields=["question", "value"], name="answer_question_value"),
            models.Index(fields=["question", "choice"], name="answer_question_choice"),
            # The roll-up's day, the dashboard's periods and the results page's dates: within the
            # month's partition, only the days asked for (PostgreSQL has pruned the other months).
            models.Index(fields=["submitted_at"], name="answer_submitted"),
        ]

    def __str__(self) -> str:
        return f"{self.question}: {self.display()}"

    @staticmethod
    def encode_choices(values: list[str]) -> str:
        return f"|{'|'.join(values)}|" if values else ""

    @property
    def selected(self) -> list[str]:
        return [v for v in self.choices.split("|") if v]

    @property
    def fft_label(self) -> str:
        """The FFT answer's words, from the stored key alone (no query for the question)."""
        return str({k: label for k, label, _n in self.FFT_CHOICES}.get(self.choice, ""))

    def display(self) -> str:
        question = self.question
        if question.kind == Question.Kind.FFT:
            return self.fft_label
        if question.kind == Question.Kind.YES_NO:
            return str(_("Yes") if self.value == 1 else _("No"))
        if question.kind in (Question.Kind.NPS, Question.Kind.RATING):
            return "" if self.value is None else str(self.value)
        if question.kind in Question.CHOICE_KINDS:
            labels = {c["value"]: c["label"] for c in question.choices}
            picked = [self.choice] if self.choice else self.selected
            return ", ".join(labels.get(v, v) for v in picked)
        return self.text


class ThemeMention(models.Model):
    """A theme one comment mentions, with the clause that mentions it and that clause's sentiment.

    Tagging per comment and per clause (not per response) is what keeps "Friendly receptionist
    sorted out my prescription" out of the negative examples of Staff attitude. The clause is kept
    as a span of the answer's text, not a copy: erasing the comment erases it too.
    """

    class Source(models.TextChoices):
        KEYWORDS = "keywords", _("Found by its keywords")
        MANAGER = "manager", _("Set by a manager")

    # No database constraint: PostgreSQL's foreign keys must name a partitioned table's whole unique
    # key (id, submitted_at). Integrity rests on the writers: mentions are written with their answer
    # in one transaction (response_submit), Django's CASCADE deletes them with it, and the retention
    # sweep deletes a month's mentions before it drops the month's answers.
    answer = models.ForeignKey(
        Answer, on_delete=models.CASCADE, db_constraint=False, related_name="theme_mentions"
    )
    response = models.ForeignKey(
        Response, on_delete=models.CASCADE, db_constraint=False, related_name="theme_mentions"
    )
    theme = models.ForeignKey(Theme, on_delete=models.CASCADE, related_name="mentions")
    start = models.PositiveIntegerField(default=0)
    end = models.PositiveIntegerField(default=0)
    sentiment = models.FloatField(null=True, blank=True)
    is_negative = models.BooleanField(default=False)
    # A manager's correction is kept through any re-tagging: only keyword mentions are redone.
    source = models.CharField(max_length=10, choices=Source, default=Source.KEYWORDS)
    removed = models.BooleanField(default=False)  # a manager said the comment is not about it

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["answer", "theme"], name="feedback_mention_once_per_comment"),
        ]
        indexes = [
            # The dashboard's examples: the latest negative mentions of a few themes.
            models.Index(fields=["theme", "is_negative", "response"], name="feedback_mention_negative"),
        ]

    def __str__(self) -> str:
        return f"{self.theme} in answer {self.answer_id}"

    @property
    def clause(self) -> str:
        return self.answer.text[self.start : self.end]
