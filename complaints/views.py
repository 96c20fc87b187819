"""Staff's complaints pages. Thin: find the complaint for this user, validate a form, call one service.

Role rule, in one place: every team member (staff or manager) records and works complaints, and
need to know goes through the incident (``Complaint.objects.visible_to``): a complaint on another
site's incident is a 404, as the incident is. Contact details show as on the incident
(``recovery.views.patient_contact_shown_to``), and showing them is audited.
"""

from __future__ import annotations

from collections.abc import Callable

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.forms import Form
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from complaints import services
from complaints.forms import (
    AgreeDateForm,
    ComplaintFilterForm,
    ComplaintRecordForm,
    ExtendForm,
    RespondForm,
    SubjectForm,
)
from complaints.models import Complaint
from recovery.views import patient_contact_shown_to
from servicedesk import audit
from servicedesk.access import team_required
from servicedesk.clock import local_today
from servicedesk.models import User
from servicedesk.paging import UncountedPaginator, count_up_to
from servicedesk.refusal import REFUSED

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


def _detail_context(complaint: Complaint, user: User, **forms_in_error: Form) -> dict:
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
    context = _detail_context(complaint, request.user)
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
    context = _detail_context(complaint, request.user, **{name: form})
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
