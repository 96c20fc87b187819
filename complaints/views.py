"""Staff's complaints pages. Thin: find the complaint for this user, validate a form, call one service.

Role rule, in one place: every team member (staff or manager) records and works complaints, and
need to know goes through the incident (``Complaint.objects.visible_to``): a complaint on another
site's incident is a 404, as the incident is. Contact details show as on the incident
(``recovery.views.patient_contact_shown_to``), and showing them is audited.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db.models import Min
from django.forms import Form
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from complaints import services
from complaints.forms import (
    AgreeDateForm,
    ComplaintFilterForm,
    ComplaintRecordForm,
    ExtendForm,
    RespondForm,
    ReturnYearForm,
    SubjectForm,
)
from complaints.models import Complaint
from complaints.returns import NO_RESPONSE, financial_year
from complaints.returns import complaints_return as build_return
from recovery.views import patient_contact_shown_to
from servicedesk import audit
from servicedesk.access import manager_required, team_required
from servicedesk.clock import local_today
from servicedesk.models import User
from servicedesk.paging import UncountedPaginator, count_up_to
from servicedesk.refusal import REFUSED
from servicedesk.replica import reads_from_replica
from servicedesk.spreadsheet import csv_response

PAGE_SIZE = 25


def get_complaint_for_user(user: User, reference: str) -> Complaint:
    """The complaint on incident ``reference`` if ``user`` may see that incident; else a 404."""
    queryset = Complaint.objects.visible_to(user).select_related(
        "incident__assignee", "incident__touchpoint", "incident__location", "recorded_by"
    )
    return get_object_or_404(queryset, incident__reference=reference)


def filter_complaints(form: ComplaintFilterForm, *, user: User, today) -> object:
    data: dict = {}
    if form.is_bound:
        form.is_valid()  # the valid fields filter even when another is not
        data = form.cleaned_data
    qs = Complaint.objects.visible_to(user).for_list()
    state = data.get("state") or ""
    if state == "":
        qs = qs.open()
    elif state == "answered":
        qs = qs.filter(responded_at__isnull=False)
    clock = data.get("clock") or ""
    if clock == "ack_overdue":
        qs = qs.acknowledgement_overdue(today)
    elif clock == "unacknowledged":
        qs = qs.filter(acknowledged_at__isnull=True)
    elif clock == "response_overdue":
        qs = qs.response_overdue(today)
    elif clock == "no_date":
        qs = qs.open().filter(response_due_on__isnull=True)
    for field in ("subject_area", "received_by"):
        if data.get(field):
            qs = qs.filter(**{field: data[field]})
    if outcome := data.get("outcome"):
        qs = qs.filter(outcome="" if outcome == NO_RESPONSE else outcome)
    if data.get("received_from"):
        qs = qs.filter(received_on__gte=data["received_from"])
    if data.get("received_to"):
        qs = qs.filter(received_on__lte=data["received_to"])
    return qs.order_by("-received_on", "-pk")


@team_required
def complaint_list(request: HttpRequest) -> HttpResponse:
    form = ComplaintFilterForm(request.GET or None)
    today = local_today(timezone.now())
    complaints = filter_complaints(form, user=request.user, today=today)
    page = UncountedPaginator(complaints, PAGE_SIZE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    context = {
        "form": form,
        "page": page,
        "total": count_up_to(complaints),
        "today": today,
        "query": query.urlencode(),
    }
    return render(request, "complaints/complaint_list.html", context)


@manager_required
@require_GET
@reads_from_replica
def complaints_return(request: HttpRequest) -> HttpResponse:
    """The annual complaints return (KO41b): a page, a CSV (``?format=csv``) and a printout."""
    today = local_today(timezone.now())
    current = financial_year(today)[0].year
    first = Complaint.objects.aggregate(first=Min("received_on"))["first"] or today
    years = list(range(current, min(financial_year(first)[0].year, current) - 1, -1))
    data = request.GET.copy()
    data.setdefault("year", str(current))
    form = ReturnYearForm(data, years=years)
    if not form.is_valid():
        return render(request, "complaints/return.html", {"form": form}, status=REFUSED)
    year = form.cleaned_data["year"]
    report = build_return(start=date(year, 4, 1), end=date(year + 1, 3, 31))
    if request.GET.get("format") == "csv":
        return csv_response(
            report.csv_rows(), f"complaints-return-{year}-{(year + 1) % 100:02d}.csv", stream=False
        )
    context = {"form": form, "report": report, "year": year, "now": timezone.now()}
    return render(request, "complaints/return.html", context)


@team_required
@require_http_methods(["GET", "POST"])
def complaint_record(request: HttpRequest) -> HttpResponse:
    """A complaint made by phone, letter, email or in person, recorded by staff."""
    form = ComplaintRecordForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            complaint = services.complaint_record(**form.cleaned_data, by=request.user, now=timezone.now())
        except ValidationError as exc:
            _add_errors(form, exc)
        else:
            messages.success(
                request,
                _("Complaint %(reference)s recorded: acknowledge it by %(day)s.")
                % {"reference": complaint.reference, "day": complaint.acknowledge_by.strftime("%a %d %b")},
            )
            return redirect("complaints:complaint_detail", complaint.reference)
    status = REFUSED if request.method == "POST" else 200
    return render(request, "complaints/complaint_record.html", {"form": form}, status=status)


def _add_errors(form: Form, exc: ValidationError) -> None:
    """A service's refusal beside the field it is about, when the form has that field."""
    if hasattr(exc, "error_dict"):
        for field, errors in exc.error_dict.items():
            form.add_error(field if field in form.fields else None, errors)
    else:
        form.add_error(None, exc)


def detail_context(complaint: Complaint, user: User, **forms_in_error: Form) -> dict:
    return {
        "complaint": complaint,
        "incident": complaint.incident,
        "contact_shown": patient_contact_shown_to(complaint.incident, user),
        "extensions": complaint.extensions.select_related("by"),
        "today": local_today(timezone.now()),
        "subject_form": forms_in_error.get("subject")
        or SubjectForm(initial={"subject_area": complaint.subject_area}),
        "agree_form": forms_in_error.get("agree") or AgreeDateForm(),
        "extend_form": forms_in_error.get("extend") or ExtendForm(),
        "respond_form": forms_in_error.get("respond") or RespondForm(),
        "error_action": next(iter(forms_in_error), None),
        "error_form": next(iter(forms_in_error.values()), None),
    }


@team_required
def complaint_detail(request: HttpRequest, reference: str) -> HttpResponse:
    complaint = get_complaint_for_user(request.user, reference)
    context = detail_context(complaint, request.user)
    if context["contact_shown"] and (complaint.incident.has_patient_contact or complaint.patient_address):
        label = f"the patient's contact details on complaint {complaint.reference}"
        audit.log_action(complaint, audit.Action.VIEWED, request.user, label=label)
    return render(request, "complaints/complaint_detail.html", context)


@require_POST
@team_required
def complaint_acknowledge(request: HttpRequest, reference: str) -> HttpResponse:
    complaint = get_complaint_for_user(request.user, reference)
    if services.complaint_acknowledge(complaint=complaint, by=request.user, now=timezone.now()):
        messages.success(
            request, _("Acknowledged. Now agree a date for the final response with the patient.")
        )
    else:
        messages.info(request, _("A colleague had already acknowledged this complaint."))
    return redirect("complaints:complaint_detail", reference)


def _action(
    request: HttpRequest,
    reference: str,
    name: str,
    form_class: type[Form],
    act: Callable[..., object],
    done: str,
) -> HttpResponse:
    """One of the complaint's forms: valid → the service → back to the page; refused → the page, 400."""
    complaint = get_complaint_for_user(request.user, reference)
    form = form_class(request.POST)
    if form.is_valid():
        try:
            act(complaint=complaint, by=request.user, now=timezone.now(), **form.cleaned_data)
        except ValidationError as exc:
            _add_errors(form, exc)
        else:
            messages.success(request, done)
            return redirect("complaints:complaint_detail", reference)
    context = detail_context(complaint, request.user, **{name: form})
    return render(request, "complaints/complaint_detail.html", context, status=REFUSED)


@require_POST
@team_required
def complaint_subject(request: HttpRequest, reference: str) -> HttpResponse:
    return _action(
        request, reference, "subject", SubjectForm, services.complaint_set_subject,
        _("Saved the subject area."),
    )  # fmt: skip


@require_POST
@team_required
def complaint_agree(request: HttpRequest, reference: str) -> HttpResponse:
    return _action(
        request, reference, "agree", AgreeDateForm, services.complaint_agree_response_date,
        _("Saved the agreed date for the final response."),
    )  # fmt: skip


@require_POST
@team_required
def complaint_extend(request: HttpRequest, reference: str) -> HttpResponse:
    return _action(
        request, reference, "extend", ExtendForm, services.complaint_extend,
        _("Moved the response date and noted why."),
    )  # fmt: skip


@require_POST
@team_required
def complaint_respond(request: HttpRequest, reference: str) -> HttpResponse:
    return _action(
        request, reference, "respond", RespondForm, services.complaint_respond,
        _("Recorded the final response and its outcome."),
    )  # fmt: skip
