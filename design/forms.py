from __future__ import annotations

from decimal import Decimal

from django import forms
from django.conf import settings
from django.core.validators import MinValueValidator
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from design.models import Accommodation, PatientNeed, PatientNeedProfile, ServiceGoal
from design.services import EDITABLE_FIELDS, parse_params
from servicedesk import metrics
from servicedesk.forms import PlainChoices, limit_to_sites
from servicedesk.metrics import Unit
from servicedesk.models import Location, Touchpoint, User
from servicedesk.roles import Role

# What a target may be, by the metric's unit: (lowest, highest, whole numbers only).
TARGET_RANGES: dict[str, tuple[Decimal | None, Decimal | None, bool]] = {
    Unit.PERCENT: (Decimal(0), Decimal(100), False),
    Unit.COUNT: (Decimal(0), None, True),
    Unit.HOURS: (Decimal(0), None, False),
    Unit.RATING: (Decimal(0), Decimal(10), False),
    Unit.SCORE: (Decimal(-100), Decimal(100), False),  # NPS runs from -100 to +100
}

FILTER_FIELDS = {"location": "location_id", "touchpoint": "touchpoint_id", "need_profile": "need_profile_id"}


def target_error(metric: metrics.Metric, target: Decimal) -> str | None:
    """Why ``target`` cannot be a target for ``metric`` (a percentage above 100…), or None."""
    lowest, highest, whole = TARGET_RANGES.get(metric.unit, (None, None, False))
    unit = Unit(metric.unit).label
    if whole and target != target.to_integral_value():
        return _("%(metric)s is a count: use a whole number.") % {"metric": metric.label}
    if lowest is not None and target < lowest:
        return _("%(metric)s cannot be below %(low)s %(unit)s.") % {
            "metric": metric.label,
            "low": lowest,
            "unit": unit,
        }
    if highest is not None and target > highest:
        return _("%(metric)s cannot be above %(high)s %(unit)s.") % {
            "metric": metric.label,
            "high": highest,
            "unit": unit,
        }
    return None


def _active_or_current(model, current_id: int | None):
    """Active choices, plus the one already chosen even if it has since been deactivated."""
    return model.objects.filter(Q(is_active=True) | Q(pk=current_id))


class GoalForm(PlainChoices, forms.ModelForm):
    metric_key = forms.ChoiceField(
        label=_("Metric"),
        help_text=_("The figure that shows whether we keep this promise. Its current value appears below."),
    )
    read_at = forms.DateTimeField(widget=forms.HiddenInput, required=False)
    metric_params = forms.CharField(
        label=_("Metric parameters"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("Rarely needed. One name=value per line, e.g. pillar=delivery."),
    )

    class Meta:
        model = ServiceGoal
        fields = list(EDITABLE_FIELDS)  # a manager edits exactly what the services accept
        widgets = {
            "purpose": forms.Textarea(attrs={"rows": 3}),
            "review_on": forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        }
        labels = {"title": _("What we promise")}
        help_texts = {
            "title": _('In the patient\'s words, e.g. "Phone answered within 3 rings".'),
            "owner": _("The manager who answers for this goal and reviews it."),
            "location": _("Leave empty to measure across the practice."),
            "touchpoint": _("Leave empty to measure at every touchpoint."),
            "need_profile": _("Measure only for patients in this profile. Leave empty for everyone."),
            "target": _("A number in the metric's unit, e.g. 90 for 90 %."),
            "budget_staff_hours": _("Staff time this goal may take each month."),
            "review_on": _("When to ask again whether the goal is right and affordable."),
        }
        error_messages = {
            "target": {"invalid": _("Enter the target as a number, e.g. 90 or 4.5.")},
            "tolerance": {"invalid": _("Enter the margin as a number, e.g. 2.")},
            "budget_money": {"invalid": _("Enter an amount of money, e.g. 250.")},
            "budget_staff_hours": {"invalid": _("Enter a number of hours, e.g. 6.")},
            "review_on": {"invalid": _("Enter a date, e.g. 31/03/2027.")},
        }

    def __init__(self, *args, sites: frozenset[int] | None = None, **kwargs) -> None:
        """``sites``: a site manager's sites, the only ones their goals can be about (None: any)."""
        super().__init__(*args, **kwargs)
        goal = self.instance
        choices = metrics.registry.choices()
        if goal.metric_key and goal.metric_key not in metrics.registry:
            # A goal may name a metric another app has not registered yet: keep it selectable.
            choices.append((goal.metric_key, _("%(key)s (not available yet)") % {"key": goal.metric_key}))
        self.fields["metric_key"].choices = [("", _("Choose a metric…")), *choices]
        self.fields["metric_key"].widget.attrs["data-metric-picker"] = "1"
        if goal.pk:
            # When the manager read the goal: a save by someone else in between is refused.
            self.initial["read_at"] = goal.updated_at.isoformat()
            self.initial["metric_params"] = "\n".join(
                f"{k}={v}" for k, v in sorted(goal.metric_params.items())
            )
        self.fields["owner"].queryset = User.objects.filter(
            Q(pk__in=User.objects.managers()) | Q(pk=goal.owner_id)
        ).order_by("first_name", "last_name")
        self.fields["location"].queryset = _active_or_current(Location, goal.location_id)
        self.fields["touchpoint"].queryset = _active_or_current(Touchpoint, goal.touchpoint_id)
        self.fields["need_profile"].queryset = _active_or_current(PatientNeedProfile, goal.need_profile_id)
        self.fields["location"].empty_label = _("All locations")
        if sites is not None:
            self._limit_to(sites)
        self.fields["touchpoint"].empty_label = _("All touchpoints")
        self.fields["need_profile"].empty_label = _("All patients")
        self.fields["budget_money"].label = _("Budget per month (%(currency)s)") % {
            "currency": settings.CURRENCY_SYMBOL
        }
        for name in ("target", "tolerance", "budget_money", "budget_staff_hours"):
            self.fields[name].widget.attrs.update({"inputmode": "decimal", "step": "any"})
        for name in ("budget_money", "budget_staff_hours", "tolerance"):
            self.fields[name].validators.append(MinValueValidator(0, message=_("This cannot be negative.")))
            self.fields[name].widget.attrs["min"] = "0"

    def _limit_to(self, sites: frozenset[int]) -> None:
        """A site manager's goal is about one of their sites, owned by a manager of it."""
        limit_to_sites(
            self, sites, help_text=_("Goals for every site are the group's; yours are about your sites.")
        )
        owners = User.objects.with_role(Role.SITE_MANAGER).at_sites(sites)
        owner = self.fields["owner"]
        owner.queryset = User.objects.filter(
            Q(pk__in=owners.values("pk")) | Q(pk=self.instance.owner_id)
        ).order_by("first_name", "last_name")

    def clean_metric_params(self) -> dict[str, str]:
        return parse_params(self.cleaned_data["metric_params"])

    def clean_review_on(self):
        review_on = self.cleaned_data["review_on"]
        if (not self.instance.pk or "review_on" in self.changed_data) and review_on < timezone.localdate():
            raise forms.ValidationError(_("The review date is in the past. Choose today or a later date."))
        return review_on

    def clean(self) -> dict:
        cleaned = super().clean()
        metric = metrics.registry.get(cleaned.get("metric_key") or "")
        if metric is None:
            return cleaned
        for field, filter_name in FILTER_FIELDS.items():
            if cleaned.get(field) and filter_name not in metric.filterable_by:
                self.add_error(
                    field,
                    _("%(metric)s cannot be cut by %(what)s; leave this empty.")
                    % {"metric": metric.label, "what": self.fields[field].label.lower()},
                )
        target = cleaned.get("target")
        if target is not None and (error := target_error(metric, target)):
            self.add_error("target", error)
        return cleaned

    def goal_fields(self) -> dict:
        return {name: self.cleaned_data[name] for name in self.Meta.fields}


class SiteTargetForm(forms.ModelForm):
    """What a site sets on a goal it adopted from the group: owner, target and at-risk margin."""

    read_at = forms.DateTimeField(widget=forms.HiddenInput, required=False)

    class Meta:
        model = ServiceGoal
        fields = list(ServiceGoal.SITE_FIELDS)
        help_texts = {
            "owner": _("The manager at this site who answers for this goal."),
            "target": _("This site's target, in the metric's unit. The group's target is shown above."),
        }
        error_messages = GoalForm.Meta.error_messages

    def __init__(self, *args, instance: ServiceGoal, **kwargs) -> None:
        # Always about a site's saved copy: its site and the moment it was read come from it.
        super().__init__(*args, instance=instance, **kwargs)
        goal = self.instance
        self.initial["read_at"] = goal.updated_at.isoformat()
        site_managers = User.objects.with_role(Role.SITE_MANAGER).at_sites(frozenset({goal.location_id}))
        self.fields["owner"].queryset = User.objects.filter(
            Q(pk__in=User.objects.managers()) | Q(pk__in=site_managers.values("pk")) | Q(pk=goal.owner_id)
        ).order_by("first_name", "last_name")
        for name in ("target", "tolerance"):
            self.fields[name].widget.attrs.update({"inputmode": "decimal", "step": "any"})
        self.fields["tolerance"].validators.append(
            MinValueValidator(0, message=_("This cannot be negative."))
        )
        self.fields["tolerance"].widget.attrs["min"] = "0"

    def clean_target(self) -> Decimal:
        target = self.cleaned_data["target"]
        metric = self.instance.metric
        if metric is not None and (error := target_error(metric, target)):
            raise forms.ValidationError(error)
        return target

    def site_fields(self) -> dict:
        return {name: self.cleaned_data[name] for name in self.Meta.fields}


class GoalFilterForm(forms.Form):
    status = forms.ChoiceField(
        label=_("Show"),
        required=False,
        choices=[("active", _("Active goals")), ("retired", _("Retired goals")), ("all", _("All goals"))],
    )
    pillar = forms.ChoiceField(
        label=_("Pillar"),
        required=False,
        choices=[("", _("All pillars")), *ServiceGoal._meta.get_field("pillar").choices],
    )


class NeedProfileForm(forms.ModelForm):
    class Meta:
        model = PatientNeedProfile
        fields = ["name", "description", "estimated_share", "preferred_touchpoints", "goals", "is_active"]
        widgets = {
            "description": forms.Textarea(attrs={"rows": 3}),
            "preferred_touchpoints": forms.CheckboxSelectMultiple,
            "goals": forms.CheckboxSelectMultiple,
        }
        help_texts = {
            "name": _('Who these patients are, e.g. "Older patients with limited mobility".'),
            "preferred_touchpoints": _("How these patients prefer to reach us."),
            "goals": _("The goals that serve these patients' needs."),
            "is_active": _("Untick to stop offering this profile; its history stays."),
        }
        error_messages = {
            "estimated_share": {"invalid": _("Enter a percentage, e.g. 12.5.")},
            "name": {"unique": _("Another profile already has this name.")},
        }

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        profile = self.instance
        current_touchpoints = (
            list(profile.preferred_touchpoints.values_list("pk", flat=True)) if profile.pk else []
        )
        current_goals = list(profile.goals.values_list("pk", flat=True)) if profile.pk else []
        self.fields["preferred_touchpoints"].queryset = Touchpoint.objects.filter(
            Q(is_active=True) | Q(pk__in=current_touchpoints)
        )
        self.fields["goals"].queryset = ServiceGoal.objects.filter(
            Q(status=ServiceGoal.Status.ACTIVE) | Q(pk__in=current_goals)
        )
        self.fields["estimated_share"].widget.attrs.update({"inputmode": "decimal", "step": "0.1"})
        self.fields["estimated_share"].error_messages.update(
            {
                "min_value": _("A share cannot be negative."),
                "max_value": _("A share cannot be more than 100 %%."),
            }
        )


class AccommodationFormSetBase(forms.BaseInlineFormSet):
    def clean(self) -> None:
        super().clean()
        seen = set()
        for form in self.forms:
            if not form.has_changed() or self._should_delete_form(form):
                continue
            kind = form.cleaned_data.get("kind")
            if kind and kind != Accommodation.Kind.OTHER:
                if kind in seen:
                    form.add_error("kind", _("This accommodation is listed twice; keep one."))
                seen.add(kind)


class PlainModelForm(PlainChoices, forms.ModelForm):
    """A formset row whose selects read "Choose…" rather than "---------"."""


NeedFormSet = forms.inlineformset_factory(
    PatientNeedProfile,
    PatientNeed,
    form=PlainModelForm,
    fields=["description", "priority"],
    extra=2,
    can_delete=True,
    labels={"description": _("Need"), "priority": _("Priority")},
)

AccommodationFormSet = forms.inlineformset_factory(
    PatientNeedProfile,
    Accommodation,
    form=PlainModelForm,
    formset=AccommodationFormSetBase,
    fields=["kind", "detail"],
    extra=2,
    can_delete=True,
)
