from __future__ import annotations

from datetime import date, timedelta

from django import forms
from django.utils.translation import gettext_lazy as _

from servicedesk.models import ClosedDay, Location, OpeningHours, Touchpoint, User
from servicedesk.roles import Role


class LocationForm(forms.ModelForm):
    class Meta:
        model = Location
        fields = ["name", "address", "phone"]
        widgets = {"address": forms.Textarea(attrs={"rows": 3})}


class TouchpointForm(forms.ModelForm):
    class Meta:
        model = Touchpoint
        fields = ["name", "channel", "location", "description"]
        widgets = {"description": forms.Textarea(attrs={"rows": 3})}
        help_texts = {"name": _('What staff call it, e.g. "Front desk — Riverside" or "Main phone line".')}

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["location"].queryset = Location.objects.active()


class StaffMemberForm(forms.Form):
    """A new team member, or the details of an existing one (``member`` given)."""

    username = forms.CharField(
        label=_("Username"),
        max_length=150,
        help_text=_("What they type to log in, e.g. jsmith. Letters, digits and @ . + - _ only."),
    )
    first_name = forms.CharField(label=_("First name"), max_length=150)
    last_name = forms.CharField(label=_("Last name"), max_length=150)
    email = forms.EmailField(
        label=_("Work email"), help_text=_("We send a link here so that they can choose their own password.")
    )
    role = forms.ChoiceField(
        label=_("Role"),
        choices=Role.choices,
        initial=Role.STAFF,
        help_text=_(
            "Managers set goals, design surveys and checklists, manage the team and see the dashboard."
        ),
    )
    location = forms.ModelChoiceField(
        label=_("Usual location"), queryset=Location.objects.active(), required=False
    )
    is_active = forms.BooleanField(
        label=_("Can log in"),
        required=False,
        initial=True,
        help_text=_("Untick when someone leaves; their history stays."),
    )

    def __init__(self, *args, member: User | None = None, **kwargs) -> None:
        self.member = member
        if member is not None:
            kwargs["initial"] = {
                **kwargs.get("initial", {}),
                "username": member.username,
                "first_name": member.first_name,
                "last_name": member.last_name,
                "email": member.email,
                "role": member.role or Role.STAFF,
                "location": member.location_id,
                "is_active": member.is_active,
            }
        super().__init__(*args, **kwargs)
        if member is None:
            del self.fields["is_active"]
        else:
            self.fields["username"].disabled = True
        self.fields["username"].validators.append(User.username_validator)

    def _others(self):
        return User.objects.exclude(pk=self.member.pk) if self.member else User.objects.all()

    def clean_username(self) -> str:
        username = self.cleaned_data["username"]
        if self.member is None and User.objects.filter(username__iexact=username).exists():
            raise forms.ValidationError(_("Someone already has this username; choose another."))
        return username

    def clean_email(self) -> str:
        email = self.cleaned_data["email"].strip()
        if self._others().filter(email__iexact=email).exists():
            raise forms.ValidationError(_("Another team member already uses this email address."))
        return email

    def clean_role(self) -> Role:
        return Role(self.cleaned_data["role"])


class DashboardFilterForm(forms.Form):
    """The dashboard's period and filter, from the query string. Every field is optional."""

    days = forms.TypedChoiceField(
        label=_("Period"),
        coerce=int,
        required=False,
        initial=30,
        choices=[
            (7, _("Last 7 days")),
            (30, _("Last 30 days")),
            (90, _("Last 90 days")),
            (365, _("Last 12 months")),
        ],
        help_text=_("Compared with the same number of days before."),
    )
    until = forms.DateField(
        label=_("Ending on"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
        help_text=_("Leave empty for today."),
    )
    location = forms.ModelChoiceField(
        Location.objects.order_by("name"), label=_("Location"), required=False, empty_label=_("All locations")
    )
    touchpoint = forms.ModelChoiceField(
        Touchpoint.objects.select_related("location").order_by("name"),
        label=_("Touchpoint"),
        required=False,
        empty_label=_("All touchpoints"),
    )
    need_profile = forms.ModelChoiceField(
        None, label=_("Patient group"), required=False, empty_label=_("All patients")
    )

    def __init__(self, *args, today: date, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        from design.models import PatientNeedProfile  # the dashboard reads every pillar; core does not

        self.today = today
        self.fields["need_profile"].queryset = PatientNeedProfile.objects.order_by("name")
        for field in self.fields.values():
            field.widget.attrs["class"] = "form-control" if field is self.fields["until"] else "form-select"

    def clean_until(self) -> date | None:
        until = self.cleaned_data.get("until")
        if until and until > self.today:
            raise forms.ValidationError(_("The period cannot end in the future; leave it empty for today."))
        if until and until.year < 2000:
            raise forms.ValidationError(_("Choose a date from 2000 onwards."))
        return until

    def clean(self) -> dict:
        cleaned = super().clean()
        location, touchpoint = cleaned.get("location"), cleaned.get("touchpoint")
        if location and touchpoint and touchpoint.location_id not in (None, location.pk):
            self.add_error(
                "touchpoint",
                _("%(touchpoint)s is at %(other)s, not %(location)s: choose one or the other.")
                % {"touchpoint": touchpoint, "other": touchpoint.location, "location": location},
            )
        return cleaned


class MonthlyReportForm(forms.Form):
    """Which month the printable report is about: one of the last 24, the last complete one by default."""

    month = forms.TypedChoiceField(label=_("Month"), coerce=date.fromisoformat)

    def __init__(self, *args, today: date, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        months, month = [], today.replace(day=1)
        for _i in range(24):
            months.append((month.isoformat(), month.strftime("%B %Y")))
            month = (month - timedelta(days=1)).replace(day=1)
        self.today = today
        self.fields["month"].choices = months
        self.fields["month"].widget.attrs["class"] = "form-select"
        self.fields["month"].initial = self.default_month().isoformat()

    def default_month(self) -> date:
        """The last complete month: what a practice meeting looks back on."""
        return (self.today.replace(day=1) - timedelta(days=1)).replace(day=1)


class OpeningDayForm(forms.Form):
    """One weekday of the practice's opening hours: open or closed, and from when to when."""

    weekday = forms.TypedChoiceField(
        choices=OpeningHours.Weekday.choices, coerce=int, widget=forms.HiddenInput
    )
    is_open = forms.BooleanField(label=_("Open"), required=False)
    opens = forms.TimeField(label=_("Opens"), required=False, widget=forms.TimeInput(attrs={"type": "time"}))
    closes = forms.TimeField(
        label=_("Closes"), required=False, widget=forms.TimeInput(attrs={"type": "time"})
    )

    @property
    def time_fields(self) -> list[forms.BoundField]:
        return [self["opens"], self["closes"]]

    @property
    def day_name(self) -> str:
        weekday = self["weekday"].value()
        return str(OpeningHours.Weekday(int(weekday)).label) if weekday not in (None, "") else ""

    def clean(self) -> dict:
        data = super().clean()
        if not data.get("is_open"):
            return data
        opens, closes = data.get("opens"), data.get("closes")
        if opens is None and "opens" not in self.errors:
            self.add_error("opens", _("Say when the practice opens, or untick Open."))
        if closes is None and "closes" not in self.errors:
            self.add_error("closes", _("Say when the practice closes, or untick Open."))
        if opens and closes and closes <= opens:
            self.add_error("closes", _("Closing time must be after opening time."))
        return data


class BaseOpeningHoursFormSet(forms.BaseFormSet):
    def clean(self) -> None:
        super().clean()
        if any(self.errors):
            return
        weekdays = [form.cleaned_data.get("weekday") for form in self.forms]
        if sorted(weekdays) != list(OpeningHours.Weekday.values):
            raise forms.ValidationError(_("Give every day of the week once. Reload the page and try again."))


OpeningHoursFormSet = forms.formset_factory(
    OpeningDayForm,
    formset=BaseOpeningHoursFormSet,
    extra=0,
    min_num=7,
    max_num=7,
    validate_min=True,
    validate_max=True,
)


class ClosedDayForm(forms.ModelForm):
    class Meta:
        model = ClosedDay
        fields = ["date", "reason"]
        widgets = {"date": forms.DateInput(attrs={"type": "date"})}
        error_messages = {"date": {"unique": _("That day is already marked as closed.")}}
