"""The manager dashboard, its CSV and monthly report, and "My work": pages composed of what every
pillar contributes (``servicedesk.panels``)."""

from __future__ import annotations

from django.core.cache import cache
from django.core.exceptions import PermissionDenied
from django.db.models import Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from dashboard import board, reports
from dashboard.comparison.figures import site_positions
from dashboard.forms import DashboardFilterForm, MonthlyReportForm
from dashboard.tasks import refresh_feedback_summaries
from servicedesk import panels
from servicedesk.access import manager_required, site_manager_required, team_required
from servicedesk.models import Touchpoint, User
from servicedesk.panels import DEFAULT_DAYS, Scope
from servicedesk.queue import enqueue
from servicedesk.refusal import refused
from servicedesk.replica import reads_from_replica
from servicedesk.spreadsheet import csv_response


def _dashboard_scope(request: HttpRequest) -> tuple[DashboardFilterForm, Scope | None]:
    """The period and filter from the query string; no scope when the form has errors."""
    now = timezone.now()
    sites = request.user.managed_site_ids
    data = None
    if request.GET or sites is not None:
        data = request.GET.copy()
        data.setdefault("days", str(DEFAULT_DAYS))  # a link that names only a filter keeps 30 days
    if sites is not None:  # a site manager: always one of their sites, their usual one first
        if not sites:
            raise PermissionDenied(_("You manage no site yet: ask one of the group's managers to add yours."))
        home = request.user.location_id
        data.setdefault("location", str(home if home in sites else min(sites)))
    form = DashboardFilterForm(data, today=timezone.localdate(now), sites=sites)
    if not form.is_bound:
        return form, Scope.last_days(now=now)
    if not form.is_valid():
        return form, None
    data = form.cleaned_data
    scope = Scope.last_days(
        data["days"] or DEFAULT_DAYS,
        now=now,
        until=data["until"],
        location=data["location"],
        touchpoint=data["touchpoint"],
        need_profile=data["need_profile"],
    )
    return form, scope


@require_GET
@site_manager_required
@reads_from_replica
def dashboard(request: HttpRequest) -> HttpResponse:
    """The managers' landing page: are we meeting our goals, for whom, where, and what needs us today."""
    form, scope = _dashboard_scope(request)
    if scope is None:
        return refused(request, "dashboard/dashboard.html", {"form": form})
    context = {"form": form, "scope": scope, **board.sections(scope)}
    if scope.location is not None:  # one site's dashboard: where it stands among the group's sites
        context["site_positions"] = site_positions(
            scope.location.pk, first_day=scope.first_day, last_day=scope.last_day
        )
    if context["feedback"].as_of is None and cache.add("dashboard:summaries-requested", True, 300):
        # Nothing counted yet (a new install, fresh demo data): ask a worker to count now rather
        # than wait for the next sweep. At most once every five minutes.
        enqueue(refresh_feedback_summaries)
    return render(request, "dashboard/dashboard.html", context)


@require_GET
@site_manager_required
@reads_from_replica
def dashboard_export(request: HttpRequest) -> HttpResponse:
    """The dashboard's figures for the same period and filter, as CSV (aggregates only)."""
    form, scope = _dashboard_scope(request)
    if scope is None:
        return refused(request, "dashboard/dashboard.html", {"form": form})
    filename = f"dashboard-{scope.first_day:%Y%m%d}-{scope.last_day:%Y%m%d}.csv"
    return csv_response(reports.export_rows(scope), filename, stream=False)


@require_GET
@manager_required
@reads_from_replica
def dashboard_report(request: HttpRequest) -> HttpResponse:
    """A printable report of one month for a practice meeting (print CSS; FFT counts per category)."""
    now = timezone.now()
    form = MonthlyReportForm(request.GET or None, today=timezone.localdate(now))
    if form.is_bound and not form.is_valid():
        return refused(request, "dashboard/report.html", {"form": form})
    month = form.cleaned_data["month"] if form.is_bound else form.default_month()
    scope = reports.month_scope(month, now=now)
    context = {"form": form, "scope": scope, "month": month, **reports.monthly_report(scope)}
    return render(request, "dashboard/report.html", context)


@team_required
def my_work(request: HttpRequest) -> HttpResponse:
    """A staff member's day: what each pillar has for them (registered in ``servicedesk.panels.my_work``),
    their touchpoints and who the managers are."""
    now = timezone.now()
    location = request.user.location
    work_lists = list(panels.my_work)
    context: dict[str, object] = {
        "location": location,
        "touchpoints": Touchpoint.objects.active()
        .filter(Q(location=location) | Q(location__isnull=True))
        .select_related("location"),
        "managers": User.objects.managers().order_by("first_name"),
        "work_templates": [work.template for work in work_lists],
        "now": now,
        "today": timezone.localdate(now),
    }
    for work in work_lists:
        context |= work.context(request.user, now)
    return render(request, "dashboard/my_work.html", context)
