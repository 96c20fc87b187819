"""Surveys, their questions, patients' responses and answers, themes and invitations.

Survey texts are stored per language on the rows themselves (``title`` / ``title_es``,
``text`` / ``text_es`` ...): a manager edits them in the builder, so they cannot live in
gettext catalogues. ``localized(obj, "text", language)`` picks the right one, falling back
to English when a translation is missing.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from datetime import datetime

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.crypto import constant_time_compare
from django.utils.translation import gettext_lazy as _

from servicedesk.models import Location, TimeStamped, Touchpoint

LANGUAGES = (("en", "English"), ("es", "Español"))
LANGUAGE_CODES = tuple(code for code, _name in LANGUAGES)


def localized(obj: object, field: str, language: str) -> str:
    """``obj.<field>_<language>`` when filled in, else the English ``obj.<field>``."""
    if language != "en":
        value = getattr(obj, f"{field}_{language}", "")
        if value:
            return value
    return getattr(obj, field)


def default_languages() -> list[str]:
    return list(LANGUAGE_CODES)


# --- Surveys and questions ------------------------------------------------------------------


class SurveyQuerySet(models.QuerySet):
    def active(self) -> SurveyQuerySet:
        return self.filter(is_active=True)

    def for_patients(self) -> SurveyQuerySet:
        return self.filter(audience=Survey.Audience.PATIENT)

    def staff_pulses(self) -> SurveyQuerySet:
        return self.filter(audience=Survey.Audience.STAFF)


class Survey(TimeStamped):
    class Audience(models.TextChoices):
        PATIENT = "patient", _("Patients")
        STAFF = "staff", _("Staff (anonymous pulse)")

    title = models.CharField(_("title"), max_length=160)
    title_es = models.CharField(_("title (Spanish)"), max_length=160, blank=True)
    slug = models.SlugField(
        _("short address"),
        max_length=60,
        unique=True,
        help_text=_("Used in the kiosk and QR address: /k/<short address>/. Letters, digits and hyphens."),
    )
    audience = models.CharField(_("who answers"), max_length=10, choices=Audience, default=Audience.PATIENT)
    is_anonymous = models.BooleanField(
        _("anonymous"),
        default=True,
        help_text=_("Anonymous surveys never ask for contact details and never link an answer to a person."),
    )
    languages = models.JSONField(_("languages"), default=default_languages)
    intro = models.TextField(_("introduction"), blank=True)
    intro_es = models.TextField(_("introduction (Spanish)"), blank=True)
    thanks = models.TextField(_("thank-you message"), blank=True)
    thanks_es = models.TextField(_("thank-you message (Spanish)"), blank=True)
    location = models.ForeignKey(
        Location,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="surveys",
        help_text=_("Where kiosk and QR answers come from, unless the poster names a touchpoint."),
    )
    touchpoint = models.ForeignKey(
        Touchpoint,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="surveys",
        help_text=_("The touchpoint kiosk and QR answers are about, unless the poster names another."),
    )
    # Negative rules: a response matching any enabled rule is negative and may open an incident.
    negative_fft = models.BooleanField(_("FFT poor or very poor is negative"), default=True)
    negative_nps_max = models.PositiveSmallIntegerField(
        _("NPS at or below is negative"), null=True, blank=True, default=6
    )
    negative_rating_max = models.PositiveSmallIntegerField(
        _("rating at or below is negative"), null=True, blank=True, default=2
    )
    negative_sentiment_max = models.FloatField(
        _("text sentiment at or below is negative"),
        null=True,
        blank=True,
        default=-0.5,
        help_text=_(
            "From -1 (very negative) to +1. -0.5 catches clearly upset comments; leave empty to ignore."
        ),
    )
    contact_within_days = models.PositiveSmallIntegerField(
        _("we contact unhappy patients within (working days)"),
        default=2,
        help_text=_("Shown on the thank-you page after a negative answer with consent to be contacted."),
    )
    is_active = models.BooleanField(_("active"), default=False)

    objects = SurveyQuerySet.as_manager()

    class Meta:
        ordering = ["title"]
        constraints = [
            models.CheckConstraint(
                condition=Q(negative_nps_max__isnull=True) | Q(negative_nps_max__lte=10),
                name="survey_negative_nps_max_in_scale",
            ),
            models.CheckConstraint(
                condition=Q(negative_rating_max__isnull=True) | Q(negative_rating_max__lte=5),
                name="survey_negative_rating_max_in_scale",
            ),
            models.CheckConstraint(
                condition=Q(negative_sentiment_max__isnull=True)
                | Q(negative_sentiment_max__gte=-1, negative_sentiment_max__lte=1),
                name="survey_negative_sentiment_max_in_range",
            ),
        ]

    def __str__(self) -> str:
        return self.title

    @property
    def asks_for_contact(self) -> bool:
        return self.audience == self.Audience.PATIENT and not self.is_anonymous

    def offers(self, language: str) -> bool:
        return language in self.languages

    def clean(self) -> None:
        unknown = set(self.languages or []) - set(LANGUAGE_CODES)
        if unknown or not self.languages or "en" not in self.languages:
            raise ValidationError({"languages": _("Choose English and, if you wish, Spanish.")})
        if self.audience == self.Audience.STAFF and not self.is_anonymous:
            raise ValidationError({"is_anonymous": _("A staff pulse is always anonymous.")})


class QuestionQuerySet(models.QuerySet):
    def live(self) -> QuestionQuerySet:
        """The questions a patient sees now, in order (archived ones keep their answers, hidden)."""
        return self.filter(archived_at__isnull=True).order_by("position", "pk")


class Question(TimeStamped):
    class Kind(models.TextChoices):
        FFT = "fft", _("Friends and Family Test (6 answers)")
        NPS = "nps", _("Likelihood to recommend, 0 to 10")
        RATING = "rating", _("Rating, 1 to 5")
        YES_NO = "yes_no", _("Yes / no")
        SINGLE_CHOICE = "single_choice", _("One choice from a list")
        MULTI_CHOICE = "multi_choice", _("Any choices from a list")
        TEXT = "text", _("Free text")

    SCALE_KINDS = frozenset({Kind.FFT, Kind.NPS, Kind.RATING, Kind.YES_NO})
    CHOICE_KINDS = frozenset({Kind.SINGLE_CHOICE, Kind.MULTI_CHOICE})
    # Kinds whose answer has a number, so later questions can depend on it.
    NUMERIC_KINDS = frozenset({Kind.FFT, Kind.NPS, Kind.RATING, Kind.YES_NO})

    survey = models.ForeignKey(Survey, on_delete=models.CASCADE, related_name="questions")
    position = models.PositiveSmallIntegerField(_("position"), default=0)
    kind = models.CharField(_("kind"), max_length=20, choices=Kind)
    text = models.CharField(_("question"), max_length=300)
    text_es = models.CharField(_("question (Spanish)"), max_length=300, blank=True)
    help_text = models.CharField(_("hint"), max_length=300, blank=True)
    help_text_es = models.CharField(_("hint (Spanish)"), max_length=300, blank=True)
    required = models.BooleanField(_("answer required"), default=False)
    touchpoint = models.ForeignKey(
        Touchpoint,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="questions",
        help_text=_("The touchpoint this question is about, if it is about one."),
    )
    # For single/multi choice: [{"value": "always", "label": "Always", "label_es": "Siempre"}, ...].
    # Values are stable keys stored in answers; labels may be edited freely.
    choices = models.JSONField(_("choices"), default=list, blank=True)
    # Skip logic: show this question only when the answer to ``show_if_question`` (an earlier,
    # numeric question) lies in [show_if_min, show_if_max].
    show_if_question = models.ForeignKey(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="dependants",
        verbose_name=_("show only after question"),
    )
    show_if_min = models.SmallIntegerField(_("when its answer is at least"), null=True, blank=True)
    show_if_max = models.SmallIntegerField(_("and at most"), null=True, blank=True)
    # Answered questions are archived, never deleted: their answers stay readable.
    archived_at = models.DateTimeField(_("archived"), null=True, blank=True)

    objects = QuestionQuerySet.as_manager()

    class Meta:
        ordering = ["survey", "position", "pk"]
        indexes = [
            # QuestionQuerySet.live(): a survey's questions in order, on every patient page.
            models.Index(fields=["survey", "position"], name="question_survey_position"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(show_if_question__isnull=True)
                | Q(show_if_min__isnull=False)
                | Q(show_if_max__isnull=False),
                name="question_condition_has_a_range",
            ),
        ]

    def __str__(self) -> str:
        return self.text

    @property
    def is_archived(self) -> bool:
        return self.archived_at is not None

    @property
    def is_conditional(self) -> bool:
        return self.show_if_question_id is not None

    def choice_values(self) -> list[str]:
        return [c["value"] for c in self.choices]

    def shows_for(self, value: int | None) -> bool:
        """Skip logic: whether this question applies given the earlier answer's number."""
        if not self.is_conditional:
            return True
        if value is None:
            return False
        low = self.show_if_min if self.show_if_min is not None else value
        high = self.show_if_max if self.show_if_max is not None else value
        return low <= value <= high


# --- Themes -----------------------------------------------------------------------------------


class ThemeQuerySet(models.QuerySet):
    def active(self) -> ThemeQuerySet:
        return self.filter(is_active=True)


class Theme(TimeStamped):
    """A topic patients talk about; comments mentioning one of its keywords are tagged with it."""

    name = models.CharField(_("name"), max_length=80, unique=True)
    keywords = models.TextField(
        _("keywords and phrases"),
        help_text=_(
            "One per line. A comment containing any of them (whole words, any case) gets this theme. "
            "End a word with * to match any ending: wait* finds waiting and waited. Add Spanish words too."
        ),
    )
    is_active = models.BooleanField(_("active"), default=True)

    objects = ThemeQuerySet.as_manager()

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    def keyword_list(self) -> list[str]:
        return [line.strip().lower() for line in self.keywords.splitlines() if line.strip()]


# --- Invitations --------------------------------------------------------------------------------


def _token_mac(selector: str, key: str) -> str:
    digest = hmac.new(key.encode(), f"feedback.invitation:{selector}".encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest[:16]).rstrip(b"=").decode()


def new_selector() -> str:
    return secrets.token_urlsafe(16)  # 128 random bits


class InvitationQuerySet(models.QuerySet):
    def open(self, now: datetime) -> InvitationQuerySet:
        """Invitations whose link still works: not answered, opted out, failed or expired."""
        return self.filter(status__in=Invitation.OPEN_STATUSES, expires_at__gt=now)

    def by_token(self, token: str, now: datetime) -> Invitation | None:
        """The open invitation this token belongs to, or None for unknown, used or expired tokens.

        The token is ``<selector>.<mac>``: the database finds the row by its random selector, and
        the MAC (an HMAC of the selector under SECRET_KEY) is compared in constant time. So no
        secret is stored in the database and a lookup's timing reveals nothing about the MAC.
        """
        selector, _sep, mac = token.partition(".")
        if not selector or not mac or len(token) > 100:
            return None
        invitation = self.open(now).filter(selector=selector).first()
        if invitation is None:
            return None
        keys = [settings.SECRET_KEY, *getattr(settings, "SECRET_KEY_FALLBACKS", [])]
        if any(constant_time_compare(_token_mac(selector, key), mac) for key in keys):
            return invitation
        return None


class Invitation(TimeStamped):
    """One patient contact invited to one survey about one visit. Sending is the invitations app's job."""

    class Status(models.TextChoices):
        PENDING = "pending", _("Pending")
        SENT = "sent", _("Sent")
        REMINDED = "reminded", _("Reminded")
        COMPLETED = "completed", _("Completed")
        OPTED_OUT = "opted_out", _("Opted out")
        EXPIRED = "expired", _("Expired")
        FAILED = "failed", _("Failed")

    OPEN_STATUSES = (Status.PENDING, Status.SENT, Status.REMINDED)

    survey = models.ForeignKey(Survey, on_delete=models.PROTECT, related_name="invitations")
    email = models.EmailField(_("email"), blank=True)
    phone = models.CharField(_("mobile phone"), max_length=32, blank=True)
    first_name = models.CharField(_("first name"), max_length=80, blank=True)
    visit_at = models.DateTimeField(_("visit"))
    touchpoint = models.ForeignKey(
        Touchpoint, on_delete=models.PROTECT, null=True, blank=True, related_name="invitations"
    )
    location = models.ForeignKey(
        Location, on_delete=models.PROTECT, null=True, blank=True, related_name="invitations"
    )
    need_profile = models.ForeignKey(
        "design.PatientNeedProfile",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="invitations",
        verbose_name=_("patient need profile"),
    )
    language = models.CharField(_("language"), max_length=5, choices=LANGUAGES, default="en")
    selector = models.CharField(max_length=32, unique=True, default=new_selector, editable=False)
    status = models.CharField(_("status"), max_length=12, choices=Status, default=Status.PENDING)
    expires_at = models.DateTimeField(_("link expires"))
    completed_at = models.DateTimeField(_("completed"), null=True, blank=True)

    objects = InvitationQuerySet.as_manager()

    class Meta:
        ordering = ["-visit_at"]
        indexes = [
            # InvitationQuerySet.open() sweeps and the invitations list filter by status and expiry.
            models.Index(fields=["status", "expires_at"], name="invitation_status_expiry"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(completed_at__isnull=True) | Q(status="completed"),
                name="invitation_completed_at_only_when_completed",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.survey} — {self.first_name or _('patient')} ({self.visit_at:%Y-%m-%d})"

    @property
    def token(self) -> str:
        """The secret in the patient's link. Derived, never stored: see ``InvitationQuerySet.by_token``."""
        return f"{self.selector}.{_token_mac(self.selector, settings.SECRET_KEY)}"

    def get_absolute_url(self) -> str:
        return f"/f/{self.token}/"

    def is_open(self, now: datetime | None = None) -> bool:
        return self.status in self.OPEN_STATUSES and self.expires_at > (now or timezone.now())


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
    # One response per invitation: the unique constraint holds even when two posts race.
    invitation = models.OneToOneField(
        Invitation, on_delete=models.SET_NULL, null=True, blank=True, related_name="response"
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
    themes = models.ManyToManyField(Theme, blank=True, related_name="responses")

    objects = ResponseQuerySet.as_manager()

    class Meta:
        ordering = ["-submitted_at", "-pk"]
        indexes = [
            # Results, metrics and the responses list: one survey's responses in a date range.
            models.Index(fields=["survey", "submitted_at"], name="response_survey_submitted"),
            # Metrics across surveys by period (dashboard, goals).
            models.Index(fields=["submitted_at"], name="response_submitted"),
        ]
        constraints = [
            # Contact details exist only with consent (data minimisation).
            models.CheckConstraint(
                condition=Q(consent_to_contact=True) | Q(contact_name="", contact_phone="", contact_email=""),
                name="response_contact_only_with_consent",
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
    def sentiment_category(self) -> str | None:
        return self.sentiment_label(self.sentiment)

    @property
    def has_contact(self) -> bool:
        return self.consent_to_contact and bool(self.contact_phone or self.contact_email)


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

    response = models.ForeignKey(Response, on_delete=models.CASCADE, related_name="answers")
    question = models.ForeignKey(Question, on_delete=models.PROTECT, related_name="answers")
    value = models.SmallIntegerField(null=True, blank=True)
    choice = models.CharField(max_length=64, blank=True)
    choices = models.CharField(max_length=1000, blank=True)
    text = models.TextField(blank=True)
    sentiment = models.FloatField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["response", "question"], name="answer_one_per_question"),
        ]
        indexes = [
            # Per-question distributions on the results page: GROUP BY value/choice for one question.
            models.Index(fields=["question", "value"], name="answer_question_value"),
            models.Index(fields=["question", "choice"], name="answer_question_choice"),
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
