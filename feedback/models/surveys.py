"""Surveys and their questions, with their texts in each language (``localized``)."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils import translation
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
    """A new survey speaks English; Spanish is offered once its texts are written (``missing_texts``)."""
    return ["en"]


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
    # The title names the survey for the team ("Waiting-room kiosk"); patients read the heading.
    heading = models.CharField(
        _("heading patients see"),
        max_length=160,
        blank=True,
        help_text=_(
            "At the top of the survey. Leave empty for “Tell us how we did”. The title is for the team only."
        ),
    )
    heading_es = models.CharField(_("heading patients see (Spanish)"), max_length=160, blank=True)
    slug = models.SlugField(
        _("short address"),
        max_length=60,
        unique=True,
        help_text=_("Used in the kiosk and QR address: /k/<short address>/. Letters, digits and hyphens."),
    )
    audience = models.CharField(_("who answers"), max_length=10, choices=Audience, default=Audience.PATIENT)
    is_anonymous = models.BooleanField(
        _("anonymous"),
        default=False,  # so an unhappy patient is asked whether we may contact them
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
        _("NPS at or below is negative"), null=True, blank=True, default=6, validators=[MaxValueValidator(10)]
    )
    negative_rating_max = models.PositiveSmallIntegerField(
        _("rating at or below is negative"),
        null=True,
        blank=True,
        default=2,
        validators=[MinValueValidator(1), MaxValueValidator(5)],
    )
    negative_sentiment_max = models.FloatField(
        _("text sentiment at or below is negative"),
        null=True,
        blank=True,
        default=-0.5,
        help_text=_(
            "From -1 (very negative) to +1. -0.5 catches clearly upset comments; leave empty to ignore."
        ),
        validators=[MinValueValidator(-1), MaxValueValidator(1)],
    )
    contact_within_days = models.PositiveSmallIntegerField(
        _("we contact unhappy patients within (working days)"),
        default=2,
        help_text=_("Shown on the thank-you page after a negative answer with consent to be contacted."),
        validators=[MaxValueValidator(30)],
    )
    is_active = models.BooleanField(_("active"), default=False)

    objects = SurveyQuerySet.as_manager()

    class Meta:
        ordering = ["title"]
        constraints = [
            models.CheckConstraint(
                condition=Q(negative_nps_max__isnull=True) | Q(negative_nps_max__lte=10),
                name="survey_negative_nps_max_in_scale",
                violation_error_message=_("The NPS threshold is on the scale from 0 to 10."),
            ),
            models.CheckConstraint(
                condition=Q(negative_rating_max__isnull=True) | Q(negative_rating_max__lte=5),
                name="survey_negative_rating_max_in_scale",
                violation_error_message=_("The rating threshold is on the scale from 1 to 5."),
            ),
            models.CheckConstraint(
                condition=Q(negative_sentiment_max__isnull=True)
                | Q(negative_sentiment_max__gte=-1, negative_sentiment_max__lte=1),
                name="survey_negative_sentiment_max_in_range",
                violation_error_message=_("The text sentiment threshold is between -1 and 1."),
            ),
        ]

    def __str__(self) -> str:
        return self.title

    @property
    def asks_for_contact(self) -> bool:
        return self.audience == self.Audience.PATIENT and not self.is_anonymous

    def offers(self, language: str) -> bool:
        return language in self.languages

    def patient_heading(self, language: str) -> str:
        """What a patient reads at the top: the heading in their language, never the team's title."""
        if self.audience == self.Audience.STAFF:
            return localized(self, "title", language)
        with translation.override(language):
            return localized(self, "heading", language) or str(_("Tell us how we did"))

    def missing_texts(self, language: str) -> list[str]:
        """What a patient reading ``language`` would see in English: the title, the introduction and
        thank-you message (when written in English), each live question and its answer labels."""
        if language == "en":
            return []
        missing = []
        for field, label in (
            ("title", _("the title")),
            ("heading", _("the heading patients see")),
            ("intro", _("the introduction")),
            ("thanks", _("the thank-you message")),
        ):
            if getattr(self, field) and not getattr(self, f"{field}_{language}"):
                missing.append(str(label))
        for number, question in enumerate(self.questions.live(), 1):
            if not getattr(question, f"text_{language}"):
                missing.append(str(_("question %(n)s, “%(text)s”") % {"n": number, "text": question.text}))
            elif any(not choice.get(f"label_{language}") for choice in question.choices or []):
                missing.append(str(_("the answers to question %(n)s") % {"n": number}))
        return missing

    def language_problems(self) -> list[str]:
        """One sentence per offered language whose texts are missing; empty when it can go live."""
        return [
            str(_("Spanish is offered but has no text for: %(missing)s.") % {"missing": "; ".join(missing)})
            for language in self.languages or []
            if (missing := self.missing_texts(language))
        ]

    def clean(self) -> None:
        unknown = set(self.languages or []) - set(LANGUAGE_CODES)
        if unknown or not self.languages or "en" not in self.languages:
            raise ValidationError({"languages": _("Choose English and, if you wish, Spanish.")})
        if self.audience == self.Audience.STAFF and not self.is_anonymous:
            raise ValidationError({"is_anonymous": _("A staff pulse is always anonymous.")})
        if self.pk and self.is_active and (problems := self.language_problems()):
            raise ValidationError(
                {"languages": [*problems, _("Write them first, or stop offering Spanish.")]}
            )


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
    show_if_min = models.SmallIntegerField(
        _("when its answer is at least"),
        null=True,
        blank=True,
        validators=[MinValueValidator(0), MaxValueValidator(10)],
    )
    show_if_max = models.SmallIntegerField(
        _("and at most"), null=True, blank=True, validators=[MinValueValidator(0), MaxValueValidator(10)]
    )
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
                violation_error_message=_(
                    "Say at least one of “at least” and “at most” for the question this one depends on."
                ),
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
