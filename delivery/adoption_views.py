"""Adopting a group checklist: at one of my sites (a site manager), or at every site (the group's
managers); and starting a run now, which for a group checklist sites adopted starts each adopting
site's copy. All answer on the checklist's page; refusals come back there as a 400."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_POST

from delivery import adoption, services
from delivery.adoption_forms import AdoptForm
from delivery.models import ChecklistTemplate
from delivery.views import template_detail_context, templates_seen_by
from servicedesk.access import manager_required, site_manager_required
from servicedesk.refusal import refused


def _group_template(pk: int) -> ChecklistTemplate:
    """A checklist sites can adopt (every site manager may read it); a site's own is a 404."""
    return get_object_or_404(adoption.group_templates().select_related("touchpoint", "protocol"), pk=pk)


def _refused(request: HttpRequest, template: ChecklistTemplate, **error: str) -> HttpResponse:
    """The checklist's page again, as a 400, with ``adopt_error`` or ``start_error`` shown."""
    context = template_detail_context(request, template, **error)
    return refused(request, "delivery/template_detail.html", context)


@require_POST
@site_manager_required
def template_adopt(request: HttpRequest, pk: int) -> HttpResponse:
    group = _group_template(pk)
    form = AdoptForm(request.POST)
    if not form.is_valid():
        return _refused(request, group, adopt_error=" ".join(form.errors["location"]))
    site = form.cleaned_data["location"]
    if not request.user.manages_site(site.pk):
        raise PermissionDenied(_("You can adopt checklists only at the sites you manage."))
    try:
        copy, created = adoption.template_adopt(
            group_template=group, location=site, by=request.user, now=timezone.now()
        )
    except ValidationError as exc:
        return _refused(request, group, adopt_error=" ".join(exc.messages))
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


# --- Starting a run now -------------------------------------------------------------------------------


@require_POST
@site_manager_required
def template_start(request: HttpRequest, pk: int) -> HttpResponse:
    """Start a checklist's run now. A group checklist sites adopted starts at the adopting sites this
    person manages (``_start_at_sites``), as its scheduled runs come from their copies; one nobody
    adopted makes its practice-wide run, which the group's managers start."""
    templates = templates_seen_by(request.user).select_related("location")
    template = get_object_or_404(templates, pk=pk, is_active=True, per_person=False)
    if adoption.is_group_template(template) and template.site_templates.exists():
        return _start_at_sites(request, template)
    if not request.user.manages_site(template.location_id):
        raise Http404
    try:
        run, created = services.run_start_ad_hoc(template=template, by=request.user, now=timezone.now())
    except ValidationError as exc:
        return _refused(request, template, start_error=" ".join(exc.messages))
    if not created:
        messages.info(request, _("This checklist already has a run today; here it is."))
    return redirect("delivery:run_detail", pk=run.pk)


def _start_at_sites(request: HttpRequest, group: ChecklistTemplate) -> HttpResponse:
    """The sites' runs, started; the messages say where. A single site's run opens, as one start does."""
    try:
        start = services.runs_start_at_adopting_sites(
            group_template=group, sites=request.user.managed_site_ids, by=request.user, now=timezone.now()
        )
    except ValidationError as exc:
        return _refused(request, group, start_error=" ".join(exc.messages))
    if n := len(start.started):
        text = ngettext("Started “%(name)s” at %(n)s site.", "Started “%(name)s” at %(n)s sites.", n)
        messages.success(request, text % {"name": group, "n": n})
    if n := len(start.already):
        text = ngettext("%(n)s site already had a run today.", "%(n)s sites already had a run today.", n)
        messages.info(request, text % {"n": n})
    if n := start.skipped:
        text = ngettext(
            "%(n)s site did not start it: its copy is switched off or the site is closed.",
            "%(n)s sites did not start it: their copies are switched off or the sites are closed.",
            n,
        )
        messages.info(request, text % {"n": n})
    runs = start.started + start.already
    if len(runs) == 1:
        return redirect("delivery:run_detail", pk=runs[0].pk)
    return redirect("delivery:template_detail", pk=group.pk)
