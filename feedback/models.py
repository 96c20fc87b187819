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
from datetime import datetime, time

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
        """The open invitation this token belongs to, or None for unknown, used or expired tokens."""
        return self.open(now).with_token(token)

    def with_token(self, token: str) -> Invitation | None:
        """The invitation in this queryset that the token belongs to, or None.

        The token is ``<selector>.<mac>``: the database finds the row by its random selector, and
        the MAC (an HMAC of the selector under SECRET_KEY) is compared in constant time. So no
        secret is stored in the database and a lookup's timing reveals nothing about the MAC.
        """
        selector, _sep, mac = token.partition(".")
        if not selector or not mac or len(token) > 100:
            return None
        invitation = self.filter(selector=selector).first()
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

    class Source(models.TextChoices):  # sending (issue 6)
        MANUAL = "manual", _("Added by hand")
        CSV = "csv", _("Visit list upload")
        API = "api", _("Practice-management system")
        DEMO = "demo", _("Demo data")

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
    # --- Sending (invitations, issue 6): where the visit came from and what was sent -------------
    source = models.CharField(_("source"), max_length=10, choices=Source, default=Source.MANUAL)
    # The practice-management system's visit id: a visit posted or uploaded twice is one invitation.
    external_id = models.CharField(_("visit id"), max_length=100, blank=True)
    integration = models.ForeignKey(
        "feedback.IntegrationToken",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="invitations",
    )
    import_job = models.ForeignKey(
        "feedback.InvitationImport",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="invitations",
    )
    clinician = models.CharField(_("clinician"), max_length=120, blank=True)
    # Keyed hashes of the normalised email / phone: the frequency cap and access requests find a
    # contact by them. Cleared with the contact details when the invitation is purged.
    email_hash = models.CharField(max_length=64, blank=True, editable=False)
    phone_hash = models.CharField(max_length=64, blank=True, editable=False)
    reminder_count = models.PositiveSmallIntegerField(_("reminders sent"), default=0)
    sent_at = models.DateTimeField(_("first sent"), null=True, blank=True)
    last_reminded_at = models.DateTimeField(_("last reminded"), null=True, blank=True)
    opted_out_at = models.DateTimeField(_("opted out"), null=True, blank=True)
    purged_at = models.DateTimeField(_("contact details purged"), null=True, blank=True)
    # --- end of sending fields ---------------------------------------------------------------------

    objects = InvitationQuerySet.as_manager()

    class Meta:
        ordering = ["-visit_at"]
        indexes = [
            # InvitationQuerySet.open() sweeps and the invitations list filter by status and expiry.
            models.Index(fields=["status", "expires_at"], name="invitation_status_expiry"),
            # Sending: the frequency cap and access/erasure requests look a contact up by its hashes.
            models.Index(fields=["email_hash", "created_at"], name="invitation_email_hash"),
            models.Index(fields=["phone_hash", "created_at"], name="invitation_phone_hash"),
            # Sending: the invitations list, newest visits first, filtered by status.
            models.Index(fields=["status", "visit_at"], name="invitation_status_visit"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(completed_at__isnull=True) | Q(status="completed"),
                name="invitation_completed_at_only_when_completed",
            ),
            # Sending: a visit posted twice by the practice-management system is one invitation.
            models.UniqueConstraint(
                fields=["external_id"], condition=~Q(external_id=""), name="invitation_unique_visit_id"
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


# =================================================================================================
# Invitation sending (issue 6): sending rules, the message log, the suppression list, integration
# tokens for the practice-management system and visit-list imports. Access and erasure requests
# are recorded in the project's audit log (servicedesk.security).
# Services live in feedback/invitations.py and feedback/invitation_import.py.
# =================================================================================================


class InvitationRules(TimeStamped):
    """The practice's sending rules: one row, edited by managers (``InvitationRules.current()``)."""

    class ChannelPreference(models.TextChoices):
        SMS_FIRST = "sms_first", _("Text message, or email when there is no mobile number")
        EMAIL_FIRST = "email_first", _("Email, or text message when there is no email address")
        SMS_ONLY = "sms_only", _("Text message only")
        EMAIL_ONLY = "email_only", _("Email only")

    default_survey = models.ForeignKey(
        Survey,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("survey for posted visits"),
        help_text=_("The survey patients are invited to when the practice-management system names none."),
    )
    delay_minutes = models.PositiveIntegerField(
        _("send after the visit (minutes)"),
        default=120,
        help_text=_("Asking soon after the visit gets the most answers; 120 is two hours."),
    )
    quiet_hours_start = models.TimeField(
        _("quiet hours start"),
        default=time(20, 0),
        help_text=_("No message is sent between these times (practice time). The same times mean none."),
    )
    quiet_hours_end = models.TimeField(_("quiet hours end"), default=time(9, 0))
    reminder_after_days = models.PositiveSmallIntegerField(
        _("remind after (days)"), default=3, help_text=_("Only patients who have not answered are reminded.")
    )
    max_reminders = models.PositiveSmallIntegerField(
        _("reminders at most"), default=1, help_text=_("0 to never remind. One reminder is usually enough.")
    )
    expiry_days = models.PositiveSmallIntegerField(
        _("link expires after (days)"), default=14, help_text=_("Counted from the visit.")
    )
    frequency_cap_days = models.PositiveSmallIntegerField(
        _("invite one patient at most once every (days)"),
        default=30,
        help_text=_("A patient seen twice in this time is invited after the first visit only."),
    )
    channel_preference = models.CharField(
        _("channel"), max_length=12, choices=ChannelPreference, default=ChannelPreference.SMS_FIRST
    )
    purge_after_days = models.PositiveSmallIntegerField(
        _("delete contact details after (days)"),
        default=90,
        help_text=_("Counted from the answer, or from the link's expiry. Answers stay, anonymous."),
    )

    class Meta:
        verbose_name = _("sending rules")
        verbose_name_plural = _("sending rules")
        constraints = [
            models.CheckConstraint(condition=Q(pk=1), name="invitation_rules_single_row"),
            models.CheckConstraint(condition=Q(max_reminders__lte=5), name="invitation_rules_max_reminders"),
            models.CheckConstraint(condition=Q(expiry_days__gte=1), name="invitation_rules_expiry_positive"),
            models.CheckConstraint(
                condition=Q(reminder_after_days__gte=1), name="invitation_rules_reminder_after_positive"
            ),
            models.CheckConstraint(
                condition=Q(purge_after_days__gte=1), name="invitation_rules_purge_positive"
            ),
        ]

    def __str__(self) -> str:
        return str(_("Sending rules"))

    @classmethod
    def current(cls) -> InvitationRules:
        rules, _created = cls.objects.get_or_create(pk=1)
        return rules

    @property
    def has_quiet_hours(self) -> bool:
        return self.quiet_hours_start != self.quiet_hours_end


class InvitationMessageQuerySet(models.QuerySet):
    def due(self, now: datetime) -> InvitationMessageQuerySet:
        """Queued messages whose time has come (first sends, reminders and retries alike)."""
        return self.filter(status=InvitationMessage.Status.QUEUED, due_at__lte=now)

    def failed(self) -> InvitationMessageQuerySet:
        return self.filter(status=InvitationMessage.Status.FAILED)


class InvitationMessage(TimeStamped):
    """One message to one patient: the first invitation (number 0) or reminder N (number N).

    The row exists before the message is sent; its status is the send's state machine:
    queued → sending (claimed by one worker) → sent | failed | cancelled, and back to queued
    with a later ``due_at`` after a failed attempt that may be retried.
    """

    class Kind(models.TextChoices):
        FIRST = "first", _("Invitation")
        REMINDER = "reminder", _("Reminder")

    class Channel(models.TextChoices):
        SMS = "sms", _("Text message")
        EMAIL = "email", _("Email")

    class Status(models.TextChoices):
        QUEUED = "queued", _("Queued")
        SENDING = "sending", _("Sending")
        SENT = "sent", _("Sent")
        FAILED = "failed", _("Failed")
        CANCELLED = "cancelled", _("Not needed")

    invitation = models.ForeignKey(Invitation, on_delete=models.CASCADE, related_name="messages")
    kind = models.CharField(_("kind"), max_length=10, choices=Kind)
    number = models.PositiveSmallIntegerField(
        _("number"), help_text=_("0 for the invitation, N for reminder N.")
    )
    channel = models.CharField(_("channel"), max_length=5, choices=Channel)
    status = models.CharField(_("status"), max_length=10, choices=Status, default=Status.QUEUED)
    due_at = models.DateTimeField(_("due"))
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    # When the sweep last published a send task for it: a backlog is not published again each minute.
    enqueued_at = models.DateTimeField(null=True, blank=True, editable=False)
    claimed_at = models.DateTimeField(null=True, blank=True, editable=False)
    sent_at = models.DateTimeField(_("sent"), null=True, blank=True)
    provider_id = models.CharField(_("provider id"), max_length=200, blank=True)
    last_error = models.CharField(_("last error"), max_length=500, blank=True)

    objects = InvitationMessageQuerySet.as_manager()

    class Meta:
        ordering = ["invitation", "number"]
        indexes = [
            # The minute sweep: queued messages that are due (InvitationMessageQuerySet.due).
            models.Index(fields=["due_at"], condition=Q(status="queued"), name="invitation_message_due"),
            # The sweep's recovery of sends a dying worker left half-done.
            models.Index(
                fields=["claimed_at"], condition=Q(status="sending"), name="invitation_message_sending"
            ),
            # The failed-messages page, newest first.
            models.Index(
                fields=["updated_at"], condition=Q(status="failed"), name="invitation_message_failed"
            ),
        ]
        constraints = [
            # The heart of "never twice": one invitation, one reminder N per invitation, ever.
            models.UniqueConstraint(fields=["invitation", "number"], name="invitation_message_once"),
            models.CheckConstraint(
                condition=Q(kind="first", number=0) | Q(kind="reminder", number__gte=1),
                name="invitation_message_kind_matches_number",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.label} · {self.get_channel_display()} · {self.get_status_display()}"

    @property
    def label(self) -> str:
        if self.kind == self.Kind.FIRST:
            return str(_("Invitation"))
        return str(_("Reminder %(number)s") % {"number": self.number})


class Suppression(models.Model):
    """A contact who asked for no more survey messages.

    Keyed by a hash of the normalised email or phone, so it outlives the purge of the invitation
    that carried the address, and holds nothing that reads as the address itself.
    """

    class Kind(models.TextChoices):
        EMAIL = "email", _("Email")
        PHONE = "phone", _("Mobile phone")

    class Reason(models.TextChoices):
        OPT_OUT = "opt_out", _("Opted out from a message")
        MANAGER = "manager", _("Recorded by a manager")

    contact_hash = models.CharField(max_length=64, unique=True)
    kind = models.CharField(max_length=5, choices=Kind)
    reason = models.CharField(max_length=10, choices=Reason, default=Reason.OPT_OUT)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} suppressed {self.created_at:%Y-%m-%d}"


class IntegrationTokenQuerySet(models.QuerySet):
    def active(self) -> IntegrationTokenQuerySet:
        return self.filter(revoked_at__isnull=True)


class IntegrationToken(TimeStamped):
    """A bearer token for one practice-management system posting visits. Only its hash is stored."""

    name = models.CharField(
        _("name"), max_length=100, help_text=_("Which system uses it, e.g. 'EMIS at Riverside'.")
    )
    token_hash = models.CharField(max_length=64, unique=True, editable=False)
    # The last characters, so a manager can tell tokens apart without the secret.
    hint = models.CharField(max_length=8, editable=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    revoked_at = models.DateTimeField(_("revoked"), null=True, blank=True)
    revoked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    last_used_at = models.DateTimeField(_("last used"), null=True, blank=True)

    objects = IntegrationTokenQuerySet.as_manager()

    class Meta:
        ordering = ["revoked_at", "name"]

    def __str__(self) -> str:
        return f"{self.name} (…{self.hint})"

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None


class InvitationImport(TimeStamped):
    """One uploaded visit list: validated first, imported only when a manager confirms.

    The file's bytes are kept in the database (any worker can read them, nothing on local disk)
    until the import finishes or is discarded, then cleared.
    """

    class Status(models.TextChoices):
        VALIDATING = "validating", _("Checking")
        REJECTED = "rejected", _("Has errors")
        VALIDATED = "validated", _("Ready to import")
        QUEUED = "queued", _("Waiting to import")
        IMPORTING = "importing", _("Importing")
        IMPORTED = "imported", _("Imported")
        FAILED = "failed", _("Import failed")
        DISCARDED = "discarded", _("Discarded")

    IN_PROGRESS = (Status.VALIDATING, Status.QUEUED, Status.IMPORTING)

    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    survey = models.ForeignKey(Survey, on_delete=models.PROTECT, related_name="+", verbose_name=_("survey"))
    filename = models.CharField(_("file"), max_length=200)
    content = models.BinaryField(default=b"", editable=False)
    status = models.CharField(_("status"), max_length=10, choices=Status, default=Status.VALIDATING)
    total_rows = models.PositiveIntegerField(default=0)
    processed_rows = models.PositiveIntegerField(default=0)
    # {"ready": n, "errors": n, "duplicate": n, "already_imported": n, "opted_out": n, "recently_invited": n,
    #  "too_old": n, "created": n}
    counts = models.JSONField(default=dict, blank=True)
    # [{"row": 12, "column": "email", "message": "..."}] — never the cell's value (it may be personal).
    issues = models.JSONField(default=list, blank=True)
    failure = models.CharField(max_length=500, blank=True)
    claimed_at = models.DateTimeField(null=True, blank=True, editable=False)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [
            # The sweep: imports waiting for a worker (the broker may have been down).
            models.Index(fields=["status", "updated_at"], name="invitation_import_status"),
        ]

    def __str__(self) -> str:
        return f"{self.filename} ({self.get_status_display()})"

    @property
    def progress_pct(self) -> int:
        if not self.total_rows:
            return 0
        return min(100, round(100 * self.processed_rows / self.total_rows))

    @property
    def is_in_progress(self) -> bool:
        return self.status in self.IN_PROGRESS
