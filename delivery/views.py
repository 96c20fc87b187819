"""Delivery pages: the run page staff use on a phone, and the managers' checklist design pages.

Role rules live in one place: ``get_run_for_user`` (anyone on the team may look at a run they
may see: ``ChecklistRun.objects.visible_to``, their own sites' with need to know on)
and ``services.ensure_can_work_on`` (only the person or role it is for, or a manager,
may record on it). Views find, validate, call one service, and render or redirect.
"""

from __future__ import annotations

from datetime import timedelta

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Count, Prefetch, Q, QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST
from django.views.generic import CreateView, UpdateView

from delivery import adoption, services, training
from delivery.adoption_forms import AdoptedTemplateForm, adoption_context, group_checklists_for
from delivery.forms import ChecklistItemForm, ChecklistTemplateForm, ProtocolForm, ResultForm
from delivery.goals import acknowledgements
from delivery.metrics import completion_pct, runs_due
from delivery.models import (
    ChecklistItem,
    ChecklistResult,
    ChecklistRun,
    ChecklistTemplate,
    Dimension,
    Protocol,
)
from servicedesk.access import (
    Confirmation,
    ManagerRequiredMixin,
    SiteManagerRequiredMixin,
    confirm_first,
    manager_required,
    site_manager_required,
    team_required,
)
from servicedesk.metrics import Filters, Period
from servicedesk.models import Touchpoint
from servicedesk.paging import UncountedPaginator
from servicedesk.refusal import RefusedFormMixin, refused

HISTORY_PAGE_SIZE = 25


# --- Runs (staff) ---------------------------------------------------------------------------------


def get_run_for_user(user, pk: int) -> ChecklistRun:
    """A run ``user`` may see (another site's is a 404; the decorator has checked the role);
    recording is narrower (``services.ensure_can_work_on``)."""
    return get_object_or_404(
        ChecklistRun.objects.visible_to(user).select_related(
            "template__protocol", "template__touchpoint", "location", "assignee", "subject", "completed_by"
        ),
        pk=pk,
    )


def _run_context(run: ChecklistRun, user, **extra) -> dict:
    results = {r.item_id: r for r in run.results.select_related("recorded_by", "attachment")}
    items = [i for i in run.template.items.all() if i.is_active or i.pk in results]
    rows = [{"item": item, "result": results.get(item.pk), "form": None} for item in items]
    try:
        services.ensure_can_work_on(run, user)
        can_work, refusal = run.takes_results, ""
    except PermissionDenied as exc:
        can_work, refusal = False, str(exc)
    return {
        "run": run,
        "rows": rows,
        "done": sum(1 for row in rows if row["result"]),
        "unrecorded": [row["item"] for row in rows if not row["result"] and row["item"].is_active],
        "total": len(rows),
        "can_work": can_work,
        "refusal": refusal,
        "outcome_choices": ChecklistResult.Outcome.choices,
        **extra,
    }


@team_required
def run_detail(request: HttpRequest, pk: int) -> HttpResponse:
    run = get_run_for_user(request.user, pk)
    return render(request, "delivery/run_detail.html", _run_context(run, request.user))


def _record(
    request: HttpRequest, run: ChecklistRun, item: ChecklistItem, form: ResultForm
) -> tuple[int, str]:
    """Save through the service; return the HTTP status and the refusal to show ("" when none)."""
    if not form.is_valid():
        return 422, ""
    try:
        data = form.cleaned_data
        services.run_record_result(run=run, item=item, by=request.user, now=timezone.now(), **data)
    except ValidationError as exc:
        form.add_error(None, exc)
        return 422, ""
    except PermissionDenied as exc:
        return 403, str(exc)
    except services.RunClosed as exc:
        return 409, str(exc)
    return 200, ""


@require_POST
@team_required
def run_record(request: HttpRequest, pk: int, item_pk: int) -> HttpResponse:
    """Save one item's result. htmx swaps the item in place; without JavaScript the page reloads."""
    run = get_run_for_user(request.user, pk)
    item = get_object_or_404(ChecklistItem.objects.active(), pk=item_pk, template_id=run.template_id)
    form = ResultForm(request.POST, request.FILES)
    status, refusal = _record(request, run, item, form)
    htmx = bool(request.headers.get("HX-Request"))
    if status == 200 and not htmx:
        return redirect(f"{reverse('delivery:run_detail', args=[run.pk])}#item-{item.pk}")
    run.refresh_from_db()
    context = _run_context(run, request.user)
    for row in context["rows"]:
        if row["item"].pk == item.pk:
            row.update(form=form if status == 422 else None, error=refusal)
            context["row"] = row
    template = "delivery/_run_item.html" if htmx else "delivery/run_detail.html"
    return render(request, template, {**context, "oob": htmx}, status=status)


@require_POST
@team_required
def run_complete(request: HttpRequest, pk: int) -> HttpResponse:
    run = get_run_for_user(request.user, pk)
    try:
        services.run_complete(run=run, by=request.user, now=timezone.now())
    except (ValidationError, services.RunClosed) as exc:
        status = 422 if isinstance(exc, ValidationError) else 409
        message = " ".join(exc.messages) if isinstance(exc, ValidationError) else str(exc)
        run.refresh_from_db()
        return render(
            request,
            "delivery/run_detail.html",
            _run_context(run, request.user, complete_error=message),
            status=status,
        )
    messages.success(request, _("Done: %(checklist)s is complete. Thank you.") % {"checklist": run.template})
    return redirect("my_work")


# --- Templates (managers) -------------------------------------------------------------------------


def _last_30_days() -> Period:
    return Period.rolling(30, now=timezone.now())


def _closed_runs_by(period: Period, key: str) -> dict[int, dict[str, int]]:
    """Completed and missed periodic runs due in ``period``, counted per ``key`` in one grouped query.

    The runs are the ones ``delivery.checklist_completion_pct`` counts. Counting in a join
    from templates would aggregate every run ever; this reads only the period's runs (index
    on due_at), so the page stays flat as history grows.
    """
    rows = (
        runs_due(period, Filters())
        .filter(status__in=[ChecklistRun.Status.COMPLETED, ChecklistRun.Status.MISSED])
        .values(key, "status")
        .annotate(n=Count("pk"))
        .order_by()
    )
    counts: dict[int, dict[str, int]] = {}
    for row in rows:
        counts.setdefault(row[key], {})[row["status"]] = row["n"]
    return counts


def _set_completion(obj, counts: dict[str, int]) -> None:
    obj.completed, obj.missed = counts.get("completed", 0), counts.get("missed", 0)
    obj.completion = completion_pct(completed=obj.completed, missed=obj.missed)


def _completion_pct(templates: list[ChecklistTemplate]) -> float | None:
    """``delivery.checklist_completion_pct`` over these templates, from the counts they already carry."""
    completed = sum(template.completed for template in templates)
    missed = sum(template.missed for template in templates)
    return completion_pct(completed=completed, missed=missed)


def _history_page(runs, number: str | None):
    """One page of runs, each with its number of failed items (one extra query for the page only)."""
    page = UncountedPaginator(runs, HISTORY_PAGE_SIZE).get_page(number)
    failures = dict(
        ChecklistResult.objects.filter(run__in=[run.pk for run in page.object_list], outcome="fail")
        .values("run")
        .annotate(n=Count("pk"))
        .values_list("run", "n")
    )
    for run in page.object_list:
        run.failures = failures.get(run.pk, 0)
    return page


def templates_managed_by(user) -> QuerySet[ChecklistTemplate]:
    """Every checklist for the group's managers; a site manager's sites' own for a site manager
    (practice-wide checklists are the group's)."""
    sites = user.managed_site_ids
    templates = ChecklistTemplate.objects.all()
    return templates if sites is None else templates.filter(location__in=sites)


def templates_seen_by(user) -> QuerySet[ChecklistTemplate]:
    """What ``templates_managed_by`` gives, and the group's checklists, which every site manager reads
    (to adopt them at their sites) but only the group's managers change."""
    if user.managed_site_ids is None:
        return ChecklistTemplate.objects.all()
    return templates_managed_by(user) | adoption.group_templates()


def items_managed_by(user) -> QuerySet[ChecklistItem]:
    """Items a manager may edit: a site's copy of a group checklist keeps the group's items read-only
    (the group changes them, for every site at once)."""
    items = ChecklistItem.objects.active().filter(template__in=templates_managed_by(user))
    return items.filter(group_item__isnull=True)


@site_manager_required
def overview(request: HttpRequest) -> HttpResponse:
    """Every checklist by dimension, with its completion over the last 30 days and what needs a manager."""
    period, today = _last_30_days(), timezone.localdate()
    closed = _closed_runs_by(period, "template_id")
    templates = (
        templates_managed_by(request.user)
        .select_related("location", "touchpoint")
        .annotate(item_count=Count("items", filter=Q(items__is_active=True)))
        .order_by("-is_active", "dimension", "title")
    )
    by_dimension = {value: [] for value in Dimension.values}
    for template in templates:
        _set_completion(template, closed.get(template.pk, {}))
        by_dimension[template.dimension].append(template)
    context = {
        # Every template is listed, so its dimension's completion is the sum of its rows' counts.
        "sections": [
            (Dimension(value), by_dimension[value], _completion_pct(by_dimension[value]))
            for value in Dimension.values
        ],
        "overdue_protocols": Protocol.objects.overdue_review(today).select_related("owner"),
        "group_checklists": group_checklists_for(request.user),
    }
    return render(request, "delivery/overview.html", context)


class TemplateFormMixin(SiteManagerRequiredMixin, RefusedFormMixin):
    model = ChecklistTemplate
    form_class = ChecklistTemplateForm
    template_name = "delivery/template_form.html"

    def get_queryset(self):
        return templates_managed_by(self.request.user)

    def get_form_kwargs(self) -> dict:
        return {**super().get_form_kwargs(), "sites": self.request.user.managed_site_ids}

    def form_valid(self, form):
        if form.instance.pk is None:
            self.object = services.template_create(fields=form.cleaned_data, by=self.request.user)
        else:
            services.template_update(template=self.object, fields=form.cleaned_data, by=self.request.user)
        messages.success(self.request, _("Saved %(name)s.") % {"name": self.object})
        return redirect(self.get_success_url())

    def get_success_url(self) -> str:
        return reverse("delivery:template_detail", args=[self.object.pk])


class TemplateCreateView(TemplateFormMixin, CreateView):
    pass


class TemplateUpdateView(TemplateFormMixin, UpdateView):
    def get_form_class(self):
        # A site's copy of a group checklist: only what the site may set for itself.
        return AdoptedTemplateForm if self.object.group_template_id else ChecklistTemplateForm


def template_detail_context(request: HttpRequest, template: ChecklistTemplate, **extra) -> dict:
    """The checklist's page; for a group checklist, the sites that adopted it and who may adopt it
    where (``adoption_views``)."""
    runs = template.runs.select_related("location", "completed_by", "subject", "assignee").order_by(
        "-period_start", "-due_at", "-pk"
    )
    adopted = adoption_context(request.user, template)
    can_manage = request.user.manages_site(template.location_id)
    # "Start a run now": a group checklist sites adopted starts at this person's adopting sites.
    startable = template.is_active and not template.per_person
    here = adopted["start_sites"] > 0 if adopted.get("copies") else can_manage and template.makes_runs
    context = {
        "template": template,
        "items": template.items.active(),
        "item_form": ChecklistItemForm(),
        "page": _history_page(runs, request.GET.get("page")),
        "can_manage": can_manage,
        "can_start": startable and here,
        **adopted,
        **extra,
    }
    return context


@site_manager_required
def template_detail(request: HttpRequest, pk: int) -> HttpResponse:
    template = get_object_or_404(
        templates_seen_by(request.user).select_related(
            "location", "touchpoint", "protocol", "responsible_person", "group_template"
        ),
        pk=pk,
    )
    return render(request, "delivery/template_detail.html", template_detail_context(request, template))


@site_manager_required
def template_preview(request: HttpRequest, pk: int) -> HttpResponse:
    template = get_object_or_404(templates_managed_by(request.user).select_related("protocol"), pk=pk)
    return render(
        request, "delivery/template_preview.html", {"template": template, "items": template.items.active()}
    )


@site_manager_required
def item_create(request: HttpRequest, pk: int) -> HttpResponse:
    template = get_object_or_404(templates_managed_by(request.user), pk=pk)
    form = ChecklistItemForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        services.item_add(template=template, by=request.user, **form.cleaned_data)
        messages.success(request, _("Item added."))
        return redirect(f"{reverse('delivery:template_detail', args=[template.pk])}#items")
    context = {"form": form, "template": template}
    if request.method == "POST":
        return refused(request, "delivery/item_form.html", context)
    return render(request, "delivery/item_form.html", context)


class ItemUpdateView(SiteManagerRequiredMixin, RefusedFormMixin, UpdateView):
    model = ChecklistItem
    form_class = ChecklistItemForm
    template_name = "delivery/item_form.html"

    def get_queryset(self):
        return items_managed_by(self.request.user).select_related("template")

    def get_context_data(self, **kwargs) -> dict:
        return super().get_context_data(template=self.object.template, **kwargs)

    def form_valid(self, form):
        services.item_update(item=self.object, fields=form.cleaned_data, by=self.request.user)
        return redirect(self.get_success_url())

    def get_success_url(self) -> str:
        messages.success(self.request, _("Item saved."))
        return f"{reverse('delivery:template_detail', args=[self.object.template_id])}#items"


@require_POST
@site_manager_required
def item_move(request: HttpRequest, pk: int) -> HttpResponse:
    item = get_object_or_404(items_managed_by(request.user), pk=pk)
    direction = request.POST.get("direction")
    if direction not in {"up", "down"}:
        messages.error(request, _("Choose whether to move the item up or down."))
    elif not services.item_move(item=item, direction=direction, by=request.user):
        messages.info(
            request,
            (
                _("“%(item)s” is already at the top.")
                if direction == "up"
                else _("“%(item)s” is already at the bottom.")
            )
            % {"item": item},
        )
    return redirect(f"{reverse('delivery:template_detail', args=[item.template_id])}#items")


def _confirm_item_remove(request: HttpRequest, pk: int) -> Confirmation:
    item = get_object_or_404(items_managed_by(request.user), pk=pk)
    return Confirmation(
        question=_("Remove “%(item)s” from the checklist?") % {"item": item},
        consequence=_("Runs from now on will not ask it. Past results keep it in their history."),
        button=_("Remove"),
        back=f"{reverse('delivery:template_detail', args=[item.template_id])}#items",
    )


@require_POST
@site_manager_required
@confirm_first(_confirm_item_remove)
def item_remove(request: HttpRequest, pk: int) -> HttpResponse:
    item = get_object_or_404(items_managed_by(request.user), pk=pk)
    outcome = services.item_remove(item=item, by=request.user)
    if outcome == "archived":
        messages.success(
            request, _("Removed “%(item)s”. Past results keep it in their history.") % {"item": item}
        )
    else:
        messages.success(request, _("Deleted “%(item)s”.") % {"item": item})
    return redirect(f"{reverse('delivery:template_detail', args=[item.template_id])}#items")


# --- Place: touchpoints ---------------------------------------------------------------------------


@manager_required
def touchpoint_list(request: HttpRequest) -> HttpResponse:
    closed = _closed_runs_by(_last_30_days(), "template__touchpoint_id")
    touchpoints = (
        Touchpoint.objects.select_related("location")
        .prefetch_related(
            Prefetch(
                "checklist_templates",
                queryset=ChecklistTemplate.objects.filter(is_active=True).order_by("title"),
            )
        )
        .order_by("-is_active", "name")
    )
    for touchpoint in touchpoints:
        _set_completion(touchpoint, closed.get(touchpoint.pk, {}))
    return render(request, "delivery/touchpoint_list.html", {"touchpoints": touchpoints})


@manager_required
def touchpoint_history(request: HttpRequest, pk: int) -> HttpResponse:
    touchpoint = get_object_or_404(Touchpoint.objects.select_related("location"), pk=pk)
    runs = (
        ChecklistRun.objects.filter(template__touchpoint=touchpoint)
        .select_related("template", "location", "completed_by")
        .order_by("-period_start", "-due_at", "-pk")
    )
    page = _history_page(runs, request.GET.get("page"))
    failures = (
        ChecklistResult.objects.filter(run__template__touchpoint=touchpoint, outcome="fail")
        .select_related("item", "run__template", "recorded_by")
        .order_by("-recorded_at")[:10]
    )
    return render(
        request,
        "delivery/touchpoint_history.html",
        {"touchpoint": touchpoint, "page": page, "failures": failures},
    )


# --- People: training -----------------------------------------------------------------------------


@manager_required
def training_overview(request: HttpRequest) -> HttpResponse:
    overview = training.team_training(now=timezone.now())
    acknowledged = acknowledgements([entry.person for entry in overview])
    for entry in overview:
        entry.goals_acknowledged = acknowledged.get(entry.person.pk)
    counts = {status: sum(1 for e in overview if e.status == status) for status in training.Status}
    return render(
        request,
        "delivery/training.html",
        {"overview": overview, "counts": counts, "Status": training.Status},
    )


# --- Process: protocols ---------------------------------------------------------------------------


@team_required
def protocol_list(request: HttpRequest) -> HttpResponse:
    today = timezone.localdate()
    protocols = Protocol.objects.select_related("owner", "touchpoint", "current_version").order_by(
        "-is_active", "title"
    )
    if not request.user.is_manager:
        protocols = protocols.filter(is_active=True)
    return render(request, "delivery/protocol_list.html", {"protocols": protocols, "today": today})


@team_required
def protocol_detail(request: HttpRequest, pk: int, number: int | None = None) -> HttpResponse:
    protocol = get_object_or_404(
        Protocol.objects.select_related("owner", "touchpoint", "current_version__created_by"), pk=pk
    )
    version = protocol.current_version
    if number is not None:
        version = get_object_or_404(protocol.versions.select_related("created_by"), number=number)
    context = {
        "protocol": protocol,
        "version": version,
        "versions": protocol.versions.select_related("created_by"),
        "checklists": protocol.checklist_templates.filter(is_active=True),
        "overdue": protocol.review_by < timezone.localdate(),
    }
    return render(request, "delivery/protocol_detail.html", context)


class ProtocolCreateView(ManagerRequiredMixin, RefusedFormMixin, CreateView):
    model = Protocol
    form_class = ProtocolForm
    template_name = "delivery/protocol_form.html"

    def get_initial(self) -> dict:
        return {"owner": self.request.user, "review_by": timezone.localdate() + timedelta(days=365)}

    def form_valid(self, form: ProtocolForm) -> HttpResponse:
        data = dict(form.cleaned_data)
        body = data.pop("body")
        data.pop("change_note")
        protocol = services.protocol_create(body=body, by=self.request.user, **data)
        messages.success(self.request, _("Saved %(name)s.") % {"name": protocol})
        return redirect("delivery:protocol_detail", pk=protocol.pk)


class ProtocolUpdateView(ManagerRequiredMixin, RefusedFormMixin, UpdateView):
    model = Protocol
    form_class = ProtocolForm
    template_name = "delivery/protocol_form.html"
    queryset = Protocol.objects.select_related("current_version")

    def form_valid(self, form: ProtocolForm) -> HttpResponse:
        data = dict(form.cleaned_data)
        body, change_note = data.pop("body"), data.pop("change_note")
        services.protocol_update(
            protocol=self.object, body=body, change_note=change_note, by=self.request.user, **data
        )
        messages.success(self.request, _("Saved %(name)s.") % {"name": self.object})
        return redirect("delivery:protocol_detail", pk=self.object.pk)
