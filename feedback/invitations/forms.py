"""Forms for the managers' invitation pages."""

from __future__ import annotations

from django import forms
from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from feedback.invitations import Contact
from feedback.models import IntegrationToken, Invitation, InvitationRules, Survey
from feedback.sites import surveys_seen_by
from servicedesk.forms import BootstrapWidgets, PlainChoices, limit_to_sites
from servicedesk.models import Location


def _patient_surveys():
    return Survey.objects.for_patients().active().order_by("title")


class SiteFilterMixin:
    """A site manager's filter always names one of their sites (``feedback.sites.with_site_chosen``);
    naming another makes the form invalid, and the page refuses it with the field's message."""

    def __init__(self, *args, user=None, **kwargs) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[call-arg]
        sites = user.managed_site_ids if user is not None else None
        if sites is not None:
            limit_to_sites(self, sites)  # type: ignore[arg-type]
            if "survey" in self.fields:  # type: ignore[attr-defined]
                field = self.fields["survey"]  # type: ignore[attr-defined]
                field.queryset = surveys_seen_by(user, field.queryset)


class InvitationFilterForm(SiteFilterMixin, BootstrapWidgets, PlainChoices, forms.Form):
    """The invitations list's filters (GET). Every field is optional; bad values are ignored
    (a site manager's are refused: their list must never fall back to every site's)."""

    blank_choice_label = _("All")

    survey = forms.ModelChoiceField(
        label=_("Survey"), queryset=Survey.objects.for_patients().order_by("title"), required=False
    )
    status = forms.ChoiceField(
        label=_("Status"), choices=[("", _("Any status")), *Invitation.Status.choices], required=False
    )
    location = forms.ModelChoiceField(
        label=_("Location"), queryset=Location.objects.order_by("name"), required=False
    )
    source = forms.ChoiceField(
        label=_("Came from"), choices=[("", _("Anywhere")), *Invitation.Source.choices], required=False
    )
    visit_from = forms.DateField(
        label=_("Visits from"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    visit_to = forms.DateField(
        label=_("Visits to"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )

    def filter(self, queryset):
        if not self.is_valid():
            return queryset
        data = self.cleaned_data
        lookups = {
            "survey": data["survey"],
            "status": data["status"],
            "location": data["location"],
            "source": data["source"],
            "visit_at__date__gte": data["visit_from"],
            "visit_at__date__lte": data["visit_to"],
        }
        return queryset.filter(**{lookup: value for lookup, value in lookups.items() if value})


class ResponseRateFilterForm(SiteFilterMixin, BootstrapWidgets, PlainChoices, forms.Form):
    """The response-rate page's place (GET): every site, or one."""

    blank_choice_label = _("All")

    location = forms.ModelChoiceField(
        label=_("Location"), queryset=Location.objects.order_by("name"), required=False
    )


class VisitListUploadForm(forms.Form):
    survey = forms.ModelChoiceField(
        label=_("Invite patients to"),
        queryset=Survey.objects.none(),
        empty_label=None,
        help_text=_("Only active patient surveys can be sent."),
    )
    file = forms.FileField(
        label=_("Visit list (CSV)"),
        help_text=_(
            "One visit per row. Columns: first name, email and/or mobile, visit (date and time), location; "
            "optionally touchpoint, clinician, language (en/es), need profile, visit id. "
            "Nothing is imported until you have seen the check."
        ),
        widget=forms.ClearableFileInput(attrs={"accept": ".csv,text/csv"}),
    )

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["survey"].queryset = _patient_surveys()

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if upload.size > settings.INVITATION_IMPORT_MAX_BYTES:
            limit = settings.INVITATION_IMPORT_MAX_BYTES // (1024 * 1024)
            raise ValidationError(
                _("The file is larger than %(limit)s MB. Split it into smaller files.") % {"limit": limit}
            )
        return upload


class InvitationRulesForm(PlainChoices, forms.ModelForm):
    class Meta:
        model = InvitationRules
        fields = [
            "default_survey",
            "delay_minutes",
            "quiet_hours_start",
            "quiet_hours_end",
            "channel_preference",
            "reminder_after_days",
            "max_reminders",
            "expiry_days",
            "frequency_cap_days",
            "purge_after_days",
        ]
        widgets = {
            "quiet_hours_start": forms.TimeInput(attrs={"type": "time"}, format="%H:%M"),
            "quiet_hours_end": forms.TimeInput(attrs={"type": "time"}, format="%H:%M"),
        }

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["default_survey"].queryset = _patient_surveys()
        self.fields["max_reminders"].validators.append(_at_most(5))
        for name in ("expiry_days", "reminder_after_days", "purge_after_days"):
            self.fields[name].min_value = 1
            self.fields[name].widget.attrs["min"] = 1
            self.fields[name].validators.append(_at_least(1))

    def clean(self):
        data = super().clean()
        after, expiry = data.get("reminder_after_days"), data.get("expiry_days")
        if data.get("max_reminders") and after and expiry and after >= expiry:
            self.add_error(
                "reminder_after_days",
                _("A reminder must come before the link expires (%(days)s days).") % {"days": expiry},
            )
        return data


def _at_most(limit: int):
    def check(value: int) -> None:
        if value is not None and value > limit:
            raise ValidationError(_("At most %(limit)s.") % {"limit": limit})

    return check


def _at_least(limit: int):
    def check(value: int) -> None:
        if value is not None and value < limit:
            raise ValidationError(_("At least %(limit)s.") % {"limit": limit})

    return check


class IntegrationTokenForm(forms.ModelForm):
    class Meta:
        model = IntegrationToken
        fields = ["name"]


class ContactForm(forms.Form):
    """A patient's email address or mobile number, for an access or erasure request."""

    contact = forms.CharField(
        label=_("Email address or mobile number"),
        max_length=254,
        help_text=_(
            "Exactly as the patient gives it; we compare the normalised form (case, spaces, +44 or 0)."
        ),
    )

    def clean_contact(self) -> Contact:
        try:
            return Contact.from_search(self.cleaned_data["contact"])
        except ValidationError:
            raise ValidationError(_("Enter a valid email address or mobile number.")) from None


class ContactEraseForm(ContactForm):
    confirm = forms.BooleanField(
        label=_("I have checked the patient's identity and they asked us to erase their data."),
        error_messages={"required": _("Tick the box to confirm the erasure request.")},
    )
