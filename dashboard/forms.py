"""The dashboard's two forms: which period and place to show, and which month to report on."""

from __future__ import annotations

from datetime import date, timedelta

from django import forms
from django.utils.translation import gettext_lazy as _

from design.models import PatientNeedProfile
from servicedesk.forms import BootstrapWidgets, limit_to_sites
from servicedesk.models import Location, Touchpoint


class DashboardFilterForm(BootstrapWidgets, forms.Form):
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

    def __init__(self, *args, today: date, sites: frozenset[int] | None = None, **kwargs) -> None:
        """``sites``: the sites a site manager manages (one of them is always chosen); None for all."""
        super().__init__(*args, **kwargs)
        self.today = today
        self.fields["need_profile"].queryset = PatientNeedProfile.objects.order_by("name")
        if sites is not None:
            limit_to_sites(self, sites)

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


class MonthlyReportForm(BootstrapWidgets, forms.Form):
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
        self.fields["month"].initial = self.default_month().isoformat()

    def default_month(self) -> date:
        """The last complete month: what a practice meeting looks back on."""
        return (self.today.replace(day=1) - timedelta(days=1)).replace(day=1)
