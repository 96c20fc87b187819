from __future__ import annotations

import logging
import sys

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_not_required
from django.core.exceptions import ValidationError
from django.db import DatabaseError, InterfaceError, OperationalError, connection
from django.db.models import Count, Q
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.template import loader
from django.urls import reverse, reverse_lazy
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_POST
from django.views.generic import CreateView, FormView, ListView, UpdateView
from twilio.request_validator import RequestValidator

from servicedesk import identity, outbox, registry, services
from servicedesk.access import (
    Confirmation,
    ManagerRequiredMixin,
    SiteManagerRequiredMixin,
    confirm_first,
    manager_required,
    site_manager_required,
    staff_need_to_know,
    team_required,
)
from servicedesk.celery import app as celery_app
from servicedesk.forms import (
    ClosedDayForm,
    LocationForm,
    OpeningHoursFormSet,
    PracticeCalendarForm,
    PracticeIdentityForm,
    PracticeSettingsForm,
    StaffMemberForm,
    TouchpointForm,
)
from servicedesk.models import ClosedDay, Location, OpeningHours, OutboxMessage, Touchpoint, User
from servicedesk.refusal import RefusedFormMixin
from servicedesk.working_days import bank_holiday_names, practice_region

logger = logging.getLogger(__name__)


# --- Landing pages ------------------------------------------------------------------------


@team_required
def home(request: HttpRequest) -> HttpResponse:
    user = request.user
    return redirect("dashboard" if user.is_manager or user.is_site_manager else "my_work")


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


class VocabularyEditMixin(ManagerRequiredMixin, RefusedFormMixin):
    """Create/edit a location or touchpoint on the shared form page."""

    template_name = "servicedesk/vocabulary_form.html"

    def get_context_data(self, **kwargs) -> dict:
        return super().get_context_data(kind=self.model._meta.verbose_name, **kwargs)

    def form_valid(self, form):
        if form.instance.pk is None:
            self.object = services.vocabulary_create(
                model=self.model, fields=form.cleaned_data, by=self.request.user
            )
        else:
            services.vocabulary_update(obj=self.object, fields=form.cleaned_data, by=self.request.user)
        messages.success(self.request, _("Saved %(name)s.") % {"name": self.object})
        return redirect(self.get_success_url())


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
    calendar_form: PracticeCalendarForm | None = None,
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
        # Days stored before the form had bounds (year 0001, say): listed so they can be removed.
        "stray_days": ClosedDay.objects.filter(date__lt=timezone.localdate() - timezone.timedelta(days=366)),
        "followers": [mention for users in registry.opening_hours_users for mention in users()],
        **_calendar_context(calendar_form),
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
    messages.success(request, _("Saved the opening hours."))
    return redirect("opening_hours")


@manager_required
def practice_identity(request: HttpRequest) -> HttpResponse:
    """The practice's logo and accent colour, shown to patients and on what is printed."""
    current = identity.current()
    status = 200
    if request.method == "POST":
        form = PracticeIdentityForm(request.POST, request.FILES)
        if form.is_valid():
            identity.identity_save(
                accent=form.cleaned_data["accent"],
                logo=form.cleaned_data["logo"],
                remove_logo=form.cleaned_data["remove_logo"],
                by=request.user,
            )
            messages.success(request, _("Saved the practice's logo and colour."))
            return redirect("practice_identity")
        status = 400
    else:
        form = PracticeIdentityForm(initial={"accent": current.colour})
    context = {"form": form, "identity": current, "standard_accent": identity.STANDARD_ACCENT}
    return render(request, "servicedesk/practice_identity.html", context, status=status)


_A_YEAR = "public, max-age=31536000, immutable"


@login_not_required
@require_GET
def practice_logo(request: HttpRequest, digest: str) -> HttpResponse:
    """The logo, public (patients see it); its URL names its content, so it is kept for a year."""
    png = identity.logo_png(digest)
    if png is None:
        return HttpResponse(status=404)
    response = HttpResponse(png, content_type="image/png")
    response["Cache-Control"] = _A_YEAR
    return response


@login_not_required
@require_GET
def practice_theme(request: HttpRequest, version: str) -> HttpResponse:
    """The accent colour's stylesheet. An old version's URL gets today's colours, briefly cached."""
    current = identity.current()
    response = HttpResponse(identity.theme_css(current), content_type="text/css; charset=utf-8")
    response["Cache-Control"] = _A_YEAR if version == current.version else "public, max-age=60"
    return response


@require_POST
@manager_required
def closed_day_add(request: HttpRequest) -> HttpResponse:
    """A bank holiday or another day the practice stays closed: opening-hours clocks skip it."""
    form = ClosedDayForm(request.POST)
    if not form.is_valid():
        return _opening_hours_page(request, closed_form=form)
    day = services.closed_day_add(
        date=form.cleaned_data["date"], reason=form.cleaned_data["reason"], by=request.user
    )
    messages.success(
        request, _("The practice is closed on %(day)s.") % {"day": date_format(day.date, "l j F Y")}
    )
    return redirect("opening_hours")


def _calendar_context(form: PracticeCalendarForm | None) -> dict:
    """The calendar form and the bank holidays it means for the next twelve months."""
    country, region = practice_region()
    today = timezone.localdate()
    coming = [
        (day, name)
        for year in (today.year, today.year + 1)
        for day, name in bank_holiday_names(country, region, year)
        if today <= day <= today + timezone.timedelta(days=365)
    ]
    return {
        "calendar_form": form or PracticeCalendarForm(initial={"place": f"{country}-{region}"}),
        "bank_holidays": coming,
    }


@require_POST
@manager_required
def practice_calendar(request: HttpRequest) -> HttpResponse:
    """Where the practice is: whose bank holidays the working-day and opening-hours clocks skip."""
    form = PracticeCalendarForm(request.POST)
    if not form.is_valid():
        return _opening_hours_page(request, calendar_form=form)
    country, region = form.place_parts()
    services.practice_calendar_save(country=country, region=region, by=request.user)
    messages.success(request, _("Saved where the practice is: the clocks now skip its bank holidays."))
    return redirect("opening_hours")


def _confirm_closed_day_remove(request: HttpRequest, pk: int) -> Confirmation:
    day = get_object_or_404(ClosedDay, pk=pk)
    when = date_format(day.date, "l j F Y")
    return Confirmation(
        question=_("Open as usual on %(day)s?") % {"day": when},
        consequence=_("It becomes a working day again: response times and escalations run on it."),
        button=_("Remove the closed day"),
        back=reverse("opening_hours"),
    )


@require_POST
@manager_required
@confirm_first(_confirm_closed_day_remove)
def closed_day_remove(request: HttpRequest, pk: int) -> HttpResponse:
    day = get_object_or_404(ClosedDay, pk=pk)
    services.closed_day_remove(day=day, by=request.user)
    messages.success(
        request, _("The practice opens as usual on %(day)s.") % {"day": date_format(day.date, "l j F Y")}
    )
    return redirect("opening_hours")


@require_POST
@manager_required
def set_active(request: HttpRequest, kind: str, pk: int) -> HttpResponse:
    """Deactivate (or reactivate) a location or touchpoint. History keeps pointing at it."""
    model = {"locations": Location, "touchpoints": Touchpoint}[kind]
    obj = get_object_or_404(model, pk=pk)
    active = request.POST.get("active") == "1"
    services.vocabulary_set_active(obj=obj, active=active, by=request.user)
    messages.success(
        request, (_("%(name)s is now active.") if active else _("%(name)s is now inactive.")) % {"name": obj}
    )
    return redirect(f"{kind[:-1]}_list")


# --- Team (managers) ----------------------------------------------------------------------


class TeamListView(SiteManagerRequiredMixin, ListView):
    """Everyone, for the group's managers; a site manager's own sites' people (not the group's managers)."""

    template_name = "servicedesk/team_list.html"

    def get_queryset(self):
        return (
            User.objects.managed_by(self.request.user)
            .select_related("location")
            .prefetch_related("groups", "other_locations")
            .order_by("-is_active", "first_name", "last_name")
        )

    def get_context_data(self, **kwargs) -> dict:
        form = PracticeSettingsForm(initial={"staff_need_to_know": staff_need_to_know()})
        return super().get_context_data(settings_form=form, **kwargs)


@require_POST
@manager_required
def practice_settings(request: HttpRequest) -> HttpResponse:
    """The team page's practice-wide rules (a checkbox cannot be refused: unticked is an answer)."""
    form = PracticeSettingsForm(request.POST)
    form.is_valid()
    need_to_know = bool(form.cleaned_data.get("staff_need_to_know"))
    services.practice_settings_save(staff_need_to_know=need_to_know, by=request.user)
    if need_to_know:
        messages.success(
            request, _("Staff now see only their own sites' work and the patient contacts they need.")
        )
    else:
        messages.warning(
            request, _("Every staff member now sees every site's incidents and patients' contact details.")
        )
    return redirect("team_list")


class StaffMemberCreateView(SiteManagerRequiredMixin, RefusedFormMixin, FormView):
    template_name = "servicedesk/staff_member_form.html"
    form_class = StaffMemberForm

    def get_form_kwargs(self) -> dict:
        return {**super().get_form_kwargs(), "sites": self.request.user.managed_site_ids}

    def form_valid(self, form: StaffMemberForm) -> HttpResponse:
        member = services.staff_member_create(**form.cleaned_data, by=self.request.user)
        messages.success(
            self.request,
            _("Added %(name)s. We are emailing them a link to choose their password.") % {"name": member},
        )
        return redirect("team_list")


class StaffMemberUpdateView(SiteManagerRequiredMixin, RefusedFormMixin, FormView):
    template_name = "servicedesk/staff_member_form.html"
    form_class = StaffMemberForm

    def get_form_kwargs(self) -> dict:
        self.member = get_object_or_404(User.objects.managed_by(self.request.user), pk=self.kwargs["pk"])
        sites = self.request.user.managed_site_ids
        return {**super().get_form_kwargs(), "member": self.member, "sites": sites}

    def form_valid(self, form: StaffMemberForm) -> HttpResponse:
        data = {k: v for k, v in form.cleaned_data.items() if k != "username"}
        sites = self.request.user.managed_site_ids
        if sites is not None:  # the sites a site manager does not manage stay as they were
            kept = self.member.other_locations.exclude(pk__in=sites)
            data["other_locations"] = [*data["other_locations"], *kept]
        try:
            services.staff_member_update(member=self.member, **data, by=self.request.user)
        except ValidationError as exc:
            form.add_error(None, exc)
            return self.form_invalid(form)
        messages.success(self.request, _("Saved %(name)s.") % {"name": self.member})
        return redirect("team_list")


@require_POST
@site_manager_required
def staff_member_send_password_link(request: HttpRequest, pk: int) -> HttpResponse:
    """The Team page's "Resend invitation" / "Send a set-password link"."""
    member = get_object_or_404(User.objects.managed_by(request.user), pk=pk)
    if services.staff_member_send_password_link(member=member, by=request.user, now=timezone.now()):
        messages.success(
            request,
            _("We are emailing %(name)s a link to choose a password. It works once, for %(days)s days.")
            % {"name": member, "days": services.password_link_days()},
        )
    else:
        messages.error(
            request,
            _("%(name)s cannot log in or has no email address: give them one first.") % {"name": member},
        )
    return redirect("team_list")


# --- Failed emails and texts (managers) ---------------------------------------------------


class FailedMessageListView(ManagerRequiredMixin, ListView):
    """Emails and text messages the outbox gave up on, newest first, each with "Send again"."""

    template_name = "servicedesk/outbox_failed.html"
    paginate_by = 50
    queryset = OutboxMessage.objects.failed().order_by("-updated_at", "-pk")

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["rows"] = [
            {"message": m, "kind": outbox.kind_label(m.kind), "to": outbox.masked(m.to)}
            for m in context["object_list"]
        ]
        return context


@require_POST
@manager_required
def outbox_send_again(request: HttpRequest, pk: int) -> HttpResponse:
    message = get_object_or_404(OutboxMessage, pk=pk)
    if outbox.outbox_send_again(message=message, now=timezone.now()):
        messages.success(request, _("The message is queued to be sent again."))
    else:
        messages.info(request, _("That message is no longer failed, or its text was not kept to send again."))
    return redirect("outbox_failed")


@csrf_exempt  # Twilio signs the request (X-Twilio-Signature); there is no cookie for CSRF to forge
@login_not_required
@require_POST
def sms_receipt(request: HttpRequest) -> HttpResponse:
    """Twilio's delivery receipt for a text we sent (its StatusCallback). 403 and nothing written
    unless signed with our auth token over the URL we gave Twilio and every posted field."""
    url = settings.SITE_URL + request.get_full_path()  # what Twilio signed, whatever proxy is between
    signature = request.headers.get("X-Twilio-Signature", "")
    token = settings.TWILIO_AUTH_TOKEN
    if not token or not signature or not RequestValidator(token).validate(url, request.POST, signature):
        logger.warning("sms receipt refused: bad or missing signature")
        return HttpResponse(status=403)
    outbox.outbox_record_receipt(
        provider_id=request.POST.get("MessageSid", ""),
        status=request.POST.get("MessageStatus", ""),
        error_code=request.POST.get("ErrorCode", "")[:10],
        now=timezone.now(),
    )
    return HttpResponse(status=200)  # known or not: Twilio has nothing to do differently


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


def unstorable_input(request: HttpRequest) -> HttpResponse:
    """A request with a NUL or a lone surrogate in its address or form (UnstorableInputMiddleware)."""
    return _standalone("errors/400_unstorable.html", 400)


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
