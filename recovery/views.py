"""Thin views: find the object for this user, validate a form, call one service, redirect or render.

Role rule, in one place: every team member (staff or manager) works the incidents they may see
(``Incident.objects.visible_to``: with need to know on, staff see their own sites' incidents) and
reads recovery plans; only managers change SLA policies and plans. A patient's contact details
show only to whoever works the incident (``patient_contact_shown_to``). Patients reach one page,
the "Did we put it right?" link, without logging in.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_not_required
from django.core.exceptions import ValidationError
from django.db.models import Count, Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods, require_POST

from recovery import forms as rforms
from recovery import services
from recovery.models import (
    Drill,
    FollowUp,
    Incident,
    RecoveryPlan,
    Severity,
)
from servicedesk import audit
from servicedesk.access import manager_required, sees_every_patient_contact, sites_seen_by, team_required
from servicedesk.models import User
from servicedesk.paging import UncountedPaginator, count_up_to
from servicedesk.refusal import REFUSED, refused

PAGE_SIZE = 25


def get_incident_for_user(user: User, reference: str) -> Incident:
    """The incident, if ``user`` may see and work it; another site's is a 404 (as if it did not
    exist: its reference and title stay private too). The role is checked by the decorators."""
    queryset = Incident.objects.visible_to(user).select_related(
        "touchpoint",
        "location",
        "assignee",
        "reporter",
        "source_response__survey",
        "source_check__item",
        "source_check__attachment",
    )
    return get_object_or_404(queryset, reference=reference)


def patient_contact_shown_to(incident: Incident, user: User) -> bool:
    """Whether ``user`` sees the patient's name, phone and email on ``incident``: managers, the person
    it is assigned to and the owners of its actions (or everyone when need to know is off)."""
    if sees_every_patient_contact(user) or incident.assignee_id == user.pk:
        return True
    return incident.timeline.filter(kind=FollowUp.Kind.ACTION, owner=user).exists()


# --- Incidents ---------------------------------------------------------------------------------------


def filter_incidents(form: rforms.IncidentFilterForm, *, user: User, now) -> tuple[object, str]:
    data: dict = {}
    if form.is_bound:
        form.is_valid()  # the valid fields filter even when another is not: its error shows beside it
        data = form.cleaned_data
    qs = Incident.objects.visible_to(user).for_list().with_severity_rank()
    status = data.get("status") or ""
    if status == "":
        qs = qs.open()
    elif status != "all":
        qs = qs.filter(status=status)
    for field in ("severity", "category", "touchpoint", "location", "assignee"):
        if data.get(field):
            qs = qs.filter(**{field: data[field]})
    if data.get("overdue"):
        qs = qs.overdue(now)
    if data.get("mine"):
        qs = qs.filter(assignee=user)
    if data.get("unassigned"):
        qs = qs.filter(assignee__isnull=True)
    if query := (data.get("q") or "").strip():
        qs = qs.filter(
            Q(reference=query.upper()) | Q(title__icontains=query) | Q(description__icontains=query)
        )
    sort = data.get("sort") or "newest"
    return qs.order_by(*form.SORTS[sort]), sort


@team_required
def incident_list(request: HttpRequest) -> HttpResponse:
    sites = sites_seen_by(request.user)
    form = rforms.IncidentFilterForm(request.GET or None, sites=sites)
    now = timezone.now()
    incidents, sort = filter_incidents(form, user=request.user, now=now)
    page = UncountedPaginator(incidents, PAGE_SIZE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    context = {
        "form": form,
        "page": page,
        "total": count_up_to(incidents),
        "now": now,
        "query": query.urlencode(),
        "sort": sort,
        # Someone with no site yet sees only work not tied to a site and their own: say so.
        "no_sites": sites == frozenset(),
    }
    return render(request, "recovery/incident_list.html", context)


@team_required
@require_http_methods(["GET", "POST"])
def incident_log(request: HttpRequest) -> HttpResponse:
    form = rforms.IncidentLogForm(request.POST or None, user=request.user)
    if request.method == "POST" and form.is_valid():
        try:
            incident = services.incident_open(**form.cleaned_data, reporter=request.user, now=timezone.now())
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            messages.success(request, _logged_message(incident))
            return redirect("recovery:incident_detail", incident.reference)
    status = 400 if request.method == "POST" else 200
    return render(request, "recovery/incident_log.html", {"form": form}, status=status)


def _logged_message(incident: Incident) -> str:
    message = _("Logged %(reference)s. Thank you: it now has a clock and will not be forgotten.") % {
        "reference": incident.reference
    }
    if incident.severity == Severity.CRITICAL:
        message += " " + _("It is critical: tell a manager now, in person or by phone.")
    return message


def _detail_context(incident: Incident, user: User, **forms_in_error) -> dict:
    timeline = incident.timeline.select_related("author", "owner", "attachment").order_by("-at", "-pk")
    return {
        "incident": incident,
        "contact_shown": patient_contact_shown_to(incident, user),
        "timeline": timeline,
        "allowed": set(services.allowed_actions(incident)),
        "now": timezone.now(),
        "assign_form": forms_in_error.get("assign")
        or rforms.AssignForm(initial={"assignee": incident.assignee_id}),
        "note_form": forms_in_error.get("note") or rforms.NoteForm(),
        "contact_form": forms_in_error.get("contact") or rforms.ContactForm(),
        "action_form": forms_in_error.get("action") or rforms.ActionForm(),
        "resolve_form": forms_in_error.get("resolve") or rforms.ResolveForm(),
        "pause_form": forms_in_error.get("pause") or rforms.ReasonForm(prefix="pause"),
        "reopen_form": forms_in_error.get("reopen") or rforms.ReasonForm(prefix="reopen"),
        "error_action": next(iter(forms_in_error), None),
    }


@team_required
def incident_detail(request: HttpRequest, reference: str) -> HttpResponse:
    incident = get_incident_for_user(request.user, reference)
    context = _detail_context(incident, request.user)
    if incident.has_patient_contact and context["contact_shown"]:  # a patient's details on screen: recorded
        label = f"the patient's contact details on incident {incident.reference}"
        audit.log_action(incident, audit.Action.VIEWED, request.user, label=label)
    return render(request, "recovery/incident_detail.html", context)


@require_POST
@team_required
def action_done(request: HttpRequest, reference: str, pk: int) -> HttpResponse:
    incident = get_incident_for_user(request.user, reference)
    action = get_object_or_404(FollowUp, pk=pk, incident=incident, kind=FollowUp.Kind.ACTION)
    if services.action_complete(action=action, by=request.user, now=timezone.now()):
        messages.success(request, _("Action marked as done."))
    else:
        messages.info(request, _("That action was already done."))
    return redirect("recovery:incident_detail", incident.reference)


# --- Recovery plans ----------------------------------------------------------------------------------


@team_required
def plan_list(request: HttpRequest) -> HttpResponse:
    plans = RecoveryPlan.objects.select_related("owner").annotate(step_count=Count("steps"))
    if not request.user.is_manager:
        plans = plans.active()
    return render(request, "recovery/plan_list.html", {"plans": plans, "today": timezone.localdate()})


def _plan(pk: int) -> RecoveryPlan:
    return get_object_or_404(RecoveryPlan.objects.select_related("owner"), pk=pk)


def _plan_detail_context(plan: RecoveryPlan, drill_form: rforms.DrillForm) -> dict:
    return {
        "plan": plan,
        "steps": plan.steps.all(),
        "drills": Drill.objects.filter(plan=plan).select_related("led_by", "attachment"),
        "today": timezone.localdate(),
        "drill_form": drill_form,
    }


@team_required
def plan_detail(request: HttpRequest, pk: int) -> HttpResponse:
    plan = _plan(pk)
    context = _plan_detail_context(plan, rforms.DrillForm(initial={"held_on": timezone.localdate()}))
    return render(request, "recovery/plan_detail.html", context)


@team_required
def plan_print(request: HttpRequest, pk: int) -> HttpResponse:
    plan = _plan(pk)
    context = {"plan": plan, "steps": plan.steps.all(), "printed_at": timezone.now()}
    return render(request, "recovery/plan_print.html", context)


@manager_required
@require_http_methods(["GET", "POST"])
def plan_edit(request: HttpRequest, pk: int | None = None) -> HttpResponse:
    plan = _plan(pk) if pk else None
    form = rforms.RecoveryPlanForm(request.POST or None, instance=plan)
    initial = [{"instruction": s.instruction, "owner": s.owner} for s in plan.steps.all()] if plan else []
    formset = rforms.PlanStepFormSet(request.POST or None, initial=initial, prefix="steps")
    if request.method == "POST" and form.is_valid() and formset.is_valid():
        steps = [
            services.PlanStepSpec(instruction=f["instruction"], owner=f["owner"])
            for f in formset.cleaned_data
            if f and not f.get("DELETE")
        ]
        try:
            plan = services.plan_save(plan=plan, steps=steps, **form.cleaned_data)
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            messages.success(request, _("Saved the plan “%(title)s”.") % {"title": plan.title})
            return redirect("recovery:plan_detail", plan.pk)
    status = 400 if request.method == "POST" else 200
    return render(
        request, "recovery/plan_form.html", {"plan": plan, "form": form, "formset": formset}, status=status
    )


@require_POST
@manager_required
def drill_create(request: HttpRequest, pk: int) -> HttpResponse:
    plan = _plan(pk)
    form = rforms.DrillForm(request.POST, request.FILES)
    if form.is_valid():
        try:
            services.drill_log(
                plan=plan,
                led_by=request.user,
                today=timezone.localdate(),
                now=timezone.now(),
                **form.cleaned_data,
            )
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            messages.success(request, _("Drill logged."))
            return redirect("recovery:plan_detail", plan.pk)
    return refused(request, "recovery/plan_detail.html", _plan_detail_context(plan, form))


# --- The patient's "Did we put it right?" page -------------------------------------------------------


def _patient_page(
    request: HttpRequest, template: str, context: dict | None = None, status: int = 200, *, language: str = ""
):
    """A page of the patient layout, in the patient's language (their feedback's, else their browser's)."""
    language = language or translation.get_language_from_request(request)
    with translation.override(language if language in ("en", "es") else "en"):
        response = render(request, template, {"patient": True, **(context or {})}, status=status)
    response["Referrer-Policy"] = "no-referrer"
    return response


@login_not_required
@csrf_exempt  # the link's unguessable single-use token is the proof; patients' browsers may block cookies
@never_cache
@require_http_methods(["GET", "POST"])
def loop(request: HttpRequest, token: str) -> HttpResponse:
    """One question, no login. Unknown and already-used links get the same neutral page."""
    incident = services.loop_incident_for_token(token)
    if incident is None:
        return _patient_page(request, "recovery/loop_neutral.html", status=404)
    language = incident.patient_language
    if request.method == "POST":
        answer = request.POST.get("answer")
        now = timezone.now()
        if answer == "stop":
            services.loop_opt_out(token=token, now=now)
            return _patient_page(request, "recovery/loop_thanks.html", {"stopped": True}, language=language)
        if answer in ("yes", "no"):
            services.loop_answer(token=token, recovered=answer == "yes", now=now)
            context = {"recovered": answer == "yes"}
            return _patient_page(request, "recovery/loop_thanks.html", context, language=language)
        return _patient_page(
            request, "recovery/loop.html", {"error": True}, status=REFUSED, language=language
        )
    return _patient_page(request, "recovery/loop.html", language=language)
