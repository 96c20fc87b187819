"""Invitation pages: managers' lists, imports, rules and requests; the patient's opt-out; the API."""

from __future__ import annotations

import json
import logging
from datetime import datetime

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_not_required
from django.db.models import Count, Q
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse, reverse_lazy
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods, require_POST
from django.views.generic import FormView, ListView, UpdateView

from feedback import invitations
from feedback.invitations import Outcome, visits
from feedback.invitations import imports as invitation_import
from feedback.invitations.forms import (
    ContactEraseForm,
    ContactForm,
    IntegrationTokenForm,
    InvitationFilterForm,
    InvitationRulesForm,
    ResponseRateFilterForm,
    VisitListUploadForm,
)
from feedback.models import (
    IntegrationToken,
    Invitation,
    InvitationImport,
    InvitationRules,
    Survey,
)
from feedback.sites import with_site_chosen
from servicedesk.access import (
    Confirmation,
    ManagerRequiredMixin,
    SiteManagerRequiredMixin,
    confirm_first,
    manager_required,
    site_manager_required,
)
from servicedesk.paging import UncountedPagesMixin, count_up_to
from servicedesk.refusal import REFUSED, RefusedFormMixin, refused
from servicedesk.replica import reads_from_replica
from servicedesk.untrusted import UnreadableJSON, load_json

logger = logging.getLogger(__name__)

API_MAX_VISITS = 500


def mask_email(email: str) -> str:
    local, _sep, domain = email.partition("@")
    return f"{local[:1]}•••@{domain}" if domain else ""


def mask_phone(phone: str) -> str:
    return f"•••• {phone[-3:]}" if phone else ""


# --- Invitations list -----------------------------------------------------------------------------


class InvitationListView(SiteManagerRequiredMixin, UncountedPagesMixin, ListView):
    """Every invitation for the group's managers; a site manager's list is always one of their
    sites' (another site's is refused with the filter's message, as the dashboard does)."""

    template_name = "feedback/invitations/invitation_list.html"
    paginate_by = 50

    def get_queryset(self):
        user = self.request.user
        data = with_site_chosen(user, self.request.GET) if user.managed_site_ids is not None else None
        self.filters = InvitationFilterForm(data or self.request.GET or None, user=user)
        self.refused = user.managed_site_ids is not None and not self.filters.is_valid()
        if self.refused:
            return Invitation.objects.none()
        queryset = (
            Invitation.objects.select_related("survey", "location")
            .prefetch_related("messages")
            .order_by("-visit_at", "-pk")
        )
        return self.filters.filter(queryset)

    def render_to_response(self, context, **kwargs) -> HttpResponse:
        response = super().render_to_response(context, **kwargs)
        if self.refused:
            response.status_code = REFUSED
        return response

    def get_context_data(self, **kwargs) -> dict:
        total = count_up_to(self.object_list)
        context = super().get_context_data(filters=self.filters, total=total, **kwargs)
        for invitation in context["object_list"]:
            invitation.contact_display = " · ".join(
                part for part in (mask_email(invitation.email), mask_phone(invitation.phone)) if part
            )
        return context


# --- Visit-list imports ---------------------------------------------------------------------------


class VisitListUploadView(ManagerRequiredMixin, RefusedFormMixin, FormView):
    template_name = "feedback/invitations/import_upload.html"
    form_class = VisitListUploadForm

    def get_context_data(self, **kwargs) -> dict:
        recent = InvitationImport.objects.select_related("survey", "created_by").defer("content")[:10]
        return super().get_context_data(recent_imports=recent, **kwargs)

    def form_valid(self, form: VisitListUploadForm) -> HttpResponse:
        upload = form.cleaned_data["file"]
        try:
            job = invitation_import.import_start(
                survey=form.cleaned_data["survey"],
                filename=upload.name,
                content=upload.read(),
                by=self.request.user,
            )
        except visits.FileRejected as exc:
            form.add_error("file", str(exc))
            return self.form_invalid(form)
        if invitation_import.import_should_run_inline(job):
            invitation_import.import_validate(import_id=job.pk)
        else:
            invitation_import.import_check_later(job=job)
        return redirect("invitations:invitation_import_detail", pk=job.pk)


def _import_for_manager(pk: int) -> InvitationImport:
    return get_object_or_404(
        InvitationImport.objects.select_related("survey", "created_by").defer("content"), pk=pk
    )


def _import_context(job: InvitationImport) -> dict:
    counts = job.counts or {}
    skipped = [
        (Outcome.LABELS[kind], counts[kind])
        for kind in (
            Outcome.DUPLICATE,
            Outcome.ALREADY_IMPORTED,
            Outcome.OPTED_OUT,
            Outcome.RECENTLY_INVITED,
            Outcome.TOO_OLD,
            Outcome.NO_CHANNEL,
        )
        if counts.get(kind)
    ]
    return {
        "job": job,
        "progress": invitation_import.import_progress(job),
        "skipped": skipped,
        "ready": counts.get("ready", 0),
        "created": counts.get("created", 0),
        "error_count": counts.get("error", 0),
        "errors": [issue for issue in job.issues if issue["kind"] == "error"][:200],
        "skips": [issue for issue in job.issues if issue["kind"] != "error"][:200],
    }


@manager_required
def import_detail(request: HttpRequest, pk: int) -> HttpResponse:
    job = _import_for_manager(pk)
    return render(request, "feedback/invitations/import_detail.html", _import_context(job))


@manager_required
def import_progress(request: HttpRequest, pk: int) -> HttpResponse:
    """The progress fragment htmx polls; once the work is done, the whole page reloads."""
    job = _import_for_manager(pk)
    response = render(request, "feedback/invitations/_import_progress.html", _import_context(job))
    if not job.is_in_progress:
        response["HX-Refresh"] = "true"
    return response


@require_POST
@manager_required
def import_confirm(request: HttpRequest, pk: int) -> HttpResponse:
    job = _import_for_manager(pk)
    if not invitation_import.import_confirm(job=job, now=timezone.now()):
        messages.error(
            request, _("This visit list is not ready to import (it may have been imported already).")
        )
        return redirect("invitations:invitation_import_detail", pk=job.pk)
    if invitation_import.import_should_run_inline(job):
        invitation_import.import_run(import_id=job.pk)
    return redirect("invitations:invitation_import_detail", pk=job.pk)


def _confirm_import_discard(request: HttpRequest, pk: int) -> Confirmation:
    job = _import_for_manager(pk)
    return Confirmation(
        question=_("Discard %(file)s?") % {"file": job.filename},
        consequence=_("Nothing from it will be imported. You can upload it again."),
        button=_("Discard"),
        back=reverse("invitations:invitation_import_detail", args=[job.pk]),
    )


@require_POST
@manager_required
@confirm_first(_confirm_import_discard)
def import_discard(request: HttpRequest, pk: int) -> HttpResponse:
    job = _import_for_manager(pk)
    if invitation_import.import_discard(job=job, now=timezone.now()):
        messages.success(request, _("Discarded %(file)s. Nothing was imported.") % {"file": job.filename})
    return redirect("invitations:invitation_import_upload")


# --- Sending rules and integrations ---------------------------------------------------------------


class InvitationRulesView(ManagerRequiredMixin, RefusedFormMixin, UpdateView):
    form_class = InvitationRulesForm
    template_name = "feedback/invitations/rules_form.html"
    success_url = reverse_lazy("invitations:invitation_rules")

    def get_object(self, queryset=None) -> InvitationRules:
        return InvitationRules.current()

    def get_context_data(self, **kwargs) -> dict:
        return super().get_context_data(time_zone=settings.TIME_ZONE, **kwargs)

    def form_valid(self, form) -> HttpResponse:
        invitations.invitation_rules_update(
            fields=form.cleaned_data, by=self.request.user, now=timezone.now()
        )
        messages.success(self.request, _("Saved the sending rules. They apply to messages not yet sent."))
        return redirect(self.get_success_url())


@manager_required
@require_http_methods(["GET", "POST"])
def integration_list(request: HttpRequest) -> HttpResponse:
    """Tokens for the practice-management system. A new token is shown once, on this response."""
    form = IntegrationTokenForm(request.POST or None)
    new_token = None
    status = 200
    if request.method == "POST":
        if form.is_valid():
            _token, new_token = invitations.integration_token_create(
                name=form.cleaned_data["name"], by=request.user
            )
            form = IntegrationTokenForm()
        else:
            status = 400
    context = {
        "form": form,
        "new_token": new_token,
        "tokens": IntegrationToken.objects.select_related("created_by"),
        "api_url": request.build_absolute_uri(reverse("api_visits")),
    }
    response = render(request, "feedback/invitations/integration_list.html", context, status=status)
    response["Cache-Control"] = "no-store"  # the page may carry a new secret
    return response


def _confirm_integration_revoke(request: HttpRequest, pk: int) -> Confirmation:
    token = get_object_or_404(IntegrationToken, pk=pk)
    return Confirmation(
        question=_("Revoke %(token)s?") % {"token": token},
        consequence=_(
            "Visits posted with it are refused from now on. This cannot be undone: make a new token."
        ),
        button=_("Revoke"),
        back=reverse("invitations:integration_list"),
    )


@require_POST
@manager_required
@confirm_first(_confirm_integration_revoke)
def integration_revoke(request: HttpRequest, pk: int) -> HttpResponse:
    token = get_object_or_404(IntegrationToken, pk=pk)
    if invitations.integration_token_revoke(token=token, by=request.user, now=timezone.now()):
        messages.success(
            request, _("Revoked %(token)s. Visits posted with it are now refused.") % {"token": token}
        )
    return redirect("invitations:integration_list")


# --- Response rates ------------------------------------------------------------------------------


@site_manager_required
@reads_from_replica
def invitation_report(request: HttpRequest) -> HttpResponse:
    """Per survey: invitations sent, answered (completed ÷ sent), and how many answered after a
    reminder; at every site or one (a site manager's: always one of theirs)."""
    user = request.user
    data = with_site_chosen(user, request.GET) if user.managed_site_ids is not None else request.GET or None
    form = ResponseRateFilterForm(data, user=user)
    if form.is_bound and not form.is_valid():
        return refused(request, "feedback/invitations/report.html", {"form": form, "rows": []})
    sent = Q(invitations__sent_at__isnull=False)
    if form.is_bound and form.cleaned_data["location"] is not None:
        sent &= Q(invitations__location=form.cleaned_data["location"])
    completed = sent & Q(invitations__status=Invitation.Status.COMPLETED)
    surveys = (
        Survey.objects.for_patients()
        .annotate(
            sent=Count("invitations", filter=sent),
            completed=Count("invitations", filter=completed),
            after_reminder=Count("invitations", filter=completed & Q(invitations__reminder_count__gt=0)),
            reminded=Count("invitations", filter=sent & Q(invitations__reminder_count__gt=0)),
            opted_out=Count("invitations", filter=sent & Q(invitations__opted_out_at__isnull=False)),
        )
        .filter(sent__gt=0)
        .order_by("title")
    )
    rows = []
    for survey in surveys:
        rows.append(
            {
                "survey": survey,
                "sent": survey.sent,
                "completed": survey.completed,
                "rate": 100 * survey.completed / survey.sent,
                "before_reminder": 100 * (survey.completed - survey.after_reminder) / survey.sent,
                "reminder_gain": 100 * survey.after_reminder / survey.sent,
                "reminded": survey.reminded,
                "after_reminder": survey.after_reminder,
                "opted_out": survey.opted_out,
            }
        )
    return render(request, "feedback/invitations/report.html", {"form": form, "rows": rows})


# --- Patient data requests (access and erasure) ---------------------------------------------------


@manager_required
@require_http_methods(["GET", "POST"])
def contact_requests(request: HttpRequest) -> HttpResponse:
    """Find everything held about one contact. POST, so the address never appears in a URL or log."""
    form = ContactForm(request.POST or None)
    record = None
    status = 200
    if request.method == "POST":
        if form.is_valid():
            record = invitations.contact_find(
                contact=form.cleaned_data["contact"], by=request.user, now=timezone.now()
            )
        else:
            status = 400
    context = {"form": form, "record": record, "contact_text": request.POST.get("contact", "")}
    response = render(request, "feedback/invitations/contact_requests.html", context, status=status)
    response["Cache-Control"] = "no-store"
    return response


@require_POST
@manager_required
def contact_export(request: HttpRequest) -> HttpResponse:
    form = ContactForm(request.POST)
    if not form.is_valid():
        return refused(request, "feedback/invitations/contact_requests.html", {"form": form})
    data = invitations.contact_export(
        contact=form.cleaned_data["contact"], by=request.user, now=timezone.now()
    )
    response = HttpResponse(json.dumps(data, indent=2, ensure_ascii=False), content_type="application/json")
    response["Content-Disposition"] = f'attachment; filename="patient-data-{timezone.now():%Y%m%d-%H%M}.json"'
    response["Cache-Control"] = "no-store"
    return response


@require_POST
@manager_required
def contact_erase(request: HttpRequest) -> HttpResponse:
    form = ContactEraseForm(request.POST)
    if not form.is_valid():
        context = {
            "form": ContactForm(request.POST),
            "erase_form": form,
            "contact_text": request.POST.get("contact", ""),
        }
        return refused(request, "feedback/invitations/contact_requests.html", context)
    erased = invitations.contact_erase(
        contact=form.cleaned_data["contact"], by=request.user, now=timezone.now()
    )
    held = ", ".join(f"{n} {name}" for name, n in erased.items())
    messages.success(
        request,
        _("Erased the contact from every record that held them (%(held)s).") % {"held": held}
        if erased
        else _("Nothing was held about this contact."),
    )
    return redirect("invitations:contact_requests")


# --- The patient's opt-out ------------------------------------------------------------------------


# No CSRF check: the secret token in the address already proves the request comes from the
# patient's link, and a patient whose phone blocks cookies must still be able to say no.
@csrf_exempt
@login_not_required
@never_cache
@require_http_methods(["GET", "POST"])
def opt_out(request: HttpRequest, token: str) -> HttpResponse:
    """One click (and a confirmation) to stop survey messages, in the invitation's language."""
    invitation = invitations.invitation_for_link(token)
    if invitation is None:
        response = render(request, "feedback/invitations/opt_out_unknown.html", {"patient": True}, status=404)
    else:
        if request.method == "POST":
            invitations.invitation_opt_out(invitation=invitation, now=timezone.now())
            return redirect(request.path)
        context = {"lang": invitation.language, "done": invitation.opted_out_at is not None, "patient": True}
        response = render(request, "feedback/invitations/opt_out.html", context)
    response["Referrer-Policy"] = "no-referrer"
    response["X-Robots-Tag"] = "noindex"
    return response


# --- API for the practice-management system -------------------------------------------------------


def _api_error(status: int, message: str) -> JsonResponse:
    response = JsonResponse({"error": message}, status=status)
    if status == 401:
        response["WWW-Authenticate"] = 'Bearer realm="servicedesk"'
    return response


@csrf_exempt  # a bearer token, not a cookie, authenticates: nothing for CSRF to forge
@login_not_required
@require_POST
def api_visits(request: HttpRequest) -> JsonResponse:
    """POST visits (one JSON object, or {"visits": [...]}, at most 500): each gets an invitation,
    unless a rule says not to. Idempotent on ``external_id``. See the README for an example."""
    now = timezone.now()
    scheme, _sep, raw = request.headers.get("Authorization", "").partition(" ")
    token = (
        invitations.integration_token_authenticate(raw=raw.strip(), now=now)
        if scheme.lower() == "bearer"
        else None
    )
    if token is None:
        return _api_error(401, "Missing, unknown or revoked token. Send 'Authorization: Bearer <token>'.")
    try:
        payload = load_json(request.body)
    except UnreadableJSON as exc:
        return _api_error(400, str(exc))
    single = isinstance(payload, dict) and "visits" not in payload
    items = [payload] if single else payload.get("visits") if isinstance(payload, dict) else None
    if not isinstance(items, list) or not items:
        return _api_error(400, 'Send one visit object, or {"visits": [ ... ]}.')
    if len(items) > API_MAX_VISITS:
        return _api_error(400, f"At most {API_MAX_VISITS} visits per request.")
    rules, vocabulary = InvitationRules.current(), visits.Vocabulary()
    surveys = _named_surveys(items)
    results = [
        _api_visit(item, token=token, rules=rules, surveys=surveys, vocabulary=vocabulary, now=now)
        for item in items
    ]
    if single:
        status = {"created": 201, "invalid": 400}.get(results[0]["status"], 200)
        return JsonResponse(results[0], status=status)
    return JsonResponse({"results": results})


def _named_surveys(items: list) -> dict[str, Survey]:
    """The active patient surveys the posted visits name, by slug: one query per request."""
    slugs = {str(item["survey"]) for item in items if isinstance(item, dict) and item.get("survey")}
    if not slugs:
        return {}
    return {s.slug: s for s in Survey.objects.for_patients().active().filter(slug__in=slugs)}


def _api_visit(
    item: object,
    *,
    token: IntegrationToken,
    rules: InvitationRules,
    surveys: dict[str, Survey],
    vocabulary: visits.Vocabulary,
    now: datetime,
) -> dict:
    survey_slug = item.get("survey") if isinstance(item, dict) else None
    survey = surveys.get(str(survey_slug)) if survey_slug else rules.default_survey
    external_id = str(item.get("external_id", "")) if isinstance(item, dict) else ""
    if survey is None or not survey.is_active:
        return {
            "external_id": external_id,
            "status": "invalid",
            "errors": {"survey": "unknown or inactive survey"},
        }
    checked = visits.check_posted_visit(item, survey=survey, vocabulary=vocabulary, now=now)
    if checked.visit is None:
        return {"external_id": external_id, "status": "invalid", "errors": dict(checked.errors)}
    outcome, _invitation = invitations.invitation_create(
        visit=checked.visit, source=Invitation.Source.API, now=now, integration=token, rules=rules
    )
    return {"external_id": external_id, "status": outcome}
