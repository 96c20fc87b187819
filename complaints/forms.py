"""The complaints forms: staff's "Record a complaint", the four actions on a complaint, the list's
filters, and the public "Tell us / make a complaint" form (patient-facing: short, plain, no blame)."""

from __future__ import annotations

from django import forms
from django.core import signing
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from complaints.letters import check_placeholders
from complaints.models import LetterTemplate
from complaints.vocabulary import STAFF_RECEIVED_BY, ContactPreference, Outcome, ReceivedBy, SubjectArea
from feedback.forms import Started, started_stamp
from recovery.forms import severity_choices
from recovery.vocabulary import Severity
from servicedesk.forms import BootstrapWidgets
from servicedesk.models import Touchpoint

_STARTED_SALT = "feedback.form-started"  # feedback's form stamp: one stamp for every public form
DATE_ERRORS = {"required": _("Give a date."), "invalid": _("Enter a date like 2026-11-30.")}


def _date(label, **kwargs) -> forms.DateField:
    return forms.DateField(
        label=label, widget=forms.DateInput(attrs={"type": "date"}), error_messages=DATE_ERRORS, **kwargs
    )


class ContactFieldsMixin:
    """Consent first; without it no contact detail is kept (the incident's rule, and the address's)."""

    def clean_contact(self, data: dict, *, consent_error: str) -> dict:
        details = [data.get(f) for f in ("patient_name", "patient_phone", "patient_email", "patient_address")]
        if any(details) and not data.get("patient_consented"):
            raise forms.ValidationError(consent_error)
        if not data.get("patient_consented"):
            data["contact_preference"] = ""
            return data
        wanted = data.get("contact_preference")
        needed = {
            ContactPreference.EMAIL: ("patient_email", _("Give an email address to reply by email.")),
            ContactPreference.PHONE: ("patient_phone", _("Give a phone number to reply by phone.")),
            ContactPreference.LETTER: ("patient_address", _("Give a postal address to reply by letter.")),
        }
        if wanted in needed and not data.get(needed[wanted][0]):
            self.add_error(needed[wanted][0], needed[wanted][1])  # type: ignore[attr-defined]
        elif not any(details[1:]):
            self.add_error(  # type: ignore[attr-defined]
                "patient_phone", _("Give a phone number, an email or an address so that we can reply.")
            )
        return data


def _contact_fields(prefix: str) -> dict[str, forms.Field]:
    """The contact fields, worded for staff (about "the patient") or, with a prefix, for the patient."""
    return {
        "patient_name": forms.CharField(
            label=_("Name") if prefix else _("Patient's name"), max_length=120, required=False
        ),
        "patient_phone": forms.CharField(
            label=_("Phone number") if prefix else _("Patient's phone"),
            max_length=40,
            required=False,
            widget=forms.TextInput(attrs={"type": "tel", "autocomplete": "tel" if prefix else "off"}),
        ),
        "patient_email": forms.EmailField(
            label=_("Email address") if prefix else _("Patient's email"),
            required=False,
            widget=forms.EmailInput(attrs={"autocomplete": "email" if prefix else "off"}),
            error_messages={"invalid": _("Enter an email address like name@example.com.")},
        ),
        "patient_address": forms.CharField(
            label=_("Postal address") if prefix else _("Patient's postal address"),
            max_length=400,
            required=False,
            widget=forms.Textarea(attrs={"rows": 3, "autocomplete": "street-address" if prefix else "off"}),
        ),
        "contact_preference": forms.ChoiceField(
            label=_("How would you like us to reply?") if prefix else _("How they want us to reply"),
            required=False,
            widget=forms.RadioSelect,
            choices=ContactPreference.choices,
        ),
    }


class ComplaintRecordForm(ContactFieldsMixin, forms.Form):
    """A complaint made by phone, letter, email or in person, as staff record it."""

    received_by = forms.ChoiceField(
        label=_("How was it made?"),
        choices=STAFF_RECEIVED_BY,
        widget=forms.RadioSelect,
        error_messages={"required": _("Choose how the complaint was made.")},
    )
    received_on = _date(
        _("Received on"), help_text=_("The day it reached the practice: the 3 working days count from it.")
    )
    subject_area = forms.ChoiceField(
        label=_("What is it about?"),
        choices=[("", _("Choose a subject area")), *SubjectArea.choices],
        error_messages={"required": _("Choose what the complaint is about.")},
    )
    description = forms.CharField(
        label=_("The complaint"),
        widget=forms.Textarea(attrs={"rows": 5}),
        max_length=8000,
        help_text=_("In the patient's words where you can. The first line becomes the title."),
        error_messages={"required": _("Write down the complaint.")},
    )
    severity = forms.ChoiceField(
        label=_("How serious is it?"),
        widget=forms.RadioSelect,
        initial=Severity.HIGH,
        error_messages={"required": _("Choose how serious it is.")},
    )
    touchpoint = forms.ModelChoiceField(
        label=_("Where did it happen? (optional)"),
        queryset=Touchpoint.objects.none(),
        required=False,
        empty_label=_("Not tied to one touchpoint"),
    )
    patient_consented = forms.BooleanField(
        label=_("The patient agreed that we contact them about this"),
        required=False,
        initial=True,
        help_text=_("Only then can we keep their name and contact details."),
    )
    _fields = _contact_fields("")
    patient_name, patient_phone, patient_email = (
        _fields["patient_name"],
        _fields["patient_phone"],
        _fields["patient_email"],
    )
    patient_address, contact_preference = _fields["patient_address"], _fields["contact_preference"]

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["severity"].choices = severity_choices()
        self.fields["touchpoint"].queryset = Touchpoint.objects.active().select_related("location")
        if not self.is_bound:
            self.fields["received_on"].initial = timezone.localdate()

    def clean(self) -> dict:
        data = super().clean()
        return self.clean_contact(
            data,
            consent_error=_(
                "Tick the consent box, or remove the patient's details: we keep them only when the "
                "patient agreed to be contacted."
            ),
        )


class SubjectForm(forms.Form):
    subject_area = forms.ChoiceField(
        label=_("Subject area"),
        choices=SubjectArea.choices,
        help_text=_("What the complaint is about: the area the annual complaints return counts it under."),
        error_messages={
            "required": _("Choose the subject area."),
            "invalid_choice": _("Choose the subject area."),
        },
    )


class AgreeDateForm(forms.Form):
    on = _date(
        _("Agreed response date"), help_text=_("The date you and the patient agreed for the final response.")
    )


class ExtendForm(forms.Form):
    new_date = _date(_("New response date"))
    reason = forms.CharField(
        label=_("Why it needs more time"),
        max_length=1000,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("Say that the patient agreed, and why."),
        error_messages={"required": _("Say why the response needs more time.")},
    )


class RespondForm(forms.Form):
    outcome = forms.ChoiceField(
        label=_("Outcome"),
        choices=[("", _("Choose the outcome")), *Outcome.choices],
        error_messages={"required": _("Choose the outcome.")},
    )
    summary = forms.CharField(
        label=_("What the response told the patient"),
        required=False,
        max_length=4000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("A few lines; not needed when the complaint was withdrawn."),
    )


class ComplaintFilterForm(BootstrapWidgets, forms.Form):
    state = forms.ChoiceField(
        label=_("Status"),
        required=False,
        choices=[("", _("Open")), ("answered", _("Answered")), ("all", _("Any"))],
    )
    clock = forms.ChoiceField(
        label=_("Clocks"),
        required=False,
        choices=[
            ("", _("Any")),
            ("ack_overdue", _("Acknowledgement overdue")),
            ("unacknowledged", _("Not acknowledged")),
            ("response_overdue", _("Response overdue")),
            ("no_date", _("No response date agreed")),
        ],
    )
    subject_area = forms.ChoiceField(
        label=_("Subject area"), required=False, choices=[("", _("Any")), *SubjectArea.choices]
    )
    received_by = forms.ChoiceField(
        label=_("Received by"), required=False, choices=[("", _("Any")), *ReceivedBy.choices]
    )
    outcome = forms.ChoiceField(
        label=_("Outcome"),
        required=False,
        choices=[("", _("Any")), *Outcome.choices, ("none", _("No final response yet"))],
    )
    received_from = _date(_("Received from"), required=False)
    received_to = _date(_("Received to (inclusive)"), required=False)

    def clean(self) -> dict:
        cleaned = super().clean()
        start, end = cleaned.get("received_from"), cleaned.get("received_to")
        if start and end and end < start:
            self.add_error("received_to", _("The end date is before the start date."))
            cleaned.pop("received_to", None)
        return cleaned


class ReturnYearForm(BootstrapWidgets, forms.Form):
    """Which financial year the complaints return covers: ``year`` is the one it starts in."""

    year = forms.TypedChoiceField(
        label=_("Financial year"),
        coerce=int,
        error_messages={
            "invalid_choice": _("Choose one of the years shown."),
            "required": _("Choose one of the years shown."),
        },
    )

    def __init__(self, *args, years: list[int], **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["year"].choices = [(year, f"{year}-{str(year + 1)[-2:]}") for year in years]


# --- The public form -------------------------------------------------------------------------------


class PublicComplaintForm(ContactFieldsMixin, forms.Form):
    """What a patient fills in to make a complaint. A complaint needs an answer, so consent to
    contact is part of it; a honeypot and the feedback forms' stamp turn away bots."""

    subject_area = forms.ChoiceField(
        label=_("What is it about?"),
        choices=[("", _("Choose one")), *SubjectArea.choices],
        error_messages={"required": _("Please choose what your complaint is about."),
                        "invalid_choice": _("Please choose one of the answers shown.")},
    )  # fmt: skip
    description = forms.CharField(
        label=_("Tell us what happened"),
        widget=forms.Textarea(attrs={"rows": 6}),
        max_length=8000,
        help_text=_("When it happened, who was involved if you know, and what you would like us to do."),
        error_messages={"required": _("Please tell us what happened.")},
    )
    patient_consented = forms.BooleanField(
        label=_("You may contact me about my complaint"),
        error_messages={"required": _("We need to be able to reply to your complaint. Please tick the box.")},
    )
    _fields = _contact_fields("public")
    patient_name, patient_phone, patient_email = (
        _fields["patient_name"],
        _fields["patient_phone"],
        _fields["patient_email"],
    )
    patient_address, contact_preference = _fields["patient_address"], _fields["contact_preference"]
    started = forms.CharField(widget=forms.HiddenInput, required=False)
    website = forms.CharField(label=_("Leave this empty"), required=False)

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["patient_name"].required = True
        self.fields["patient_name"].error_messages["required"] = _("Please give your name.")
        self.fields["contact_preference"].required = True
        self.fields["contact_preference"].error_messages["required"] = _("Please choose how we should reply.")
        if not self.is_bound:
            self.fields["started"].initial = started_stamp()

    @property
    def honeypot_filled(self) -> bool:
        return bool(str(self.data.get("website", "")).strip())

    def stamp(self) -> Started | None:
        try:
            shown_at, form_id = signing.loads(str(self.data.get("started", "")), salt=_STARTED_SALT)
            return Started(seconds_ago=timezone.now().timestamp() - float(shown_at), form_id=str(form_id))
        except (signing.BadSignature, TypeError, ValueError):
            return None

    def clean(self) -> dict:
        data = super().clean()
        return self.clean_contact(
            data, consent_error=_("We need to be able to reply to your complaint. Please tick the box.")
        )

    def error_links(self) -> list[tuple[str, str, str]]:
        """(anchor, label, message) for the error summary, in page order."""
        return [
            (
                self[name].auto_id + ("_0" if name == "contact_preference" else ""),
                self[name].label,
                str(error),
            )
            for name in self.fields
            for error in self.errors.get(name, [])
        ]


# --- Letters -----------------------------------------------------------------------------------------


class LetterTemplateForm(forms.ModelForm):
    class Meta:
        model = LetterTemplate
        fields = ["subject", "body"]
        widgets = {"body": forms.Textarea(attrs={"rows": 16})}

    def _checked(self, name: str) -> str:
        value = self.cleaned_data[name]
        check_placeholders(value)
        return value

    def clean_subject(self) -> str:
        return self._checked("subject")

    def clean_body(self) -> str:
        return self._checked("body")
