"""Forms and page reads for adopting the group's checklists at sites (``delivery.adoption``)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.db.models import Count, Q
from django.utils.translation import gettext_lazy as _

from delivery import adoption
from delivery.models import ChecklistTemplate
from servicedesk.forms import PlainChoices
from servicedesk.models import Location, User


class AdoptForm(forms.Form):
    location = forms.ModelChoiceField(
        queryset=Location.objects.active(),
        label=_("Site"),
        error_messages={
            "required": _("Choose the site that adopts this checklist."),
            "invalid_choice": _("Choose one of the group's open sites."),
        },
    )


class AdoptedTemplateForm(PlainChoices, forms.ModelForm):
    """A site's copy of a group checklist: the site sets when it is due and who does it, or switches
    it off; what is checked, and how often, is the group's."""

    class Meta:
        model = ChecklistTemplate
        fields = ["due_time", "responsible_role", "responsible_person", "is_active"]
        widgets = {"due_time": forms.TimeInput(attrs={"type": "time"}, format="%H:%M")}

    def __init__(self, *args, sites: frozenset[int] | None = None, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        people = User.objects.team()
        self.fields["responsible_person"].queryset = people.at_sites({self.instance.location_id})
        self.fields["is_active"].help_text = _("Switched off, this site makes no runs of it.")

    def clean(self) -> dict:
        data = super().clean()
        if (
            not self.instance.per_person
            and not data.get("responsible_role")
            and not data.get("responsible_person")
        ):
            self.add_error("responsible_role", _("Choose who does this checklist: a role or a person."))
        return data


def adoption_context(user: User, template: ChecklistTemplate) -> dict[str, Any]:
    """What a checklist's page shows about adoption, in at most two queries whatever the number of
    sites: for a group checklist, the copies at the sites (each with its site), where this person
    may still adopt it and at how many of their sites "Start a run now" starts one (``start_sites``);
    for a site's copy, nothing more (``template.group_template`` is joined)."""
    if not adoption.is_group_template(template):
        return {"is_group": False}
    copies = list(template.site_templates.select_related("location").order_by("location__name"))
    adopted = [copy.location_id for copy in copies]
    open_sites = Location.objects.active().exclude(pk__in=adopted).order_by("name")
    start_sites = sum(1 for copy in copies if copy.makes_runs and user.manages_site(copy.location_id))
    sites = user.managed_site_ids
    if sites is None:
        # The group's managers adopt everywhere at once; the button says how many sites that is.
        return {
            "is_group": True,
            "copies": copies,
            "unadopted": open_sites.count(),
            "adopt_sites": [],
            "start_sites": start_sites,
        }
    return {
        "is_group": True,
        "copies": copies,
        "unadopted": 0,
        "adopt_sites": list(open_sites.filter(pk__in=sites)),
        "start_sites": start_sites,
    }


def group_checklists_for(user: User) -> list[ChecklistTemplate]:
    """For a site manager's checklists page: the group's active checklists, each with how many of
    their sites adopted it (``adopted_here``), in one query. The group's managers see them in the
    page's own list: none here."""
    sites = user.managed_site_ids
    if sites is None:
        return []
    here = Count("site_templates", filter=Q(site_templates__location__in=sites))
    checklists = adoption.group_templates().filter(is_active=True).annotate(adopted_here=here)
    return list(checklists.order_by("title"))
