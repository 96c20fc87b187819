"""Service design pages. Managers write goals and profiles; the whole team reads and acknowledges them."""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import BadRequest, PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db.models import Case, Prefetch, Q, When
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_GET, require_POST

from design import adoption, services
from design.forms import (
    AccommodationFormSet,
    GoalFilterForm,
    GoalForm,
    NeedFormSet,
    NeedProfileForm,
    SiteTargetForm,
)
from design.models import GoalAcknowledgement, PatientNeedProfile, Pillar, ServiceGoal
from servicedesk.access import (
    Confirmation,
    confirm_first,
    manager_required,
    site_manager_required,
    team_required,
)
from servicedesk.models import Location, User
from servicedesk.refusal import REFUSED

GOALS_PER_PAGE = 50
GOAL_RELATED = ("owner", "location", "touchpoint", "need_profile", "group_goal")
# Design, then delivery, then recovery: the order the practice thinks in.
PILLAR_ORDER = Case(
    *(When(pillar=p, then=i) for i, p in enumerate(Pillar.values)), default=len(Pillar.values)
)


def get_goal_for_user(user: User, pk: int) -> ServiceGoal:
    """The goal, if this person may see it: managers see every goal (site managers their sites'),
    staff only active ones."""
    goal = get_object_or_404(ServiceGoal.objects.select_related(*GOAL_RELATED), pk=pk)
    if not goal.is_active and not user.manages_site(goal.location_id):
        raise Http404("No such goal.")
    return goal


def get_goal_to_manage(user: User, pk: int) -> ServiceGoal:
    """The goal, if this person may change it: the group's managers any goal, a site manager the
    goals about their own sites (the group's goals are for every site, so not theirs to change)."""
    goal = get_object_or_404(ServiceGoal.objects.select_related(*GOAL_RELATED), pk=pk)
    if not user.manages_site(goal.location_id):
        raise PermissionDenied(
            _("This goal is the group's (or another site's): ask one of the group's managers to change it.")
        )
    return goal


def get_profile_for_user(user: User, pk: int) -> PatientNeedProfile:
    """The profile, if this person may see it: staff see active profiles only."""
    profiles = PatientNeedProfile.objects.all() if user.is_manager else PatientNeedProfile.objects.active()
    return get_object_or_404(profiles, pk=pk)


# --- Goals ------------------------------------------------------------------------------------


@team_required
def goal_list(request: HttpRequest) -> HttpResponse:
    filters = GoalFilterForm(request.GET)
    chosen = filters.cleaned_data if filters.is_valid() else {}
    goals = (
        ServiceGoal.objects.select_related(*GOAL_RELATED)
        .with_latest_measurement()
        .order_by(PILLAR_ORDER, "title")
    )
    status = chosen.get("status") or "active"
    if status == "retired" and request.user.is_manager:
        goals = goals.filter(status=ServiceGoal.Status.RETIRED)
    elif status != "all" or not request.user.is_manager:
        goals = goals.active()
    if chosen.get("pillar"):
        goals = goals.filter(pillar=chosen["pillar"])
    # Managers see how many of the team acknowledged each goal; staff whether they did.
    if request.user.is_manager:
        goals = goals.with_acknowledgement_count()
    else:
        goals = goals.for_sites_of(request.user).acknowledged_by(request.user)
    page = Paginator(goals, GOALS_PER_PAGE).get_page(request.GET.get("page"))
    context = {"page": page, "filters": filters, "status": status, "today": timezone.localdate()}
    if request.user.is_manager:
        context["team_size"] = User.objects.team().count()
    return render(request, "design/goal_list.html", context)


@team_required
def goal_detail(request: HttpRequest, pk: int) -> HttpResponse:
    goal = get_goal_for_user(request.user, pk)
    now = timezone.now()
    acknowledgements = GoalAcknowledgement.objects.filter(goal=goal, version=goal.version).select_related(
        "user"
    )
    evaluation, history = services.goal_history(goal=goal, now=now)
    context = {
        "goal": goal,
        "evaluation": evaluation,
        "history": history,
        "chart": {
            "labels": [f"{row.period.start:%d %b} to {row.period.end:%d %b}" for row in reversed(history)],
            "values": [row.value for row in reversed(history)],
            "target": float(goal.target),
            "label": goal.metric_label,
        },
        "CURRENCY_SYMBOL": settings.CURRENCY_SYMBOL,
        "measurements": goal.measurements.all()[:30],
        "my_acknowledgement": acknowledgements.filter(user=request.user).first(),
        "linked_profiles": goal.need_profiles.all(),
        "can_manage": request.user.manages_site(goal.location_id),
    }
    if goal.is_group_goal:
        context.update(_adoption_context(request.user, goal))
    if context["can_manage"]:
        acknowledged = {a.user_id: a for a in acknowledgements}
        sites = request.user.managed_site_ids
        team = list(User.objects.team() if sites is None else User.objects.team().at_sites(sites))
        context.update(
            acknowledgements=[acknowledged[m.pk] for m in team if m.pk in acknowledged],
            not_acknowledged=[m for m in team if m.pk not in acknowledged],
            changes=goal.changes.select_related("by")[:20],
        )
    return render(request, "design/goal_detail.html", context)


def _adoption_context(user: User, goal: ServiceGoal) -> dict:
    """The sites that adopted the group's goal, each with its target and latest status (one query),
    and the sites this person may still adopt it at."""
    site_goals = list(
        goal.site_goals.select_related("location").with_latest_measurement().order_by("location__name")
    )
    adopted = {site_goal.location_id for site_goal in site_goals if site_goal.is_active}
    sites = user.managed_site_ids
    my_sites = []
    if goal.is_active and user.is_site_manager and sites:
        my_sites = list(Location.objects.active().filter(pk__in=sites - adopted))
    return {
        "site_goals": site_goals,
        "adopt_sites": my_sites,
        "can_adopt_everywhere": goal.is_active and user.is_group_manager,
    }


def _goal_form_page(request: HttpRequest, form: GoalForm, goal: ServiceGoal | None) -> HttpResponse:
    """The goal form, with the metric preview for what is chosen (the JS refreshes it on change)."""
    try:
        preview = services.metric_preview(
            key=form["metric_key"].value() or "",
            location_id=form["location"].value() or None,
            touchpoint_id=form["touchpoint"].value() or None,
            need_profile_id=form["need_profile"].value() or None,
            period=form["period"].value() or "",
            params_text=form["metric_params"].value() or "",
            now=timezone.now(),
        )
    except ValidationError:
        preview = None  # the form shows the error beside the field
    context = {"form": form, "goal": goal, "preview": preview}
    return render(request, "design/goal_form.html", context, status=REFUSED if form.errors else 200)


@site_manager_required
def goal_create(request: HttpRequest) -> HttpResponse:
    initial = {"owner": request.user, "review_on": timezone.localdate() + timedelta(days=90)}
    sites = request.user.managed_site_ids
    form = GoalForm(request.POST if request.method == "POST" else None, initial=initial, sites=sites)
    if form.is_bound and form.is_valid():
        goal = services.goal_create(by=request.user, now=timezone.now(), fields=form.goal_fields())
        messages.success(request, _("Goal added. The team will be asked to read and acknowledge it."))
        return redirect("design:goal_detail", pk=goal.pk)
    return _goal_form_page(request, form, None)


@site_manager_required
def goal_update(request: HttpRequest, pk: int) -> HttpResponse:
    goal = get_goal_to_manage(request.user, pk)
    if goal.is_adopted:
        return _site_target_update(request, goal)
    sites = request.user.managed_site_ids
    form = GoalForm(request.POST if request.method == "POST" else None, instance=goal, sites=sites)
    if form.is_bound and form.is_valid():
        try:
            promise_changed = services.goal_update(
                goal=goal,
                by=request.user,
                now=timezone.now(),
                fields=form.goal_fields(),
                read_at=form.cleaned_data["read_at"],
            )
        except ValidationError as exc:
            form.add_error(None, exc)
            return _goal_form_page(request, form, get_goal_to_manage(request.user, pk))
        if promise_changed:
            messages.success(
                request,
                _(
                    "Saved as version %(v)s. The promise changed, "
                    "so the team will be asked to acknowledge it again."
                )
                % {"v": goal.version},
            )
        else:
            messages.success(request, _("Saved."))
        return redirect("design:goal_detail", pk=goal.pk)
    return _goal_form_page(request, form, get_goal_to_manage(request.user, pk))


def _site_target_update(request: HttpRequest, goal: ServiceGoal) -> HttpResponse:
    """An adopted goal's form: the group's definition shown, the site's owner, target and margin set."""
    form = SiteTargetForm(request.POST if request.method == "POST" else None, instance=goal)
    if form.is_bound and form.is_valid():
        try:
            adoption.goal_set_site_target(
                goal=goal,
                by=request.user,
                now=timezone.now(),
                fields=form.site_fields(),
                read_at=form.cleaned_data["read_at"],
            )
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            messages.success(request, _("Saved this site's target."))
            return redirect("design:goal_detail", pk=goal.pk)
    goal = get_goal_to_manage(request.user, goal.pk)  # as saved, not as typed
    context = {"form": form, "goal": goal, "group_goal": goal.group_goal}
    status = REFUSED if form.errors else 200
    return render(request, "design/goal_site_target_form.html", context, status=status)


def get_group_goal_for_user(user: User, pk: int) -> ServiceGoal:
    """A group goal this person may read (sites adopt only those), else a 404."""
    goal = get_goal_for_user(user, pk)
    if not goal.is_group_goal:
        raise Http404("Only the group's goals are adopted by sites.")
    return goal


@require_POST
@site_manager_required
def goal_adopt(request: HttpRequest, pk: int) -> HttpResponse:
    """Adopt the group's goal at one of my sites."""
    goal = get_group_goal_for_user(request.user, pk)
    try:
        location = Location.objects.active().get(pk=int(request.POST.get("location", "")))
    except (ValueError, Location.DoesNotExist):
        raise BadRequest(_("Choose the site that adopts this goal.")) from None
    if not request.user.manages_site(location.pk):
        raise PermissionDenied(_("You can adopt the group's goals only at the sites you manage."))
    try:
        site_goal = adoption.goal_adopt(
            group_goal=goal, location=location, by=request.user, now=timezone.now()
        )
    except ValidationError as exc:
        messages.error(request, exc.messages[0])
        return redirect("design:goal_detail", pk=goal.pk)
    messages.success(
        request,
        _("%(site)s has adopted this goal. Set the site's own target here if it differs.")
        % {"site": location},
    )
    return redirect("design:goal_detail", pk=site_goal.pk)


@require_POST
@manager_required
def goal_adopt_everywhere(request: HttpRequest, pk: int) -> HttpResponse:
    """The group's manager adopts the group's goal at every active site that has not yet."""
    goal = get_group_goal_for_user(request.user, pk)
    try:
        count = adoption.goal_adopt_everywhere(group_goal=goal, by=request.user, now=timezone.now())
    except ValidationError as exc:
        messages.error(request, exc.messages[0])
    else:
        if count:
            messages.success(
                request,
                _("Adopted at %(n)s more sites. Their status appears with the next hourly measurement.")
                % {"n": count},
            )
        else:
            messages.info(request, _("Every active site has this goal already."))
    return redirect("design:goal_detail", pk=goal.pk)


def _confirm_goal_retire(request: HttpRequest, pk: int) -> Confirmation:
    goal = get_goal_to_manage(request.user, pk)
    consequence = _(
        "It is no longer measured or shown on the dashboard. Its history stays; you can reactivate it."
    )
    if goal.is_group_goal and (adopted := goal.site_goals.active().count()):
        consequence += " " + ngettext(
            "The site that adopted it retires its copy too; reactivating this goal later leaves it retired.",
            "The %(n)s sites that adopted it retire theirs too; reactivating this goal later leaves them "
            "retired.",
            adopted,
        ) % {"n": adopted}
    return Confirmation(
        question=_("Retire the goal “%(goal)s”?") % {"goal": goal},
        consequence=consequence,
        button=_("Retire goal"),
        back=reverse("design:goal_detail", args=[goal.pk]),
    )


@require_POST
@site_manager_required
@confirm_first(_confirm_goal_retire)
def goal_retire(request: HttpRequest, pk: int) -> HttpResponse:
    goal = get_goal_to_manage(request.user, pk)
    if services.goal_retire(goal=goal, by=request.user, now=timezone.now()):
        messages.success(request, _("“%(goal)s” is retired. Its history stays.") % {"goal": goal})
    else:
        messages.info(request, _("“%(goal)s” was already retired.") % {"goal": goal})
    return redirect("design:goal_detail", pk=goal.pk)


@require_POST
@site_manager_required
def goal_reactivate(request: HttpRequest, pk: int) -> HttpResponse:
    goal = get_goal_to_manage(request.user, pk)
    try:
        reactivated = services.goal_reactivate(goal=goal, by=request.user, now=timezone.now())
    except ValidationError as exc:
        messages.error(request, exc.messages[0])
        return redirect("design:goal_detail", pk=goal.pk)
    if reactivated:
        messages.success(request, _("“%(goal)s” is active again. Check its review date.") % {"goal": goal})
        if goal.is_group_goal and goal.site_goals.exists():
            messages.info(
                request, _("The sites' adopted copies stay retired: each site reactivates its own.")
            )
    return redirect("design:goal_detail", pk=goal.pk)


@require_POST
@team_required
def goal_acknowledge(request: HttpRequest, pk: int) -> HttpResponse:
    goal = get_goal_for_user(request.user, pk)
    try:
        version = int(request.POST.get("version", ""))
    except ValueError:
        raise BadRequest("The acknowledgement did not say which version of the goal you read.") from None
    next_url = request.POST.get("next", "")
    if not url_has_allowed_host_and_scheme(next_url, allowed_hosts={request.get_host()}):
        next_url = reverse("design:goal_detail", args=[goal.pk])
    try:
        created = services.goal_acknowledge(goal=goal, user=request.user, version=version, now=timezone.now())
    except ValidationError as exc:
        messages.error(request, exc.messages[0])
        return redirect("design:goal_detail", pk=goal.pk)
    if created:
        messages.success(request, _("Thank you: you have acknowledged “%(goal)s”.") % {"goal": goal})
    return redirect(next_url)


@require_GET
@site_manager_required
def metric_preview(request: HttpRequest) -> JsonResponse:
    """The metric picker's live preview: label, unit and current value for the chosen cut."""
    try:
        preview = services.metric_preview(
            key=request.GET.get("metric_key", ""),
            location_id=request.GET.get("location") or None,
            touchpoint_id=request.GET.get("touchpoint") or None,
            need_profile_id=request.GET.get("need_profile") or None,
            period=request.GET.get("period", ""),
            params_text=request.GET.get("metric_params", ""),
            now=timezone.now(),
        )
    except ValidationError as exc:
        return JsonResponse({"error": exc.messages[0]}, status=400)
    return JsonResponse(preview)


# --- Need profiles ------------------------------------------------------------------------------


def _profiles_with_details():
    return PatientNeedProfile.objects.prefetch_related(
        "needs",
        "accommodations",
        Prefetch("preferred_touchpoints"),
        Prefetch("goals", queryset=ServiceGoal.objects.active()),
    )


@team_required
def profile_list(request: HttpRequest) -> HttpResponse:
    profiles = _profiles_with_details().order_by("-is_active", "name")
    if not request.user.is_manager:
        profiles = profiles.filter(is_active=True)
    return render(request, "design/profile_list.html", {"profiles": profiles})


@team_required
def profile_detail(request: HttpRequest, pk: int) -> HttpResponse:
    profile = get_profile_for_user(request.user, pk)
    goals = (
        ServiceGoal.objects.active()
        .filter(Q(need_profiles=profile) | Q(need_profile=profile))
        .distinct()
        .select_related("owner")
        .with_latest_measurement()
        .order_by("title")
    )
    context = {
        "profile": profile,
        "needs": profile.needs.all(),
        "accommodations": profile.accommodations.all(),
        "touchpoints": profile.preferred_touchpoints.select_related("location"),
        "goals": goals,
    }
    return render(request, "design/profile_detail.html", context)


def _profile_form(request: HttpRequest, profile: PatientNeedProfile | None) -> HttpResponse:
    data = request.POST if request.method == "POST" else None
    instance = profile or PatientNeedProfile()
    form = NeedProfileForm(data, instance=instance)
    needs = NeedFormSet(data, instance=instance, prefix="needs")
    accommodations = AccommodationFormSet(data, instance=instance, prefix="accommodations")
    if data is not None and all([form.is_valid(), needs.is_valid(), accommodations.is_valid()]):
        saved = services.need_profile_save(form=form, needs=needs, accommodations=accommodations)
        messages.success(request, _("Saved “%(name)s”.") % {"name": saved})
        return redirect("design:profile_detail", pk=saved.pk)
    context = {"form": form, "needs": needs, "accommodations": accommodations, "profile": profile}
    return render(request, "design/profile_form.html", context, status=REFUSED if data is not None else 200)


@manager_required
def profile_create(request: HttpRequest) -> HttpResponse:
    return _profile_form(request, None)


@manager_required
def profile_update(request: HttpRequest, pk: int) -> HttpResponse:
    return _profile_form(request, get_profile_for_user(request.user, pk))
