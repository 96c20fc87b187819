"""Letters to complainants: the printable letter with "Email it" and "Record as posted" (staff),
and the words of each letter (managers). See ``complaints.letters``."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from complaints import letters
from complaints.forms import LetterTemplateForm
from complaints.models import Complaint, LetterTemplate
from complaints.views import detail_context, get_complaint_for_user
from servicedesk import audit
from servicedesk.access import manager_required, team_required
from servicedesk.refusal import REFUSED


def _kind(kind: str) -> str:
    if kind not in LetterTemplate.Kind.values:
        raise Http404("No such letter.")
    return kind


def _letter_page(request: HttpRequest, complaint: Complaint, kind: str, *, error: str = "") -> HttpResponse:
    try:
        letter = letters.letter_render(complaint=complaint, kind=kind)
    except ValidationError as refused:
        messages.error(request, " ".join(refused.messages))
        if request.method == "POST":  # refused: the complaint's page says why, with a 400
            context = detail_context(complaint, request.user)
            return render(request, "complaints/complaint_detail.html", context, status=REFUSED)
        return redirect("complaints:complaint_detail", complaint.reference)
    context = {
        "complaint": complaint,
        "incident": complaint.incident,
        "letter": letter,
        "kind_label": LetterTemplate.Kind(kind).label,
        "can_email": letters.can_email(complaint),
        "error": error,
        "now": timezone.now(),
    }
    return render(request, "complaints/letter.html", context, status=REFUSED if error else 200)


@team_required
@require_GET
def complaint_letter(request: HttpRequest, reference: str, kind: str) -> HttpResponse:
    """The letter as it will be sent, to print or email (it holds the patient's name and address)."""
    complaint = get_complaint_for_user(request.user, reference)
    response = _letter_page(request, complaint, _kind(kind))
    if response.status_code == 200:
        audit.log_action(
            complaint,
            audit.Action.VIEWED,
            request.user,
            label=f"a letter to the patient on complaint {reference}",
        )
    return response


@team_required
@require_POST
def complaint_letter_email(request: HttpRequest, reference: str, kind: str) -> HttpResponse:
    complaint = get_complaint_for_user(request.user, reference)
    try:
        sent = letters.letter_email(
            complaint=complaint, kind=_kind(kind), by=request.user, now=timezone.now()
        )
    except ValidationError as refused:
        return _letter_page(request, complaint, kind, error=" ".join(refused.messages))
    if sent:
        messages.success(request, _("The letter is on its way to the patient by email."))
    else:
        messages.info(request, _("This letter was emailed before; it was not sent again."))
    return redirect("complaints:complaint_detail", reference)


@team_required
@require_POST
def complaint_letter_posted(request: HttpRequest, reference: str, kind: str) -> HttpResponse:
    complaint = get_complaint_for_user(request.user, reference)
    try:
        letters.letter_posted(complaint=complaint, kind=_kind(kind), by=request.user, now=timezone.now())
    except ValidationError as refused:
        return _letter_page(request, complaint, kind, error=" ".join(refused.messages))
    messages.success(request, _("Recorded on the timeline that the letter was posted."))
    return redirect("complaints:complaint_detail", reference)


@manager_required
@require_GET
def letter_template_list(request: HttpRequest) -> HttpResponse:
    context = {"templates": letters.letter_templates(), "placeholders": letters.PLACEHOLDERS}
    return render(request, "complaints/letter_template_list.html", context)


@manager_required
@require_http_methods(["GET", "POST"])
def letter_template_edit(request: HttpRequest, pk: int) -> HttpResponse:
    template = get_object_or_404(LetterTemplate, pk=pk)
    form = LetterTemplateForm(request.POST or None, instance=template)
    if request.method == "POST" and form.is_valid():
        form.save()
        audit.log_action(template, audit.Action.CHANGED, request.user, label=f"letter words: {template}")
        messages.success(request, _("Saved. Letters written from now on use these words."))
        return redirect("complaints:letter_template_list")
    context = {"form": form, "template": template, "placeholders": letters.PLACEHOLDERS}
    return render(
        request, "complaints/letter_template_form.html", context, status=REFUSED if form.errors else 200
    )
