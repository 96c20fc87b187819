from __future__ import annotations

from datetime import timedelta

from django import forms
from django.db.models import Case, Q, Value, When
from django.utils import timezone
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from recovery.models import SEVERITY_HELP, Category, Drill, FollowUp, Incident, RecoveryPlan, Severity
from servicedesk.attachments.forms import file_field, one_attachment, photo_field
from servicedesk.forms import BootstrapWidgets, PlainChoices
from servicedesk.models import Location, Touchpoint, User
from servicedesk.roles import Role


def severity_choices() -> list[tuple[str, str]]:
    """Each severity with the plain-language help staff are trained in, right beside its name."""
    return [
        (value, format_html("<strong>{}</strong> — {}", label, SEVERITY_HELP[Severity(value)]))
        for value, label in Severity.choices
    ]


class IncidentLogForm(forms.Form):
    """The quick log: what a receptionist can fill in on a phone in under a minute."""

    description = forms.CharField(
        label=_("What happened?"),
        widget=forms.Textarea(attrs={"rows": 3, "autofocus": True}),
        max_length=4000,
        help_text=_("A sentence or two is enough. The first line becomes the title."),
        error_messages={"required": _("Say what happened, in a sentence or two.")},
    )
    touchpoint = forms.ModelChoiceField(
        label=_("Where?"),
        queryset=Touchpoint.objects.none(),
        empty_label=_("Choose the touchpoint"),
        error_messages={"required": _("Choose where it happened.")},
    )
    severity = forms.ChoiceField(
        label=_("How serious is it?"),
        widget=forms.RadioSelect,
        error_messages={"required": _("Choose how serious it is.")},
    )
    category = forms.ChoiceField(
        label=_("What is it about?"),
        choices=[("", _("Choose a category")), *Category.choices],
        error_messages={"required": _("Choose what it is about.")},
    )
    patient_consented = forms.BooleanField(
        label=_("The patient agreed that we contact them about this"),
        required=False,
        help_text=_("Only then can we keep their name and contact details."),
    )
    patient_name = forms.CharField(label=_("Patient's name"), max_length=120, required=False)
    patient_phone = forms.CharField(
        label=_("Patient's phone"),
        max_length=40,
        required=False,
        widget=forms.TextInput(attrs={"type": "tel", "autocomplete": "off"}),
    )
    patient_email = forms.EmailField(
        label=_("Patient's email"),
        required=False,
        widget=forms.EmailInput(attrs={"autocomplete": "off"}),
        error_messages={"invalid": _("Enter an email address like name@example.com.")},
    )

    def __init__(self, *args, user: User, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        touchpoints = Touchpoint.objects.active().select_related("location")
        self.fields["touchpoint"].queryset = touchpoints
        self.fields["severity"].choices = severity_choices()
        # Someone's own site's touchpoints first: the likely answer is near the top.
        if user.location_id:
            self.fields["touchpoint"].queryset = touchpoints.order_by(
                Case(
                    When(location_id=user.location_id, then=Value(0)),
                    When(location__isnull=True, then=Value(1)),
                    default=Value(2),
                ),
                "name",
            )

    def clean(self) -> dict:
        data = super().clean()
        details = [data.get(f) for f in ("patient_name", "patient_phone", "patient_email")]
        if any(details) and not data.get("patient_consented"):
            raise forms.ValidationError(
                _(
                    "Tick the consent box, or remove the patient's details: we keep them only "
                    "when the patient agreed to be contacted."
                )
            )
        if data.get("patient_consented") and not (data.get("patient_phone") or data.get("patient_email")):
            self.add_error("patient_phone", _("Give a phone number or an email so that we can reach them."))
        return data


class IncidentFilterForm(BootstrapWidgets, forms.Form):
    SORTS = {
        "newest": ("-created_at", "-pk"),
        "oldest": ("created_at", "pk"),
        "due": ("resolve_by", "pk"),
        "severity": ("-severity_rank", "-created_at", "-pk"),
    }

    q = forms.CharField(label=_("Reference or words"), required=False)
    status = forms.ChoiceField(
        label=_("Status"),
        required=False,
        choices=[("", _("Open")), ("all", _("Any")), *Incident.Status.choices],
    )
    severity = forms.ChoiceField(
        label=_("Severity"), required=False, choices=[("", _("Any")), *Severity.choices]
    )
    category = forms.ChoiceField(
        label=_("Category"), required=False, choices=[("", _("Any")), *Category.choices]
    )
    touchpoint = forms.ModelChoiceField(
        label=_("Touchpoint"), required=False, queryset=Touchpoint.objects.all(), empty_label=_("Any")
    )
    location = forms.ModelChoiceField(
        label=_("Location"), required=False, queryset=Location.objects.all(), empty_label=_("Any")
    )
    assignee = forms.ModelChoiceField(
        label=_("Assignee"), required=False, queryset=User.objects.none(), empty_label=_("Anyone")
    )
    overdue = forms.BooleanField(label=_("Overdue only"), required=False)
    mine = forms.BooleanField(label=_("Assigned to me"), required=False)
    unassigned = forms.BooleanField(label=_("Nobody owns it yet"), required=False)
    sort = forms.ChoiceField(
        label=_("Sort by"),
        required=False,
        choices=[
            ("newest", _("Newest first")),
            ("oldest", _("Oldest first")),
            ("due", _("Resolve-by time")),
            ("severity", _("Most severe first")),
        ],
    )

    def __init__(self, *args, sites: frozenset[int] | None = None, **kwargs) -> None:
        """``sites``: the sites whose incidents the person sees (None: every site), so the Location
        and Touchpoint choices name no site they cannot see (``servicedesk.access.sites_seen_by``)."""
        super().__init__(*args, **kwargs)
        self.fields["assignee"].queryset = User.objects.team()
        if sites is not None:
            self.fields["location"].queryset = Location.objects.filter(pk__in=sites)
            self.fields["touchpoint"].queryset = Touchpoint.objects.filter(
                Q(location__in=sites) | Q(location__isnull=True)
            )


class AssignForm(forms.Form):
    assignee = forms.ModelChoiceField(
        label=_("Assign to"),
        queryset=User.objects.none(),
        empty_label=_("Choose a team member"),
        error_messages={"required": _("Choose who should own it.")},
    )

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["assignee"].queryset = User.objects.team()


class NoteForm(forms.Form):
    body = forms.CharField(
        label=_("Note"),
        widget=forms.Textarea(attrs={"rows": 3}),
        max_length=4000,
        error_messages={"required": _("Write the note first.")},
    )
    photo = photo_field()
    file = file_field()

    def clean(self) -> dict:
        cleaned = super().clean()
        cleaned["attachment"] = one_attachment(cleaned, "photo", "file")
        return cleaned


class ContactForm(forms.Form):
    channel = forms.ChoiceField(label=_("How"), choices=FollowUp.ContactChannel.choices)
    outcome = forms.ChoiceField(label=_("Outcome"), choices=FollowUp.ContactOutcome.choices)
    body = forms.CharField(
        label=_("What was said"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        max_length=4000,
        help_text=_("Listen, empathise, apologise, resolve, follow up: note what the patient needs from us."),
    )

    def __init__(self, *args, **kwargs) -> None:
        # Its own ids: the note form on the same page has a "body" too, and ids must be unique.
        kwargs.setdefault("auto_id", "id_contact_%s")
        super().__init__(*args, **kwargs)


class ActionForm(forms.Form):
    description = forms.CharField(
        label=_("Action"),
        max_length=1000,
        error_messages={"required": _("Say what needs doing.")},
        help_text=_('For example "Call the patient back with the new appointment".'),
    )
    due_on = forms.DateField(
        label=_("Due on"),
        widget=forms.DateInput(attrs={"type": "date"}),
        error_messages={"required": _("Give a due date."), "invalid": _("Enter a date like 2026-11-30.")},
    )
    owner = forms.ModelChoiceField(
        label=_("Owner"),
        required=False,
        queryset=User.objects.none(),
        empty_label=_("Whoever the incident is assigned to"),
    )

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["owner"].queryset = User.objects.team()
        self.fields["due_on"].initial = timezone.localdate() + timedelta(days=1)

    def clean_due_on(self):
        due_on = self.cleaned_data["due_on"]
        if due_on < timezone.localdate():
            raise forms.ValidationError(_("The due date is in the past."))
        return due_on


class ResolveForm(forms.Form):
    summary = forms.CharField(
        label=_("How was it put right?"),
        widget=forms.Textarea(attrs={"rows": 3}),
        max_length=4000,
        error_messages={"required": _("Say how it was put right.")},
    )
    root_cause = forms.CharField(
        label=_("Why did it happen?"),
        widget=forms.Textarea(attrs={"rows": 2}),
        max_length=4000,
        help_text=_("The root cause, so that it does not happen again."),
        error_messages={"required": _("Say why it happened.")},
    )


class ReasonForm(forms.Form):
    reason = forms.CharField(
        label=_("Reason"), max_length=1000, error_messages={"required": _("Give a reason.")}
    )


class SiteSearchForm(BootstrapWidgets, forms.Form):
    """The SLA page's sites table, narrowed to the sites whose name holds some words."""

    q = forms.CharField(
        label=_("Site name"),
        required=False,
        max_length=120,
        error_messages={"max_length": _("A site's name is at most 120 characters: type part of it.")},
    )


class DurationHoursField(forms.DecimalField):
    """A duration typed as hours ("4", "0.5"), stored as a timedelta."""

    def __init__(self, **kwargs) -> None:
        kwargs.setdefault("min_value", 0)
        kwargs.setdefault("max_value", 24 * 90)  # 90 days: a promise longer than that is a typo
        kwargs.setdefault("max_digits", 7)
        kwargs.setdefault("decimal_places", 2)
        super().__init__(**kwargs)

    def prepare_value(self, value):
        if isinstance(value, timedelta):
            hours = value.total_seconds() / 3600
            return f"{hours:g}"
        return value

    def clean(self, value):
        hours = super().clean(value)
        return None if hours is None else timedelta(hours=float(hours))


class SlaPolicyForm(forms.Form):
    respond_within = DurationHoursField(
        label=_("Respond within (hours)"), help_text=_("From logging to acknowledgement.")
    )
    resolve_within = DurationHoursField(
        label=_("Resolve within (hours)"), help_text=_("From logging to resolution; pauses do not count.")
    )
    opening_hours_only = forms.BooleanField(
        label=_("Count opening hours only"),
        required=False,
        help_text=_(
            "The clocks, and the escalation steps, stop while the practice is closed (Practice → Opening "
            "hours). Leave it off for incidents that cannot wait until morning."
        ),
    )

    def clean(self) -> dict:
        data = super().clean()
        respond, resolve = data.get("respond_within"), data.get("resolve_within")
        if respond is not None and respond <= timedelta(0):
            self.add_error("respond_within", _("Give a time longer than zero."))
        if respond and resolve is not None and resolve < respond:
            self.add_error("resolve_within", _("Resolving cannot be due before the first response."))
        return data


class EscalationStepForm(forms.Form):
    after = DurationHoursField(
        label=_("Hours past the deadline"),
        help_text=_("0 = as soon as the deadline is missed."),
    )
    notify_role = forms.ChoiceField(
        label=_("Notify a role"), required=False, choices=[("", "—"), *Role.choices]
    )
    notify_user = forms.ModelChoiceField(
        label=_("or a person"), required=False, queryset=User.objects.none(), empty_label="—"
    )

    def __init__(self, *args, people=None, **kwargs) -> None:
        """``people``: whom a step may name (everyone on the team unless the view narrows it)."""
        super().__init__(*args, **kwargs)
        self.fields["notify_user"].queryset = User.objects.team() if people is None else people

    def clean(self) -> dict:
        data = super().clean()
        if not self.has_changed() and not data.get("DELETE"):
            return data
        if bool(data.get("notify_role")) == bool(data.get("notify_user")):
            raise forms.ValidationError(_("Choose either a role or one person to notify, not both."))
        return data


EscalationStepFormSet = forms.formset_factory(EscalationStepForm, extra=1, can_delete=True, max_num=6)


class RecoveryPlanForm(PlainChoices, forms.ModelForm):
    class Meta:
        model = RecoveryPlan
        fields = ["title", "summary", "owner", "drill_every_days", "next_drill_on", "is_active"]
        widgets = {
            "summary": forms.Textarea(attrs={"rows": 2}),
            "next_drill_on": forms.DateInput(attrs={"type": "date"}),
        }

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["owner"].queryset = User.objects.team()


class PlanStepForm(forms.Form):
    instruction = forms.CharField(
        label=_("What to do"), widget=forms.Textarea(attrs={"rows": 2}), max_length=2000
    )
    owner = forms.CharField(
        label=_("Who does it"), max_length=120, help_text=_('A role, e.g. "Duty manager".')
    )


PlanStepFormSet = forms.formset_factory(PlanStepForm, extra=2, can_delete=True, max_num=40)


class DrillForm(PlainChoices, forms.ModelForm):
    file = file_field(
        label=_("Photo or file (optional)"), help_text=_("A photo of the drill, or its report as a PDF.")
    )

    class Meta:
        model = Drill
        fields = ["held_on", "outcome", "notes"]
        widgets = {
            "held_on": forms.DateInput(attrs={"type": "date"}),
            "notes": forms.Textarea(attrs={"rows": 3}),
        }

    def clean_held_on(self):
        held_on = self.cleaned_data["held_on"]
        if held_on > timezone.localdate():
            raise forms.ValidationError(_("Log a drill once it has happened."))
        return held_on
