from __future__ import annotations

import csv
import logging
import sys

from django.contrib import messages
from django.contrib.auth.decorators import login_not_required
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.db import DatabaseError, InterfaceError, OperationalError, connection
from django.db.models import Count, Q
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.template import loader
from django.urls import reverse_lazy
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST
from django.views.generic import CreateView, FormView, ListView, UpdateView

from delivery.models import ChecklistRun
from design.models import ServiceGoal
from recovery.models import FollowUp, Incident, SlaPolicy
from servicedesk import dashboard as board
from servicedesk import reports, services
from servicedesk.access import ManagerRequiredMixin, manager_required, team_required
from servicedesk.celery import app as celery_app
from servicedesk.forms import (
    ClosedDayForm,
    DashboardFilterForm,
    LocationForm,
    MonthlyReportForm,
    OpeningHoursFormSet,
    StaffMemberForm,
    TouchpointForm,
)
from servicedesk.models import ClosedDay, Location, OpeningHours, Touchpoint, User
from servicedesk.queue import enqueue
from servicedesk.tasks import refresh_feedback_summaries

logger = logging.getLogger(__name__)


# --- Landing pages ------------------------------------------------------------------------


@team_required
def home(request: HttpRequest) -> HttpResponse:
    return redirect("dashboard" if request.user.is_manager else "my_work")


def _dashboard_scope(request: HttpRequest) -> tuple[DashboardFilterForm, board.Scope | None]:
    """The period and filter from the query string; no scope when the form has errors."""
    now = timezone.now()
    data = None
    if request.GET:
        data = request.GET.copy()
        data.setdefault("days", str(board.DEFAULT_DAYS))  # a link that names only a filter keeps 30 days
    form = DashboardFilterForm(data, today=timezone.localdate(now))
    if not form.is_bound:
        return form, board.Scope.last_days(now=now)
    if not form.is_valid():
        return form, None
    data = form.cleaned_data
    scope = board.Scope.last_days(
        data["days"] or board.DEFAULT_DAYS,
        now=now,
        until=data["until"],
        location=data["location"],
        touchpoint=data["touchpoint"],
        need_profile=data["need_profile"],
    )
    return form, scope


@require_GET
@manager_required
def dashboard(request: HttpRequest) -> HttpResponse:
    """The managers' landing page: are we meeting our goals, for whom, where, and what needs us today."""
    form, scope = _dashboard_scope(request)
    if scope is None:
        return render(request, "servicedesk/dashboard.html", {"form": form}, status=400)
    context = {"form": form, "scope": scope, **board.sections(scope)}
    if context["feedback"].as_of is None and cache.add("dashboard:summaries-requested", True, 300):
        # Nothing counted yet (a new install, fresh demo data): ask a worker to count now rather
        # than wait for the next sweep. At most once every five minutes.
        enqueue(refresh_feedback_summaries)
    return render(request, "servicedesk/dashboard.html", context)


@require_GET
@manager_required
def dashboard_export(request: HttpRequest) -> HttpResponse:
    """The dashboard's figures for the same period and filter, as CSV (aggregates only)."""
    form, scope = _dashboard_scope(request)
    if scope is None:
        return render(request, "servicedesk/dashboard.html", {"form": form}, status=400)
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    filename = f"dashboard-{scope.first_day:%Y%m%d}-{scope.last_day:%Y%m%d}.csv"
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response.write("\ufeff")  # so that spreadsheet programs read the file as UTF-8
    csv.writer(response).writerows(reports.export_rows(scope))
    return response


@require_GET
@manager_required
def dashboard_report(request: HttpRequest) -> HttpResponse:
    """A printable report of one month for a practice meeting (print CSS; FFT counts per category)."""
    now = timezone.now()
    form = MonthlyReportForm(request.GET or None, today=timezone.localdate(now))
    if form.is_bound and not form.is_valid():
        return render(request, "servicedesk/dashboard_report.html", {"form": form}, status=400)
    month = form.cleaned_data["month"] if form.is_bound else form.default_month()
    scope = reports.month_scope(month, now=now)
    context = {"form": form, "scope": scope, "month": month, **reports.monthly_report(scope)}
    return render(request, "servicedesk/dashboard_report.html", context)


@team_required
def my_work(request: HttpRequest) -> HttpResponse:
    location = request.user.location
    context = {
        "location": location,
        "touchpoints": Touchpoint.objects.active()
        .filter(Q(location=location) | Q(location__isnull=True))
        .select_related("location"),
        "managers": User.objects.managers().order_by("first_name"),
        "checklist_runs": ChecklistRun.objects.for_my_work(
            request.user, today=timezone.localdate(), day_starts=_local_midnight()
        ),
        "goals_to_acknowledge": ServiceGoal.objects.to_acknowledge_by(request.user).order_by("title"),
        "my_incidents": Incident.objects.for_my_work(request.user)[:20],
        "my_actions": FollowUp.objects.for_my_work(request.user, until=timezone.localdate())[:20],
        "now": timezone.now(),
        "today": timezone.localdate(),
    }
    return render(request, "servicedesk/my_work.html", context)


def _local_midnight():
    return timezone.localtime().replace(hour=0, minute=0, second=0, microsecond=0)


# --- Locations and touchpoints (managers) ----------------------------------------------


class LocationListView(ManagerRequiredMixin, ListView):
    queryset = Location.objects.annotate(
        touchpoint_count=Count("touchpoints", filter=Q(touchpoints__is_active=True)),
        team_count=Count("team", filter=Q(team__is_active=True)),
    ).order_by("-is_active", "name")
    template_name = "servicedesk/location_list.html"


class TouchpointListView(ManagerRequiredMixin, ListView):
    queryset = Touchpoint.objects.select_related("location").order_by("-is_active", "name")
    template_name = "servicedesk/touchpoint_list.html"


class VocabularyEditMixin(ManagerRequiredMixin):
    """Create/edit a location or touchpoint on the shared form page."""

    template_name = "servicedesk/vocabulary_form.html"

    def get_context_data(self, **kwargs) -> dict:
        return super().get_context_data(kind=self.model._meta.verbose_name, **kwargs)

    def form_valid(self, form):
        response = super().form_valid(form)
        messages.success(self.request, f"Saved {self.object}.")
        return response


class LocationCreateView(VocabularyEditMixin, CreateView):
    model, form_class, success_url = Location, LocationForm, reverse_lazy("location_list")


class LocationUpdateView(VocabularyEditMixin, UpdateView):
    model, form_class, success_url = Location, LocationForm, reverse_lazy("location_list")


class TouchpointCreateView(VocabularyEditMixin, CreateView):
    model, form_class, success_url = Touchpoint, TouchpointForm, reverse_lazy("touchpoint_list")


class TouchpointUpdateView(VocabularyEditMixin, UpdateView):
    model, form_class, success_url = Touchpoint, TouchpointForm, reverse_lazy("touchpoint_list")


def _opening_hours_page(
    request: HttpRequest,
    *,
    formset: OpeningHoursFormSet | None = None,
    closed_form: ClosedDayForm | None = None,
) -> HttpResponse:
    """The opening hours page, with whichever of its two forms was just posted and failed (400)."""
    current = {row.weekday: row for row in OpeningHours.objects.all()}
    initial = [
        {
            "weekday": weekday,
            "is_open": weekday in current,
            "opens": current[weekday].opens if weekday in current else None,
            "closes": current[weekday].closes if weekday in current else None,
        }
        for weekday in OpeningHours.Weekday.values
    ]
    context = {
        "formset": formset or OpeningHoursFormSet(initial=initial, prefix="days"),
        "closed_form": closed_form or ClosedDayForm(),
        "closed_days": ClosedDay.objects.filter(date__gte=timezone.localdate()),
        "policies": SlaPolicy.objects.filter(opening_hours_only=True),
    }
    status = 400 if request.method == "POST" else 200
    return render(request, "servicedesk/opening_hours.html", context, status=status)


@manager_required
def opening_hours(request: HttpRequest) -> HttpResponse:
    """When the practice is open: the clock of SLA policies that count opening hours only."""
    if request.method != "POST":
        return _opening_hours_page(request)
    formset = OpeningHoursFormSet(request.POST, prefix="days")
    if not formset.is_valid():
        return _opening_hours_page(request, formset=formset)
    days = {
        form.cleaned_data["weekday"]: (
            (form.cleaned_data["opens"], form.cleaned_data["closes"])
            if form.cleaned_data["is_open"]
            else None
        )
        for form in formset.forms
    }
    services.opening_hours_set(days=days, by=request.user)  # the forms checked what it refuses
    messages.success(request, "Saved the opening hours.")
    return redirect("opening_hours")


@require_POST
@manager_required
def closed_day_add(request: HttpRequest) -> HttpResponse:
    """A bank holiday or another day the practice stays closed: opening-hours clocks skip it."""
    form = ClosedDayForm(request.POST)
    if not form.is_valid():
        return _opening_hours_page(request, closed_form=form)
    day = form.save()
    messages.success(request, f"The practice is closed on {day.date:%A %d %B %Y}.")
    return redirect("opening_hours")


@require_POST
@manager_required
def closed_day_remove(request: HttpRequest, pk: int) -> HttpResponse:
    day = get_object_or_404(ClosedDay, pk=pk)
    day.delete()
    messages.success(request, f"The practice opens as usual on {day.date:%A %d %B %Y}.")
    return redirect("opening_hours")


@require_POST
@manager_required
def set_active(request: HttpRequest, kind: str, pk: int) -> HttpResponse:
    """Deactivate (or reactivate) a location or touchpoint. History keeps pointing at it."""
    model = {"locations": Location, "touchpoints": Touchpoint}[kind]
    obj = get_object_or_404(model, pk=pk)
    active = request.POST.get("active") == "1"
    model.objects.filter(pk=obj.pk).update(is_active=active)
    messages.success(request, f"{obj} is now {'active' if active else 'inactive'}.")
    return redirect(f"{kind[:-1]}_list")


# --- Team (managers) ----------------------------------------------------------------------


class TeamListView(ManagerRequiredMixin, ListView):
    template_name = "servicedesk/team_list.html"
    queryset = (
        User.objects.select_related("location")
        .prefetch_related("groups")
        .order_by("-is_active", "first_name", "last_name")
    )


class StaffMemberCreateView(ManagerRequiredMixin, FormView):
    template_name = "servicedesk/staff_member_form.html"
    form_class = StaffMemberForm

    def form_valid(self, form: StaffMemberForm) -> HttpResponse:
        member = services.staff_member_create(**form.cleaned_data)
        messages.success(
            self.request, f"Added {member}. We are emailing them a link to choose their password."
        )
        return redirect("team_list")


class StaffMemberUpdateView(ManagerRequiredMixin, FormView):
    template_name = "servicedesk/staff_member_form.html"
    form_class = StaffMemberForm

    def get_form_kwargs(self) -> dict:
        self.member = get_object_or_404(User, pk=self.kwargs["pk"])
        return {**super().get_form_kwargs(), "member": self.member}

    def form_valid(self, form: StaffMemberForm) -> HttpResponse:
        data = {k: v for k, v in form.cleaned_data.items() if k != "username"}
        try:
            services.staff_member_update(member=self.member, **data)
        except ValidationError as exc:
            form.add_error(None, exc)
            return self.form_invalid(form)
        messages.success(self.request, f"Saved {self.member}.")
        return redirect("team_list")


@require_POST
@manager_required
def staff_member_resend_welcome(request: HttpRequest, pk: int) -> HttpResponse:
    member = get_object_or_404(User, pk=pk)
    if services.staff_member_resend_welcome(member=member):
        messages.success(request, f"We are sending {member} a new link to choose their password.")
    else:
        messages.info(request, f"{member} has already chosen a password, or cannot log in.")
    return redirect("team_list")


# --- Health and errors --------------------------------------------------------------------


def _database_status() -> str:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
    except DatabaseError:
        return "down"
    return "ok"


def _broker_status() -> str:
    try:
        with celery_app.connection_for_write() as conn:
            conn.ensure_connection(max_retries=1, interval_start=0, interval_step=0, timeout=1)
    except Exception:  # any failure to reach the broker is "degraded", never an error page
        return "degraded"
    return "ok"


@login_not_required
@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    """Database down → 503 (nothing works). Broker down → 200, degraded: patient pages still work."""
    database, broker = _database_status(), _broker_status()
    status = "down" if database != "ok" else ("ok" if broker == "ok" else "degraded")
    response = JsonResponse(
        {"status": status, "database": database, "broker": broker}, status=503 if database != "ok" else 200
    )
    response["Cache-Control"] = "no-store"
    return response


def _standalone(template: str, status: int) -> HttpResponse:
    """Render without the request: no context processor may touch a database that is down."""
    return HttpResponse(loader.get_template(template).render({}), status=status)


def database_unavailable(request: HttpRequest) -> HttpResponse:
    logger.error("database unavailable while serving a request", exc_info=False)
    response = _standalone("errors/503.html", 503)
    response["Retry-After"] = "30"
    return response


def server_error(request: HttpRequest) -> HttpResponse:
    exc = sys.exc_info()[1]
    if isinstance(exc, OperationalError | InterfaceError):
        return database_unavailable(request)
    return _standalone("errors/500.html", 500)


def permission_denied(request: HttpRequest, exception: Exception) -> HttpResponse:
    reason = str(exception) if exception and str(exception) else None
    return render(request, "errors/403.html", {"reason": reason}, status=403)


def page_not_found(request: HttpRequest, exception: Exception) -> HttpResponse:
    return render(request, "errors/404.html", status=404)
