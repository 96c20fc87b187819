"""The manager's forms: the rule for "recurring", and a change answering a pattern."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from delivery.models import ChecklistItem, ChecklistTemplate, Dimension, Protocol
from design.models import ServiceGoal
from learning.models import Change, LearningRules, Pattern


class RulesForm(forms.ModelForm):
    class Meta:
        model = LearningRules
        fields = ["threshold", "window_days"]
        error_messages = {
            "threshold": {"min_value": _("A pattern needs at least 2 incidents.")},
            "window_days": {
                "min_value": _("The window is at least 1 day."),
                "max_value": _("The window is at most 365 days."),
            },
        }


class StatusFilterForm(forms.Form):
    status = forms.ChoiceField(
        label=_("Status"),
        required=False,
        choices=[("", _("Open and answered")), *Pattern.Status.choices, ("all", _("All"))],
    )


# The kind of change → the field of the form that picks its object.
LINK_FIELDS = {
    Change.Kind.CHECKLIST_ITEM: "checklist_item",
    Change.Kind.PROTOCOL: "protocol",
    Change.Kind.TRAINING: "training",
    Change.Kind.GOAL: "goal",
}


class ChangeForm(forms.Form):
    kind = forms.ChoiceField(
        label=_("What kind of change"), choices=Change.Kind.choices, widget=forms.RadioSelect
    )
    description = forms.CharField(
        label=_("What changed"),
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("What the team does differently now, so that this stops happening."),
        error_messages={"required": _("Say what changed.")},
    )
    made_on = forms.DateField(
        label=_("Made on"),
        widget=forms.DateInput(attrs={"type": "date"}),
        help_text=_("The day the change took effect: figures before and after are compared from it."),
        error_messages={"required": _("Give the day the change was made."), "invalid": _("Enter a date.")},
    )
    checklist_item = forms.ModelChoiceField(
        label=_("Checklist item"),
        required=False,
        queryset=ChecklistItem.objects.none(),
        help_text=_("The new or edited item. Not added yet? Leave empty and add it next."),
    )
    protocol = forms.ModelChoiceField(label=_("Protocol"), required=False, queryset=Protocol.objects.none())
    training = forms.ModelChoiceField(
        label=_("Training checklist"),
        required=False,
        queryset=ChecklistTemplate.objects.none(),
        help_text=_("A people checklist about each team member (onboarding, a refresher)."),
    )
    goal = forms.ModelChoiceField(
        label=_("Service goal"), required=False, queryset=ServiceGoal.objects.none()
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["checklist_item"].queryset = (
            ChecklistItem.objects.filter(is_active=True)
            .select_related("template")
            .order_by("template__title", "order")
        )
        self.fields["checklist_item"].label_from_instance = lambda item: f"{item.template.title}: {item.text}"
        self.fields["protocol"].queryset = Protocol.objects.order_by("title")
        self.fields["training"].queryset = ChecklistTemplate.objects.filter(
            dimension=Dimension.PEOPLE, per_person=True
        ).order_by("title")
        self.fields["goal"].queryset = ServiceGoal.objects.active().order_by("title")
        for name in LINK_FIELDS.values():
            self.fields[name].empty_label = _("None (not made yet, or another kind)")

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        kind = cleaned.get("kind")
        for other_kind, name in LINK_FIELDS.items():
            if other_kind != kind and cleaned.get(name) is not None:
                self.add_error(name, _("Leave this empty: it is for another kind of change."))
        return cleaned

    def values(self) -> dict[str, Any]:
        """The service's arguments: the kind, what changed, the day, and the one linked object."""
        kind = Change.Kind(self.cleaned_data["kind"])
        return {
            "kind": kind,
            "description": self.cleaned_data["description"],
            "made_on": self.cleaned_data["made_on"],
            "linked": self.cleaned_data.get(LINK_FIELDS[kind]),
        }
