"""SLA settings: the group's policies, and the sites that have their own for a severity.

Role rule, in one place: the group's managers change the group's policies and any site's own;
site managers (``site_manager_required``) read the group's and give only their own sites
(``managed_site_ids``) their own policies: another site's pages are a 404, as if they did not exist.
"""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db.models import Exists, OuterRef, Prefetch, Q, QuerySet
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from recovery import forms as rforms
from recovery import services
from recovery.models import EscalationStep, SlaPolicy
from recovery.vocabulary import SEVERITY_RANK, Severity
from servicedesk.access import Confirmation, confirm_first, manager_required, site_manager_required
from servicedesk.models import Location, OpeningHours, User

# The severities, most serious first: the columns of the sites table and the order of the policies.
SEVERITIES = sorted(Severity, key=lambda s: -SEVERITY_RANK[s])
# Sites a page of the sites table lists: a phone shows each as a short block.
SITES_PER_PAGE = 25


def sites_managed_by(user: User) -> QuerySet[Location]:
    """Every site for the group's managers; a site manager's own sites for them."""
    sites = user.managed_site_ids
    return Location.objects.all() if sites is None else Location.objects.filter(pk__in=sites)


def _steps() -> QuerySet[EscalationStep]:
    return EscalationStep.objects.select_related("notify_user").order_by("level")


def sites_listed(user: User, *, name: str = "") -> QuerySet[Location]:
    """The sites the SLA page lists for this person, by name: the active ones, and any closed one
    whose own policy still governs its open incidents; ``name``: those whose name holds it."""
    has_own = Exists(SlaPolicy.objects.filter(location=OuterRef("pk")))
    sites = sites_managed_by(user).filter(Q(is_active=True) | has_own)
    return (sites.filter(name__icontains=name) if name else sites).order_by("name", "pk")


@site_manager_required
def sla_list(request: HttpRequest) -> HttpResponse:
    """The group's policies, and per site which severities it has its own policy for, a page of
    sites at a time (a group has up to 200), found by name."""
    policies = sorted(
        SlaPolicy.objects.filter(location__isnull=True).prefetch_related(
            Prefetch("steps", queryset=_steps())
        ),
        key=lambda p: -p.severity_rank,
    )
    search = rforms.SiteSearchForm(request.GET)
    searching = bool(request.GET.get("q"))
    name = search.cleaned_data["q"] if search.is_valid() else ""
    page = Paginator(sites_listed(request.user, name=name), SITES_PER_PAGE).get_page(request.GET.get("page"))
    own = set(
        SlaPolicy.objects.filter(location__in=[site.pk for site in page]).values_list(
            "location_id", "severity"
        )
    )
    rows = [(site, [(severity, (site.pk, severity) in own) for severity in SEVERITIES]) for site in page]
    context = {
        "policies": policies,
        "severities": SEVERITIES,
        "rows": rows,
        "page": page,
        "search": search,
        "name": name,
        "searching": searching,
        # A site manager with a site or two has nothing to search.
        "searchable": searching or page.paginator.num_pages > 1,
    }
    return render(request, "recovery/sla_list.html", context)


def _people_for(user: User, policy: SlaPolicy | None) -> QuerySet[User]:
    """Whom a step may name: anyone on the team for the group's managers; for a site manager, the
    people at their sites and whoever the ladder they start from already names."""
    team = User.objects.team()
    sites = user.managed_site_ids
    if sites is None:
        return team
    named = _steps().filter(policy=policy, notify_user__isnull=False).values("notify_user")
    return team.filter(Q(pk__in=User.objects.at_sites(sites).values("pk")) | Q(pk__in=named))


def _policy_forms(
    request: HttpRequest, policy: SlaPolicy
) -> tuple[rforms.SlaPolicyForm, rforms.EscalationStepFormSet]:
    """The policy's form and its ladder's, filled from ``policy`` (for a new override: the group's)."""
    initial_steps = [
        {"after": s.after, "notify_role": s.notify_role, "notify_user": s.notify_user_id}
        for s in _steps().filter(policy=policy)
    ]
    form = rforms.SlaPolicyForm(
        request.POST or None,
        initial={
            "respond_within": policy.respond_within,
            "resolve_within": policy.resolve_within,
            "opening_hours_only": policy.opening_hours_only,
        },
    )
    formset = rforms.EscalationStepFormSet(
        request.POST or None,
        initial=initial_steps,
        prefix="steps",
        form_kwargs={"people": _people_for(request.user, policy)},
    )
    return form, formset


def _step_specs(formset: rforms.EscalationStepFormSet) -> list[services.StepSpec]:
    return [
        services.StepSpec(after=f["after"], notify_role=f["notify_role"], notify_user=f["notify_user"])
        for f in formset.cleaned_data
        if f and not f.get("DELETE")
    ]


def _render_form(request: HttpRequest, context: dict) -> HttpResponse:
    context["opening_hours"] = OpeningHours.objects.all()
    status = 400 if request.method == "POST" else 200  # a POST that gets here was refused
    return render(request, "recovery/sla_form.html", context, status=status)


@manager_required
@require_http_methods(["GET", "POST"])
def sla_edit(request: HttpRequest, severity: str) -> HttpResponse:
    """The group's policy for a severity: every site without its own follows it."""
    policy = get_object_or_404(SlaPolicy, severity=severity, location__isnull=True)
    form, formset = _policy_forms(request, policy)
    if request.method == "POST" and form.is_valid() and formset.is_valid():
        try:
            services.sla_policy_update(
                policy=policy, steps=_step_specs(formset), by=request.user, **form.cleaned_data
            )
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            messages.success(
                request,
                _("Saved the %(severity)s SLA policy.")
                % {"severity": str(policy.get_severity_display()).lower()},
            )
            return redirect("recovery:sla_list")
    return _render_form(request, {"policy": policy, "form": form, "formset": formset})


def _site_and_severity(request: HttpRequest, location_id: int, severity: str) -> tuple[Location, Severity]:
    """The site, if this person manages it (else a 404), and a severity that exists (else a 404)."""
    site = get_object_or_404(sites_managed_by(request.user), pk=location_id)
    if severity not in Severity.values:
        raise Http404("No such severity.")
    return site, Severity(severity)


@site_manager_required
@require_http_methods(["GET", "POST"])
def sla_site_edit(request: HttpRequest, location_id: int, severity: str) -> HttpResponse:
    """A site's own policy for a severity; when it has none yet, the form starts from a copy of the
    group's (times and escalation steps) and saving it gives the site its own."""
    site, severity = _site_and_severity(request, location_id, severity)
    own = SlaPolicy.objects.filter(location=site, severity=severity).first()
    shown = own or services.policy_for(severity)
    form, formset = _policy_forms(request, shown)
    if request.method == "POST" and form.is_valid() and formset.is_valid():
        try:
            services.sla_site_policy_save(
                location=site,
                severity=severity,
                steps=_step_specs(formset),
                by=request.user,
                **form.cleaned_data,
            )
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            messages.success(
                request,
                _("Saved %(site)s's own %(severity)s SLA policy.")
                % {"site": site, "severity": str(severity.label).lower()},
            )
            return redirect("recovery:sla_list")
    context = {"policy": shown, "site": site, "own": own, "form": form, "formset": formset}
    return _render_form(request, context)


def _own_policy(request: HttpRequest, location_id: int, severity: str) -> SlaPolicy:
    site, severity = _site_and_severity(request, location_id, severity)
    return get_object_or_404(SlaPolicy.objects.select_related("location"), location=site, severity=severity)


def _confirm_site_policy_remove(request: HttpRequest, location_id: int, severity: str) -> Confirmation:
    policy = _own_policy(request, location_id, severity)
    facts = {"site": policy.location, "severity": str(policy.get_severity_display()).lower()}
    return Confirmation(
        question=_("Use the group's %(severity)s policy again at %(site)s?") % facts,
        consequence=_(
            "%(site)s's own %(severity)s policy and its escalation steps are deleted. Its open incidents "
            "keep the deadlines they were given; from their next step they escalate on the group's ladder."
        )
        % facts,
        button=_("Use the group's policy again"),
        back=reverse("recovery:sla_site_edit", args=[location_id, severity]),
    )


@require_POST
@site_manager_required
@confirm_first(_confirm_site_policy_remove)
def sla_site_remove(request: HttpRequest, location_id: int, severity: str) -> HttpResponse:
    policy = _own_policy(request, location_id, severity)
    services.sla_site_policy_remove(policy=policy, by=request.user)
    messages.success(
        request,
        _("%(site)s uses the group's %(severity)s SLA policy again.")
        % {"site": policy.location, "severity": str(policy.get_severity_display()).lower()},
    )
    return redirect("recovery:sla_list")
