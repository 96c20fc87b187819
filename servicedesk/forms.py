from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from typing import Any

from django import forms
from django.contrib.auth.forms import PasswordResetForm
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from servicedesk import identity
from servicedesk.models import ClosedDay, Location, OpeningHours, Touchpoint, User
from servicedesk.roles import Role
from servicedesk.services import password_link_send


class PlainChoices:
    """Form mixin: no "---------" in a select. A required select asks "Choose…"; an optional one
    says what leaving it empty means (``blank_choice_label``: "None", or "All" in a filter form).
    Labels a form sets itself (``empty_label="All locations"``) are kept."""

    blank_choice_label = _("None")
    DASHES = "---------"

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[call-arg]
        for field in self.fields.values():  # type: ignore[attr-defined]
            blank = _("Choose…") if field.required else self.blank_choice_label
            if isinstance(field, forms.ModelChoiceField) and str(field.empty_label) == self.DASHES:
                field.empty_label = blank
            elif isinstance(field, forms.ChoiceField) and not isinstance(field, forms.ModelChoiceField):
                field.choices = [
                    (value, blank if value == "" and str(label) == self.DASHES else label)
                    for value, label in field.choices
                ]


def limit_to_sites(form: forms.BaseForm, sites: frozenset[int], *, help_text: str = "") -> None:
    """A site manager's form: its ``location`` offers only their sites (one must be chosen) and its
    ``touchpoint``, if it has one, only the touchpoints at those sites or shared by every site."""
    location = form.fields["location"]
    location.queryset = location.queryset.filter(pk__in=sites)
    location.required, location.empty_label = True, None
    if help_text:
        location.help_text = help_text
    if (touchpoint := form.fields.get("touchpoint")) is not None:
        touchpoint.queryset = touchpoint.queryset.filter(Q(location__in=sites) | Q(location__isnull=True))


class BootstrapWidgets:
    """Form mixin for forms a template lays out by hand (filters): each widget gets Bootstrap's
    class, so a select is a ``form-select`` that fits its column instead of the browser's own."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[call-arg]
        for field in self.fields.values():  # type: ignore[attr-defined]
            widget = field.widget
            if isinstance(widget, forms.CheckboxInput):
                css = "form-check-input"
            elif isinstance(widget, forms.Select) and not isinstance(widget, forms.SelectMultiple):
                css = "form-select"
            else:
                css = "form-control"
            widget.attrs.setdefault("class", css)


class LocationForm(forms.ModelForm):
    class Meta:
        model = Location
        fields = ["name", "address", "phone"]
        widgets = {"address": forms.Textarea(attrs={"rows": 3})}


class TouchpointForm(PlainChoices, forms.ModelForm):
    class Meta:
        model = Touchpoint
        fields = ["name", "channel", "location", "description"]
        widgets = {"description": forms.Textarea(attrs={"rows": 3})}
        help_texts = {"name": _('What staff call it, e.g. "Front desk — Riverside" or "Main phone line".')}

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["location"].queryset = Location.objects.active()


class StaffMemberForm(PlainChoices, forms.Form):
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
        label=_("Usual location"),
        queryset=Location.objects.active(),
        required=False,
        help_text=_("Their daily checklists come from here."),
    )
    other_locations = forms.ModelMultipleChoiceField(
        label=_("Also works at"),
        queryset=Location.objects.active(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_(
            "Other sites they cover. Staff see the incidents and checklists of their usual location and "
            "these; with no location at all, only work not tied to a site and work given to them."
        ),
    )
    is_active = forms.BooleanField(
        label=_("Can log in"),
        required=False,
        initial=True,
        help_text=_("Untick when someone leaves; their history stays."),
    )

    def __init__(
        self, *args, member: User | None = None, sites: frozenset[int] | None = None, **kwargs
    ) -> None:
        """``sites``: a site manager's sites, the only ones they can give (and never the group's
        manager role); None for the group's managers."""
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
                "other_locations": list(member.other_locations.values_list("pk", flat=True)),
                "is_active": member.is_active,
            }
        super().__init__(*args, **kwargs)
        if member is None:
            del self.fields["is_active"]
        else:
            self.fields["username"].disabled = True
        self.fields["username"].validators.append(User.username_validator)
        if sites is not None:
            self._limit_to(sites)

    def _limit_to(self, sites: frozenset[int]) -> None:
        role = self.fields["role"]
        role.choices = [(value, label) for value, label in Role.choices if value != Role.MANAGER]
        role.help_text = _("Site managers see the dashboard and manage the team of their own sites.")
        usual = self.fields["location"]
        kept = {self.member.location_id} if self.member and self.member.location_id else set()
        usual.queryset = usual.queryset.filter(pk__in=sites | kept)
        usual.required = True
        others = self.fields["other_locations"]
        others.queryset = others.queryset.filter(pk__in=sites)
        others.help_text = _("Other sites of yours they cover; sites you do not manage stay as they are.")

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

    # The page lists the days still to come, so a day in the past could never be seen or removed.
    YEARS_AHEAD = 3

    def clean_date(self) -> date:
        day = self.cleaned_data["date"]
        today = timezone.localdate()
        if day < today:
            raise forms.ValidationError(
                _("Choose today or a day to come: past days no longer move deadlines.")
            )
        if day.year > today.year + self.YEARS_AHEAD:
            raise forms.ValidationError(
                _("Choose a day within the next %(years)s years.") % {"years": self.YEARS_AHEAD}
            )
        return day


class PasswordLinkRequestForm(PasswordResetForm):
    """ "Forgotten your password?": a link to choose a password, by email, through the outbox.

    Unlike Django's form it also answers someone whose invitation is pending (no password chosen
    yet: the welcome link may have expired or gone astray). An unknown address gets the same page
    and no email, so the form says nothing about who has an account.
    """

    def get_users(self, email: str) -> Iterator[User]:  # type: ignore[override]
        return iter(User.objects.filter(email__iexact=email.strip(), is_active=True).exclude(email=""))

    def save(self, *args: object, **kwargs: object) -> None:  # type: ignore[override]
        for user in self.get_users(self.cleaned_data["email"]):
            with transaction.atomic():
                password_link_send(user=user, reason="password_reset", now=timezone.now())


class PracticeIdentityForm(forms.Form):
    """The practice's logo and accent colour; the colour is refused when it would be hard to read."""

    logo = forms.FileField(
        label=_("Logo"),
        required=False,
        help_text=_(
            "A PNG, JPEG, WebP or GIF up to 2 MB. We keep a copy at most 600 by 200 pixels, "
            "without its metadata."
        ),
        widget=forms.FileInput(attrs={"accept": "image/png,image/jpeg,image/webp,image/gif"}),
    )
    remove_logo = forms.BooleanField(label=_("Remove the logo"), required=False)
    accent = forms.CharField(
        label=_("Accent colour"),
        required=False,
        help_text=_(
            "Used for the header of the patient pages, buttons, posters and the report. White text on it "
            "must be easy to read."
        ),
        widget=forms.TextInput(attrs={"type": "color"}),
    )
    standard_accent = forms.BooleanField(label=_("Use the standard blue"), required=False)

    def clean_logo(self) -> identity.PreparedLogo | None:
        upload = self.cleaned_data.get("logo")
        return identity.prepare_logo(upload) if upload else None

    def clean_accent(self) -> str:
        value = self.cleaned_data.get("accent", "")
        colour = identity.check_accent(value) if value else ""
        return "" if colour == identity.STANDARD_ACCENT else colour

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        if cleaned.get("standard_accent"):
            self.errors.pop("accent", None)
            cleaned["accent"] = ""
        return cleaned


class PracticeSettingsForm(forms.Form):
    """The practice-wide rules on the team page: today, who sees which sites' work."""

    staff_need_to_know = forms.BooleanField(
        label=_("Staff see only what their work needs"),
        required=False,
        help_text=_(
            "Ticked (recommended): staff see the incidents and checklists of the sites they work at, plus "
            "work not tied to a site and work given to them, and a patient's contact details only on "
            "incidents assigned to them or with an action of theirs. Managers always see everything. "
            "Untick to let every staff member see and work every site's incidents."
        ),
    )


def _region_choices() -> list[tuple[str, list[tuple[str, str]]]]:
    from servicedesk.working_days import COUNTRIES

    return [
        (str(name), [(f"{country}-{code}", str(label)) for code, label in regions.items()])
        for country, (name, regions) in COUNTRIES.items()
    ]


class PracticeCalendarForm(forms.Form):
    """Where the practice is, for its bank holidays: one choice of country and region."""

    place = forms.ChoiceField(
        label=_("Where the practice is"),
        choices=_region_choices,
        help_text=_(
            "Working-day clocks (a complaint acknowledged within 3 working days) and opening-hours SLA "
            "clocks skip this region's bank holidays, as well as your own closed days."
        ),
        error_messages={"invalid_choice": _("Choose the country and region from the list.")},
    )

    def place_parts(self) -> tuple[str, str]:
        country, region = self.cleaned_data["place"].split("-", 1)
        return country, region
