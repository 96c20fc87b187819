"""Adopting a group checklist: at one of my sites (a site manager), or at every site (the group's
managers). Both answer on the group checklist's page; refusals come back there as a 400."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from delivery import adoption
from delivery.adoption_forms import AdoptForm
from delivery.models import ChecklistTemplate
from delivery.views import template_detail_context
from servicedesk.access import manager_required, site_manager_required
from servicedesk.refusal import refused


def _group_template(pk: int) -> ChecklistTemplate:
    """A checklist sites can adopt (every site manager may read it); a site's own is a 404."""
    return get_object_or_404(adoption.group_templates().select_related("touchpoint", "protocol"), pk=pk)


def _refused(request: HttpRequest, template: ChecklistTemplate, message: str) -> HttpResponse:
    context = template_detail_context(request, template, adopt_error=message)
    return refused(request, "delivery/template_detail.html", context)


@require_POST
@site_manager_required
def template_adopt(request: HttpRequest, pk: int) -> HttpResponse:
    group = _group_template(pk)
    form = AdoptForm(request.POST)
    if not form.is_valid():
        return _refused(request, group, " ".join(form.errors["location"]))
    site = form.cleaned_data["location"]
    if not request.user.manages_site(site.pk):
        raise PermissionDenied(_("You can adopt checklists only at the sites you manage."))
    try:
        copy, created = adoption.template_adopt(
            group_template=group, location=site, by=request.user, now=timezone.now()
        )
    except ValidationError as exc:
        return _refused(request, group, " ".join(exc.messages))
    if created:
        messages.success(request, _("%(site)s now does “%(name)s”.") % {"site": site, "name": group})
    else:
        messages.info(request, _("%(site)s had already adopted “%(name)s”.") % {"site": site, "name": group})
    return redirect("delivery:template_detail", pk=copy.pk)


@require_POST
@manager_required
def template_adopt_everywhere(request: HttpRequest, pk: int) -> HttpResponse:
    group = _group_template(pk)
    made = adoption.template_adopt_everywhere(group_template=group, by=request.user, now=timezone.now())
    if made:
        messages.success(request, _("“%(name)s” adopted at %(n)s more sites.") % {"name": group, "n": made})
    else:
        messages.info(request, _("Every open site had already adopted “%(name)s”.") % {"name": group})
    return redirect("delivery:template_detail", pk=group.pk)
