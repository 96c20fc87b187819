from __future__ import annotations

from django import forms
from django.utils.text import slugify
from django.utils.translation import gettext_lazy as _

from delivery.models import ChecklistItem, ChecklistResult, ChecklistTemplate, Dimension, Protocol
from design.models import ServiceGoal
from servicedesk.attachments.forms import photo_field
from servicedesk.forms import PlainChoices, limit_to_sites
from servicedesk.models import Location, Touchpoint, User


def unique_slug(title: str, *, exclude_pk: int | None = None) -> str:
    base = slugify(title)[:70] or "checklist"
    others = ChecklistTemplate.objects.filter(slug__startswith=base).exclude(pk=exclude_pk)
    taken = set(others.values_list("slug", flat=True))
    slug, n = base, 2
    while slug in taken:
        slug, n = f"{base}-{n}", n + 1
    return slug


class ChecklistTemplateForm(PlainChoices, forms.ModelForm):
    class Meta:
        model = ChecklistTemplate
        fields = [
            "title",
            "slug",
            "description",
            "dimension",
            "touchpoint",
            "location",
            "frequency",
            "due_time",
            "responsible_role",
            "responsible_person",
            "protocol",
            "service_goal",
            "per_person",
            "due_within_days",
            "renew_every_days",
            "is_active",
        ]
        widgets = {
            "due_time": forms.TimeInput(attrs={"type": "time"}, format="%H:%M"),
            "description": forms.Textarea(attrs={"rows": 2}),
        }
        error_messages = {"title": {"required": _("Give the checklist a name staff will recognise.")}}

    def __init__(self, *args, sites: frozenset[int] | None = None, **kwargs) -> None:
        """``sites``: a site manager's sites, the only ones their checklists can be at (None: any)."""
        super().__init__(*args, **kwargs)
        self.fields["touchpoint"].queryset = Touchpoint.objects.active().select_related("location")
        self.fields["location"].queryset = Location.objects.active()
        self.fields["responsible_person"].queryset = User.objects.team()
        self.fields["protocol"].queryset = Protocol.objects.filter(is_active=True)
        self.fields["service_goal"].queryset = ServiceGoal.objects.active().order_by("title")
        self.fields["location"].empty_label = _("Practice-wide")
        if sites is not None:
            limit_to_sites(
                self, sites, help_text=_("Practice-wide checklists are the group's; yours are at your sites.")
            )
            person = self.fields["responsible_person"]
            person.queryset = person.queryset.at_sites(sites)

    def clean(self) -> dict:
        data = super().clean()
        dimension, per_person = data.get("dimension"), data.get("per_person")
        if per_person and dimension != Dimension.PEOPLE:
            self.add_error(
                "per_person", _("Only people checklists (onboarding, training) can be per team member.")
            )
        if not per_person and not data.get("responsible_role") and not data.get("responsible_person"):
            self.add_error("responsible_role", _("Choose who does this checklist: a role or a person."))
        if not data.get("slug") and data.get("title"):
            data["slug"] = unique_slug(data["title"], exclude_pk=self.instance.pk)
        touchpoint, location = data.get("touchpoint"), data.get("location")
        if location and self.instance.pk and self.instance.site_templates.exists():
            self.add_error("location", _("Sites have adopted this group checklist: it stays practice-wide."))
        if touchpoint and touchpoint.location_id and location and touchpoint.location_id != location.pk:
            self.add_error(
                "touchpoint", _("This touchpoint is at %(place)s.") % {"place": touchpoint.location}
            )
        return data


class ChecklistItemForm(forms.ModelForm):
    class Meta:
        model = ChecklistItem
        fields = ["text", "guidance", "is_critical", "note_required_on_fail"]
        widgets = {"guidance": forms.Textarea(attrs={"rows": 2})}
        error_messages = {"text": {"required": _("Write what should be checked.")}}


class ResultForm(forms.Form):
    outcome = forms.ChoiceField(
        choices=ChecklistResult.Outcome.choices,
        error_messages={
            "required": _("Tap Pass, Fail or N/A."),
            "invalid_choice": _("Tap Pass, Fail or N/A."),
        },
    )
    note = forms.CharField(required=False, max_length=2000, label=_("Note"))
    photo = photo_field(label=_("Photo"), help_text=_("Optional: what is wrong, as you see it."))


class ProtocolForm(PlainChoices, forms.ModelForm):
    body = forms.CharField(
        label=_("Text"),
        widget=forms.Textarea(attrs={"rows": 14}),
        help_text=_(
            "Markdown: # headings, - lists, **bold**, [links](https://…). Saving a change adds a version."
        ),
        error_messages={"required": _("Write the protocol's steps.")},
    )
    change_note = forms.CharField(
        label=_("What changed"), max_length=300, required=False, help_text=_("Shown in the version history.")
    )

    class Meta:
        model = Protocol
        fields = ["title", "touchpoint", "owner", "review_by", "is_active"]
        widgets = {"review_by": forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")}
        error_messages = {"title": {"required": _("Give the protocol a title.")}}

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["owner"].queryset = User.objects.team()
        self.fields["touchpoint"].queryset = Touchpoint.objects.active()
        if self.instance.pk and self.instance.current_version:
            self.fields["body"].initial = self.instance.current_version.body
