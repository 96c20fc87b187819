"""Forms: the patient's survey form (built from the survey's questions) and the manager's builder forms."""

from __future__ import annotations

import secrets
from dataclasses import dataclass

from django import forms
from django.core import signing
from django.db.models import Q
from django.utils import timezone
from django.utils.text import slugify
from django.utils.translation import gettext_lazy as _

from feedback.models import LANGUAGES, Answer, Question, Response, Survey, Theme, localized
from servicedesk.forms import BootstrapWidgets, PlainChoices, limit_to_sites
from servicedesk.models import Location, Touchpoint

TEXT_MAX = 2000
_STARTED_SALT = "feedback.form-started"

# Patient-facing messages: short, plain, no blame.
REQUIRED = _("Please answer this question.")
INVALID_CHOICE = _("Please choose one of the answers shown.")
PATIENT_ERRORS = {"required": REQUIRED, "invalid_choice": INVALID_CHOICE, "invalid_list": INVALID_CHOICE}

FFT_VALUES = {key: number for key, _label, number in Answer.FFT_CHOICES}


def fft_choices() -> list[tuple[str, str]]:
    return [(key, label) for key, label, _n in Answer.FFT_CHOICES]


@dataclass(frozen=True)
class Answered:
    """One validated answer, ready to store."""

    question: Question
    value: int | None = None
    choice: str = ""
    choices: tuple[str, ...] = ()
    text: str = ""


def numeric_value(question: Question, cleaned: object) -> int | None:
    """The number an answer stands for (skip logic, negative rules); None if it has none."""
    if cleaned in (None, "", []):
        return None
    if question.kind == Question.Kind.FFT:
        return FFT_VALUES.get(cleaned)
    if question.kind == Question.Kind.YES_NO:
        return 1 if cleaned == "yes" else 0
    if question.kind in (Question.Kind.NPS, Question.Kind.RATING):
        return int(cleaned)
    return None


def _question_field(question: Question, language: str) -> forms.Field:
    label = localized(question, "text", language)
    help_text = localized(question, "help_text", language)
    common = {"label": label, "help_text": help_text, "required": False, "error_messages": PATIENT_ERRORS}
    kind = question.kind
    if kind == Question.Kind.FFT:
        return forms.ChoiceField(choices=fft_choices(), widget=forms.RadioSelect, **common)
    if kind == Question.Kind.NPS:
        return forms.TypedChoiceField(
            choices=[(n, str(n)) for n in range(11)],
            coerce=int,
            empty_value=None,
            widget=forms.RadioSelect,
            **common,
        )
    if kind == Question.Kind.RATING:
        return forms.TypedChoiceField(
            choices=[(n, str(n)) for n in range(1, 6)],
            coerce=int,
            empty_value=None,
            widget=forms.RadioSelect,
            **common,
        )
    if kind == Question.Kind.YES_NO:
        return forms.ChoiceField(
            choices=[("yes", _("Yes")), ("no", _("No"))], widget=forms.RadioSelect, **common
        )
    options = [(c["value"], localized_choice(c, language)) for c in question.choices]
    if kind == Question.Kind.SINGLE_CHOICE:
        return forms.ChoiceField(choices=options, widget=forms.RadioSelect, **common)
    if kind == Question.Kind.MULTI_CHOICE:
        return forms.MultipleChoiceField(choices=options, widget=forms.CheckboxSelectMultiple, **common)
    common["error_messages"] = {
        **PATIENT_ERRORS,
        "max_length": _("Please keep your answer under %(limit_value)s characters (it has %(show_value)s)."),
    }
    return forms.CharField(widget=forms.Textarea(attrs={"rows": 4}), max_length=TEXT_MAX, **common)


def condition_text(question: Question, parent: Question, language: str) -> str:
    """When a conditional question applies, in the patient's words.

    For example: 'your answer to "Overall, how was your experience?" was Poor or Very poor.'
    """
    if parent.kind == Question.Kind.FFT:
        options = [
            str(label) for _key, label, n in Answer.FFT_CHOICES if n is not None and question.shows_for(n)
        ]
    elif parent.kind == Question.Kind.YES_NO:
        options = [str(label) for n, label in ((1, _("Yes")), (0, _("No"))) if question.shows_for(n)]
    else:
        low, high = SCALES[parent.kind]
        low = question.show_if_min if question.show_if_min is not None else low
        high = question.show_if_max if question.show_if_max is not None else high
        options = [str(low)] if low == high else [_("%(low)s to %(high)s") % {"low": low, "high": high}]
    answers = str(_(" or ")).join(options)
    return str(_("your answer to “%(question)s” was %(answers)s.")) % {
        "question": localized(parent, "text", language),
        "answers": answers,
    }


def localized_choice(choice: dict, language: str) -> str:
    return (language != "en" and choice.get(f"label_{language}")) or choice["label"]


def started_stamp() -> str:
    """When the form was shown, and a random id for this one form (so it can be sent once), signed."""
    return signing.dumps([timezone.now().timestamp(), secrets.token_urlsafe(12)], salt=_STARTED_SALT)


@dataclass(frozen=True)
class Started:
    """What the form's stamp says: how long ago it was shown, and which form it was."""

    seconds_ago: float
    form_id: str


class SurveyResponseForm(forms.Form):
    """What the patient fills in. One field per live question, named ``q<pk>``.

    Conditional questions are fields like any other (the page works without JavaScript); an
    answer to one whose condition does not hold is dropped, and it is required only when shown.
    """

    # Honeypot: hidden from people (CSS and aria-hidden), irresistible to form-filling bots.
    website = forms.CharField(required=False, label=_("Leave this empty"))
    started = forms.CharField(required=False, widget=forms.HiddenInput)

    consent_to_contact = forms.BooleanField(
        required=False,
        widget=forms.CheckboxInput(attrs={"class": "form-check-input"}),
        label=_("I would like someone from the practice to contact me about my feedback"),
        help_text=_("We only keep your name and contact details if you tick this box."),
    )
    contact_name = forms.CharField(required=False, max_length=120, label=_("Your name"))
    contact_phone = forms.CharField(
        required=False,
        max_length=32,
        label=_("Phone number"),
        widget=forms.TextInput(attrs={"type": "tel", "autocomplete": "tel", "inputmode": "tel"}),
    )
    contact_email = forms.EmailField(
        required=False,
        label=_("Email address"),
        error_messages={"invalid": _("Please enter an email address like name@example.com.")},
        widget=forms.EmailInput(attrs={"autocomplete": "email"}),
    )

    def __init__(self, *args, survey: Survey, questions: list[Question], language: str, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.survey, self.questions, self.language = survey, questions, language
        self.by_name = {f"q{q.pk}": q for q in questions}
        by_pk = {q.pk: q for q in questions}
        for name, question in self.by_name.items():
            self.fields[name] = _question_field(question, language)
            parent = by_pk.get(question.show_if_question_id)
            if parent is not None:
                question.condition_text = condition_text(question, parent, language)
        if not survey.asks_for_contact:
            for name in ("consent_to_contact", "contact_name", "contact_phone", "contact_email"):
                del self.fields[name]
        else:  # the hint under the box says what ticking it means, so the box points at it
            consent = self.fields["consent_to_contact"]
            consent.widget.attrs["aria-describedby"] = f"{self['consent_to_contact'].auto_id}-hint"
        if not self.is_bound:
            self.fields["started"].initial = started_stamp()

    def full_clean(self) -> None:
        super().full_clean()
        # Each option of a question that failed says so itself: a screen reader landing on a
        # radio from the error summary hears "invalid" there, not only on the group's text.
        for name in self.errors:
            if name in self.by_name and isinstance(
                self.fields[name].widget, forms.RadioSelect | forms.CheckboxSelectMultiple
            ):
                self.fields[name].widget.attrs["aria-invalid"] = "true"

    # --- what the template needs -------------------------------------------------------------

    def question_fields(self) -> list[tuple[Question, forms.BoundField]]:
        return [(q, self[name]) for name, q in self.by_name.items()]

    def contact_fields(self) -> list[forms.BoundField]:
        return [self[n] for n in ("contact_name", "contact_phone", "contact_email") if n in self.fields]

    @staticmethod
    def anchor(bound: forms.BoundField) -> str:
        """The id an error-summary link should jump to: the first option of a group, else the input."""
        if isinstance(bound.field.widget, forms.RadioSelect | forms.CheckboxSelectMultiple):
            return f"{bound.auto_id}_0"
        return bound.auto_id

    def error_links(self) -> list[tuple[str, str, str]]:
        """(anchor, label, message) for the error summary, in page order."""
        return [
            (self.anchor(self[name]), self[name].label, str(error))
            for name in self.fields
            for error in self.errors.get(name, [])
        ]

    # --- validation ---------------------------------------------------------------------------

    @property
    def honeypot_filled(self) -> bool:
        return bool(self.data.get("website", "").strip())

    def stamp(self) -> Started | None:
        """The form's stamp, or None when it is missing or forged."""
        try:
            shown_at, form_id = signing.loads(self.data.get("started", ""), salt=_STARTED_SALT)
            return Started(seconds_ago=timezone.now().timestamp() - float(shown_at), form_id=str(form_id))
        except (signing.BadSignature, TypeError, ValueError):
            return None

    def clean(self) -> dict:
        cleaned = super().clean()
        numbers: dict[int, int | None] = {}
        for name, question in self.by_name.items():
            value = cleaned.get(name)
            shown = question.shows_for(numbers.get(question.show_if_question_id))
            if not shown:
                cleaned[name] = None
                self.errors.pop(name, None)  # an invalid answer to a question that does not apply
                continue
            if isinstance(value, str):
                value = cleaned[name] = value.strip()
            if question.required and value in (None, "", []) and name not in self.errors:
                self.add_error(name, REQUIRED)
            numbers[question.pk] = numeric_value(question, value)
        if "consent_to_contact" in self.fields:
            if cleaned.get("consent_to_contact"):
                if not (cleaned.get("contact_phone") or cleaned.get("contact_email")) and not (
                    self.errors.get("contact_email")
                ):
                    self.add_error(
                        "contact_phone",
                        _("Please give a phone number or an email address so we can reach you."),
                    )
            else:  # no consent: nothing typed into the contact boxes is kept
                cleaned.update(contact_name="", contact_phone="", contact_email="")
        return cleaned

    def answers(self) -> list[Answered]:
        """The validated answers to the questions that applied, in order."""
        result = []
        for name, question in self.by_name.items():
            value = self.cleaned_data.get(name)
            if value in (None, "", []):
                continue
            number = numeric_value(question, value)
            kind = question.kind
            if kind == Question.Kind.TEXT:
                result.append(Answered(question, text=value))
            elif kind == Question.Kind.MULTI_CHOICE:
                result.append(Answered(question, choices=tuple(value)))
            elif kind in (Question.Kind.NPS, Question.Kind.RATING):
                result.append(Answered(question, value=number))
            else:  # fft, yes/no, single choice: the key, plus its number where it has one
                result.append(Answered(question, value=number, choice=value))
        return result

    def contact(self) -> dict:
        if not self.cleaned_data.get("consent_to_contact"):
            return {"consent_to_contact": False}
        return {
            "consent_to_contact": True,
            "contact_name": self.cleaned_data.get("contact_name", "").strip(),
            "contact_phone": self.cleaned_data.get("contact_phone", "").strip(),
            "contact_email": self.cleaned_data.get("contact_email", "").strip(),
        }


# --- The survey builder (managers) --------------------------------------------------------------


class SurveySettingsForm(PlainChoices, forms.ModelForm):
    languages = forms.MultipleChoiceField(
        choices=LANGUAGES,
        widget=forms.CheckboxSelectMultiple,
        initial=["en"],
        label=_("Languages offered"),
        help_text=_("English is always offered. Spanish shows a language switch; fill in the Spanish texts."),
    )

    class Meta:
        model = Survey
        fields = [
            "title",
            "title_es",
            "heading",
            "heading_es",
            "slug",
            "audience",
            "is_anonymous",
            "languages",
            "intro",
            "intro_es",
            "thanks",
            "thanks_es",
            "location",
            "touchpoint",
            "negative_fft",
            "negative_nps_max",
            "negative_rating_max",
            "negative_sentiment_max",
            "contact_within_days",
        ]
        widgets = {
            "intro": forms.Textarea(attrs={"rows": 2}),
            "intro_es": forms.Textarea(attrs={"rows": 2}),
            "thanks": forms.Textarea(attrs={"rows": 2}),
            "thanks_es": forms.Textarea(attrs={"rows": 2}),
        }

    def __init__(self, *args, sites: frozenset[int] | None = None, **kwargs) -> None:
        """``sites``: a site manager's sites, one of which their survey is for; None for the group."""
        super().__init__(*args, **kwargs)
        self.fields["location"].queryset = Location.objects.active()
        self.fields["touchpoint"].queryset = Touchpoint.objects.active().select_related("location")
        if sites is not None:
            help_text = _("Surveys for every site are the group's; yours are for your sites.")
            limit_to_sites(self, sites, help_text=help_text)
        self.fields["slug"].required = False
        self.fields["slug"].help_text = _(
            "Leave empty to make one from the title. Used in /k/<short address>/."
        )

    def clean_languages(self) -> list[str]:
        languages = self.cleaned_data["languages"]
        return ["en", *[code for code in languages if code != "en"]]

    def clean_slug(self) -> str:
        slug = self.cleaned_data.get("slug") or slugify(self.cleaned_data.get("title", ""))[:60]
        if not slug:
            raise forms.ValidationError(_("Give the survey a short address, e.g. waiting-room."))
        if Survey.objects.filter(slug=slug).exclude(pk=self.instance.pk).exists():
            raise forms.ValidationError(_("Another survey already uses this short address."))
        return slug

    def clean(self) -> dict:
        cleaned = super().clean()
        if cleaned.get("audience") == Survey.Audience.STAFF:
            cleaned["is_anonymous"] = True  # a staff pulse is always anonymous
        return cleaned


class SurveyFromTemplateForm(forms.Form):
    template = forms.ChoiceField(label=_("Start from"), widget=forms.RadioSelect)
    title = forms.CharField(
        max_length=160,
        required=False,
        label=_("Title"),
        help_text=_("Leave empty to keep the template's title."),
    )

    def __init__(self, *args, **kwargs) -> None:
        from feedback.library import READY_MADE

        super().__init__(*args, **kwargs)
        self.fields["template"].choices = [(k, f"{s.title} — {s.description}") for k, s in READY_MADE.items()]


class QuestionForm(PlainChoices, forms.ModelForm):
    """A question in the builder. Choices are typed one per line as ``English | Español``."""

    choices_text = forms.CharField(
        required=False,
        label=_("Answers to choose from"),
        widget=forms.Textarea(attrs={"rows": 5}),
        help_text=_("For choice questions: one answer per line, English then Spanish, e.g. Always | Siempre"),
    )

    class Meta:
        model = Question
        fields = [
            "kind",
            "text",
            "text_es",
            "help_text",
            "help_text_es",
            "required",
            "touchpoint",
            "show_if_question",
            "show_if_min",
            "show_if_max",
        ]
        help_texts = {
            "show_if_question": _(
                "Optional skip logic: ask this only after a certain answer to an earlier question."
            ),
            "show_if_min": _(
                "Answers as numbers: FFT 5 = very good … 1 = very poor; yes = 1, no = 0; "
                "ratings and 0-10 as given."
            ),
        }

    def __init__(self, *args, survey: Survey, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.survey = survey
        self.answered = bool(self.instance.pk) and self.instance.answers.exists()
        earlier = survey.questions.live().filter(kind__in=Question.NUMERIC_KINDS)
        if self.instance.pk:
            earlier = earlier.filter(
                Q(position__lt=self.instance.position)
                | Q(position=self.instance.position, pk__lt=self.instance.pk)
            )
        self.fields["show_if_question"].queryset = earlier
        self.fields["show_if_question"].label_from_instance = lambda q: f"{q.position + 1}. {q.text}"
        self.fields["touchpoint"].queryset = Touchpoint.objects.active().select_related("location")
        if self.instance.pk:
            self.initial["choices_text"] = "\n".join(
                f"{c['label']} | {c.get('label_es', '')}".rstrip(" |") for c in self.instance.choices
            )
        if self.answered:
            self.fields["kind"].disabled = True
            self.fields["kind"].help_text = _(
                "This question has answers, so its kind cannot change. "
                "Archive it and add a new question instead."
            )

    def clean_choices_text(self) -> list[dict]:
        choices, seen = [], set()
        for line in self.cleaned_data.get("choices_text", "").splitlines():
            if not line.strip():
                continue
            english, _sep, spanish = (part.strip() for part in line.partition("|"))
            value = slugify(english)[:60]
            if not value:
                raise forms.ValidationError(
                    _("Each answer needs an English label: %(line)s") % {"line": line}
                )
            if value in seen:
                raise forms.ValidationError(_("Two answers are the same: %(label)s") % {"label": english})
            seen.add(value)
            choices.append({"value": value, "label": english, "label_es": spanish})
        return choices

    def clean(self) -> dict:
        cleaned = super().clean()
        kind = cleaned.get("kind")
        choices = cleaned.get("choices_text") or []
        if kind in Question.CHOICE_KINDS and len(choices) < 2:
            self.add_error("choices_text", _("Give at least two answers to choose from."))
        if kind not in Question.CHOICE_KINDS:
            cleaned["choices_text"] = []
        if self.survey.is_active and self.survey.offers("es"):
            # A live survey shown in Spanish must not show this question in English.
            if not cleaned.get("text_es"):
                self.add_error(
                    "text_es", _("This survey is live in Spanish: give the question in Spanish too.")
                )
            if any(not choice["label_es"] for choice in cleaned.get("choices_text") or []):
                self.add_error(
                    "choices_text",
                    _("This survey is live in Spanish: give every answer as English | Español."),
                )
        parent = cleaned.get("show_if_question")
        low, high = cleaned.get("show_if_min"), cleaned.get("show_if_max")
        if parent is None:
            cleaned["show_if_min"] = cleaned["show_if_max"] = None
        else:
            scale = SCALES[parent.kind]
            if low is None and high is None:
                self.add_error("show_if_min", _("Say which answers make this question appear."))
            for name, bound in (("show_if_min", low), ("show_if_max", high)):
                if bound is not None and not scale[0] <= bound <= scale[1]:
                    self.add_error(
                        name,
                        _("Use a number from %(low)s to %(high)s.") % {"low": scale[0], "high": scale[1]},
                    )
            if low is not None and high is not None and low > high:
                self.add_error("show_if_max", _("“At most” must not be below “at least”."))
        return cleaned


# The numbers each numeric kind's answers take (for skip-logic ranges).
SCALES = {
    Question.Kind.FFT: (1, 5),
    Question.Kind.NPS: (0, 10),
    Question.Kind.RATING: (1, 5),
    Question.Kind.YES_NO: (0, 1),
}


class ThemeForm(forms.ModelForm):
    class Meta:
        model = Theme
        fields = ["name", "keywords", "is_active"]
        widgets = {"keywords": forms.Textarea(attrs={"rows": 8})}

    def clean_keywords(self) -> str:
        lines = [line.strip() for line in self.cleaned_data["keywords"].splitlines() if line.strip()]
        if not lines:
            raise forms.ValidationError(_("Give at least one keyword or phrase."))
        if any(line.strip("*") == "" for line in lines):
            raise forms.ValidationError(_("A keyword cannot be just *."))
        return "\n".join(lines)


# --- Filters (managers) -----------------------------------------------------------------------------


class DateInput(forms.DateInput):
    input_type = "date"


class ResultsFilterForm(BootstrapWidgets, PlainChoices, forms.Form):
    """Filters for the results page and the responses list (GET; every field optional)."""

    blank_choice_label = _("All")

    date_from = forms.DateField(required=False, label=_("From"), widget=DateInput)
    date_to = forms.DateField(required=False, label=_("To (inclusive)"), widget=DateInput)
    location = forms.ModelChoiceField(Location.objects.all(), required=False, label=_("Location"))
    touchpoint = forms.ModelChoiceField(
        Touchpoint.objects.select_related("location"), required=False, label=_("Touchpoint")
    )

    def __init__(self, *args, sites: frozenset[int] | None = None, **kwargs) -> None:
        """``sites``: a site manager's sites (one of them is always chosen); None for every site."""
        super().__init__(*args, **kwargs)
        if sites is not None:
            limit_to_sites(self, sites)

    def clean(self) -> dict:
        cleaned = super().clean()
        start, end = cleaned.get("date_from"), cleaned.get("date_to")
        if start and end and end < start:
            self.add_error("date_to", _("The end date is before the start date."))
        return cleaned


class ResponseFilterForm(ResultsFilterForm):
    survey = forms.ModelChoiceField(Survey.objects.all(), required=False, label=_("Survey"))
    sentiment = forms.ChoiceField(
        required=False, label=_("Sentiment"), choices=[("", _("Any")), *Response.Sentiment.choices]
    )
    theme = forms.ModelChoiceField(Theme.objects.all(), required=False, label=_("Theme"))
    negative = forms.BooleanField(required=False, label=_("Negative only"))

    field_order = [
        "survey",
        "date_from",
        "date_to",
        "location",
        "touchpoint",
        "sentiment",
        "theme",
        "negative",
    ]
