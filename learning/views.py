"""Patterns for the team to read, and for managers to answer with a change, close, and set the rule for."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db.models import Count
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from learning import services
from learning.forms import ChangeForm, RulesForm, StatusFilterForm
from learning.measures import change_effect, measure_days
from learning.models import Change, LearningRules, Pattern
from recovery.models import Incident
from servicedesk.access import manager_required, team_required
from servicedesk.models import User
from servicedesk.refusal import refused

PATTERNS_PER_PAGE = 25
INCIDENTS_SHOWN = 50


def get_pattern_for_user(user: User, pk: int) -> Pattern:
    """Every team member may read every pattern (what keeps going wrong is everyone's business);
    the incidents behind it are narrowed to the ones they may see (``incidents_for``)."""
    return get_object_or_404(Pattern.objects.select_related("touchpoint", "theme"), pk=pk)


def incidents_for(user: User, pattern: Pattern):
    return (
        Incident.objects.visible_to(user)
        .filter(pk__in=pattern.incidents.values("pk"))
        .select_related("touchpoint")
        .order_by("-created_at")
    )


@team_required
def pattern_list(request: HttpRequest) -> HttpResponse:
    filters = StatusFilterForm(request.GET)
    status = filters.cleaned_data["status"] if filters.is_valid() else ""
    patterns = Pattern.objects.select_related("touchpoint", "theme").annotate(
        incident_count=Count("incidents", distinct=True), change_count=Count("changes", distinct=True)
    )
    if status == "":
        patterns = patterns.live()
    elif status != "all":
        patterns = patterns.filter(status=status)
    page = Paginator(patterns.order_by("-last_incident_at", "-pk"), PATTERNS_PER_PAGE).get_page(
        request.GET.get("page")
    )
    context = {"page": page, "filters": filters, "rules": services.rules()}
    return render(request, "learning/pattern_list.html", context)


@team_required
def pattern_detail(request: HttpRequest, pk: int) -> HttpResponse:
    pattern = get_pattern_for_user(request.user, pk)
    now = timezone.now()
    changes = pattern.changes.select_related(
        "checklist_item__template", "protocol", "training", "goal", "made_by", "pattern"
    )
    days = measure_days()
    context = {
        "pattern": pattern,
        "incidents": incidents_for(request.user, pattern)[:INCIDENTS_SHOWN],
        "incident_total": pattern.incidents.count(),
        "rows": [
            (
                change_effect(change, now=now, days=days),
                "" if change.linked else reverse(CREATE_NEXT[change.kind]),
            )
            for change in changes
        ],
        "days": days,
        "rules": services.rules(),
    }
    return render(request, "learning/pattern_detail.html", context)


@manager_required
def change_create(request: HttpRequest, pk: int) -> HttpResponse:
    pattern = get_pattern_for_user(request.user, pk)
    if pattern.status == Pattern.Status.CLOSED:
        messages.error(request, _("This pattern is closed: a new recurrence will open a new one."))
        return redirect("learning:pattern_detail", pk=pattern.pk)
    form = ChangeForm(request.POST or None, initial={"made_on": timezone.localdate()})
    if request.method == "POST" and form.is_valid():
        try:
            services.change_record(pattern=pattern, by=request.user, now=timezone.now(), **form.values())
        except ValidationError as error:
            form.add_error("made_on" if error.code == "future" else None, error)
        else:
            messages.success(request, _("Change recorded. Its effect is measured from the day it was made."))
            return redirect("learning:pattern_detail", pk=pattern.pk)
    return _change_page(request, {"pattern": pattern, "form": form})


@manager_required
def change_update(request: HttpRequest, pk: int) -> HttpResponse:
    """Correct a change, or link the object made after it was recorded."""
    change = get_object_or_404(Change.objects.select_related("pattern__touchpoint", "pattern__theme"), pk=pk)
    initial = {
        "kind": change.kind,
        "description": change.description,
        "made_on": change.made_on,
        "checklist_item": change.checklist_item_id,
        "protocol": change.protocol_id,
        "training": change.training_id,
        "goal": change.goal_id,
    }
    form = ChangeForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            services.change_update(change=change, by=request.user, now=timezone.now(), **form.values())
        except ValidationError as error:
            form.add_error("made_on" if error.code == "future" else None, error)
        else:
            messages.success(request, _("Change saved."))
            return redirect("learning:pattern_detail", pk=change.pattern_id)
    return _change_page(request, {"pattern": change.pattern, "form": form, "change": change})


def _change_page(request: HttpRequest, context: dict) -> HttpResponse:
    if request.method == "POST":
        return refused(request, "learning/change_form.html", context)
    return render(request, "learning/change_form.html", context)


@manager_required
@require_POST
def pattern_close(request: HttpRequest, pk: int) -> HttpResponse:
    pattern = get_pattern_for_user(request.user, pk)
    if services.pattern_close(pattern=pattern, by=request.user, now=timezone.now()):
        messages.success(request, _("Pattern closed. If it happens again, a new pattern will show."))
    else:
        messages.info(request, _("This pattern was already closed."))
    return redirect("learning:pattern_detail", pk=pattern.pk)


@manager_required
def rules_edit(request: HttpRequest) -> HttpResponse:
    current = LearningRules.objects.filter(pk=LearningRules.SINGLETON).first() or LearningRules()
    form = RulesForm(request.POST or None, instance=current)
    if request.method == "POST":
        if not form.is_valid():
            return refused(request, "learning/rules_form.html", {"form": form})
        services.rules_update(by=request.user, now=timezone.now(), **form.cleaned_data)
        messages.success(request, _("Saved. The next check for patterns uses the new rule."))
        return redirect("learning:pattern_list")
    return render(request, "learning/rules_form.html", {"form": form})


# The page where a manager creates what a change links to, when it was recorded before it existed.
CREATE_NEXT = {
    Change.Kind.CHECKLIST_ITEM: "delivery:overview",
    Change.Kind.PROTOCOL: "delivery:protocol_create",
    Change.Kind.TRAINING: "delivery:template_create",
    Change.Kind.GOAL: "design:goal_create",
}
