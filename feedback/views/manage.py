"""The survey builder, the theme list and QR posters (managers; site managers: their sites' surveys)."""

from __future__ import annotations

from io import BytesIO
from urllib.parse import urlencode

import qrcode
import qrcode.image.svg
from django.conf import settings
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db.models import Count, Exists, OuterRef
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse, reverse_lazy
from django.utils import timezone, translation
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST
from django.views.generic import CreateView, ListView, UpdateView

from feedback import services
from feedback.forms import QuestionForm, SurveyFromTemplateForm, SurveySettingsForm, ThemeForm
from feedback.models import Answer, Question, Response, Survey, Theme
from feedback.services import Where
from feedback.sites import get_survey_for_user, get_survey_to_manage, surveys_seen_by
from feedback.views.answer import choose_language, survey_page
from servicedesk.access import (
    Confirmation,
    ManagerRequiredMixin,
    SiteManagerRequiredMixin,
    confirm_first,
    manager_required,
    site_manager_required,
)
from servicedesk.models import Touchpoint
from servicedesk.refusal import RefusedFormMixin
from servicedesk.untrusted import query_int

# --- Surveys ---------------------------------------------------------------------------------------


class SurveyListView(SiteManagerRequiredMixin, ListView):
    """Every survey for the group's managers; for a site manager the group's and their sites' own,
    with the responses from their sites only."""

    template_name = "feedback/manage/survey_list.html"
    context_object_name = "surveys"

    def get_queryset(self):
        live = Question.objects.filter(survey=OuterRef("pk"), archived_at__isnull=True)
        surveys = (
            Survey.objects.select_related("location")
            .annotate(has_questions=Exists(live))
            .order_by("-is_active", "audience", "title")
        )
        return surveys_seen_by(self.request.user, surveys)

    def get_context_data(self, **kwargs) -> dict:
        context = super().get_context_data(**kwargs)
        since = timezone.now() - timezone.timedelta(days=30)
        responses = Response.objects.filter(submitted_at__gte=since)
        sites = self.request.user.managed_site_ids
        if sites is not None:
            responses = responses.filter(location__in=sites)
        context["manages_every_site"] = sites is None
        counts = responses.values("survey_id").annotate(n=Count("pk")).order_by()
        context["recent"] = {row["survey_id"]: row["n"] for row in counts}
        return context


class SurveyFormMixin(SiteManagerRequiredMixin, RefusedFormMixin):
    """A site manager's survey is for one of their sites; the group's surveys are the group's."""

    model = Survey
    form_class = SurveySettingsForm
    template_name = "feedback/manage/survey_form.html"

    def get_form_kwargs(self) -> dict:
        return {**super().get_form_kwargs(), "sites": self.request.user.managed_site_ids}


class SurveyCreateView(SurveyFormMixin, CreateView):
    def form_valid(self, form) -> HttpResponse:
        self.object = services.survey_create(fields=form.cleaned_data, by=self.request.user)
        messages.success(self.request, _("Survey created. Now add its questions."))
        return redirect("feedback:survey_builder", self.object.pk)


class SurveyUpdateView(SurveyFormMixin, UpdateView):
    def get_object(self, queryset=None) -> Survey:
        return get_survey_to_manage(self.request.user, self.kwargs["pk"])

    def form_valid(self, form) -> HttpResponse:
        services.survey_update(survey=self.object, fields=form.cleaned_data, by=self.request.user)
        messages.success(self.request, _("Saved the survey settings."))
        return redirect("feedback:survey_builder", self.object.pk)


@manager_required
@require_http_methods(["GET", "POST"])
def survey_from_template(request: HttpRequest) -> HttpResponse:
    form = SurveyFromTemplateForm(request.POST or None)
    if request.method == "POST":
        if form.is_valid():
            survey = services.survey_create_from_template(
                key=form.cleaned_data["template"], title=form.cleaned_data["title"], by=request.user
            )
            messages.success(
                request, _("Created “%(title)s”. Check it, then switch it on.") % {"title": survey}
            )
            return redirect("feedback:survey_builder", survey.pk)
        status = 400
    else:
        status = 200
    return render(request, "feedback/manage/survey_from_template.html", {"form": form}, status=status)


@site_manager_required
def survey_builder(request: HttpRequest, pk: int) -> HttpResponse:
    survey = get_survey_to_manage(request.user, pk, Survey.objects.select_related("location", "touchpoint"))
    answered = Answer.objects.filter(question=OuterRef("pk"))
    questions = (
        survey.questions.select_related("touchpoint", "show_if_question")
        .annotate(has_answers=Exists(answered))
        .order_by("archived_at", "position", "pk")
    )
    context = {
        "survey": survey,
        "live": [q for q in questions if q.archived_at is None],
        "archived": [q for q in questions if q.archived_at is not None],
        "kiosk_url": _absolute(reverse("patient:kiosk", args=[survey.slug])),
        "language_problems": survey.language_problems(),
    }
    return render(request, "feedback/manage/survey_builder.html", context)


@require_POST
@site_manager_required
def survey_set_active(request: HttpRequest, pk: int) -> HttpResponse:
    survey = get_survey_to_manage(request.user, pk)
    active = request.POST.get("active") == "1"
    try:
        services.survey_set_active(survey=survey, active=active, by=request.user)
    except ValidationError as exc:
        messages.error(request, exc.messages[0])
        return redirect("feedback:survey_builder", survey.pk)
    text = _("“%(title)s” is now on.") if active else _("“%(title)s” is now off.")
    messages.success(request, text % {"title": survey.title})
    return redirect("feedback:survey_builder", survey.pk)


@site_manager_required
@require_http_methods(["GET", "POST"])
def survey_preview(request: HttpRequest, pk: int) -> HttpResponse:
    """Exactly the patient's page (same view code and template); answers are validated, never stored.
    A site manager previews the group's surveys too: reading one changes nothing."""
    survey = get_survey_for_user(request.user, pk)
    language = choose_language(request, survey)
    channel = Response.Channel.STAFF if survey.audience == Survey.Audience.STAFF else Response.Channel.QR
    with translation.override(language):
        return survey_page(
            request, survey=survey, language=language, channel=channel, where=Where(), preview=True
        )


# The printables a practice puts up: (value, label). The first is the default.
POSTER_SIZES = (
    ("a4", _("A4 poster")),
    ("a5", _("A5 poster")),
    ("card", _("Folded table card (A4, folded in half)")),
)


@site_manager_required
def survey_poster(request: HttpRequest, pk: int) -> HttpResponse:
    """A printable poster: the survey's QR code and short address, optionally for one touchpoint,
    as an A4 or A5 poster or a folded table card that reads from both sides."""
    survey = get_survey_to_manage(request.user, pk, Survey.objects.for_patients())
    # Only the touchpoints the kiosk accepts for this survey (feedback.views.answer._poster_touchpoint).
    touchpoints = Touchpoint.objects.active().serving(survey.location_id).select_related("location")
    chosen = query_int(request.GET, "tp")
    touchpoint = touchpoints.filter(pk=chosen).first() if chosen is not None else None
    params = {"src": "qr", **({"tp": touchpoint.pk} if touchpoint else {})}
    short_url = _absolute(reverse("patient:kiosk", args=[survey.slug]))
    qr_url = f"{short_url}?{urlencode(params)}"
    image = qrcode.make(qr_url, image_factory=qrcode.image.svg.SvgPathImage, box_size=10, border=2)
    buffer = BytesIO()
    image.save(buffer)
    svg = buffer.getvalue().decode()
    svg = svg[svg.index("<svg") :]  # drop the XML declaration: the SVG goes inline in the page
    sizes = dict(POSTER_SIZES)
    size = request.GET.get("size") if request.GET.get("size") in sizes else POSTER_SIZES[0][0]
    context = {
        "survey": survey,
        "sizes": POSTER_SIZES,
        "size": size,
        "faces": range(2 if size == "card" else 1),
        "touchpoints": touchpoints,
        "touchpoint": touchpoint,
        "short_url": short_url.split("://", 1)[-1],
        "qr_url": qr_url,
        # Generated by qrcode from our own URL: markup we built, not user input.
        "qr_svg": mark_safe(svg),
    }
    return render(request, "feedback/manage/survey_poster.html", context)


def _absolute(path: str) -> str:
    return f"{settings.SITE_URL}{path}"


# --- Questions --------------------------------------------------------------------------------------


def _question_to_manage(request: HttpRequest, pk: int) -> Question:
    """A live question of a survey this person may change (``get_survey_to_manage``)."""
    question = get_object_or_404(Question.objects.select_related("survey"), pk=pk, archived_at__isnull=True)
    get_survey_to_manage(request.user, question.survey_id)
    return question


@site_manager_required
@require_http_methods(["GET", "POST"])
def question_create(request: HttpRequest, pk: int) -> HttpResponse:
    survey = get_survey_to_manage(request.user, pk)
    form = QuestionForm(request.POST or None, survey=survey)
    if request.method == "POST" and form.is_valid():
        services.question_add(survey=survey, data=form.cleaned_data, by=request.user)
        messages.success(request, _("Question added."))
        return redirect("feedback:survey_builder", survey.pk)
    status = 400 if request.method == "POST" else 200
    return render(
        request, "feedback/manage/question_form.html", {"form": form, "survey": survey}, status=status
    )


@site_manager_required
@require_http_methods(["GET", "POST"])
def question_update(request: HttpRequest, pk: int) -> HttpResponse:
    question = _question_to_manage(request, pk)
    form = QuestionForm(request.POST or None, instance=question, survey=question.survey)
    if request.method == "POST" and form.is_valid():
        saved = services.question_update(
            question=question, data=form.cleaned_data, now=timezone.now(), by=request.user
        )
        if saved.pk != question.pk:
            messages.info(
                request,
                _(
                    "The old question had answers, so it was archived with them "
                    "and this new version took its place."
                ),
            )
        else:
            messages.success(request, _("Question saved."))
        return redirect("feedback:survey_builder", question.survey_id)
    status = 400 if request.method == "POST" else 200
    context = {"form": form, "survey": question.survey, "question": question}
    return render(request, "feedback/manage/question_form.html", context, status=status)


def _confirm_question_remove(request: HttpRequest, pk: int) -> Confirmation:
    question = _question_to_manage(request, pk)
    back = reverse("feedback:survey_builder", args=[question.survey_id])
    if question.answers.exists():
        return Confirmation(
            question=_("Archive the question “%(text)s”?") % {"text": question.text},
            consequence=_("Patients will no longer see it. Its answers stay in the results."),
            button=_("Archive"),
            back=back,
        )
    return Confirmation(
        question=_("Delete the question “%(text)s”?") % {"text": question.text},
        consequence=_("No one has answered it yet. This cannot be undone."),
        button=_("Delete"),
        back=back,
    )


@require_POST
@site_manager_required
@confirm_first(_confirm_question_remove)
def question_remove(request: HttpRequest, pk: int) -> HttpResponse:
    question = _question_to_manage(request, pk)
    try:
        archived = services.question_remove(question=question, now=timezone.now(), by=request.user)
    except ValidationError as exc:
        messages.error(request, exc.messages[0])
    else:
        messages.success(
            request,
            _("Question archived: it has answers, which stay in the results.")
            if archived
            else _("Question deleted."),
        )
    return redirect("feedback:survey_builder", question.survey_id)


@require_POST
@site_manager_required
def question_move(request: HttpRequest, pk: int) -> HttpResponse:
    question = _question_to_manage(request, pk)
    try:
        services.question_move(question=question, up=request.POST.get("direction") == "up", by=request.user)
    except ValidationError as exc:
        messages.error(request, exc.messages[0])
    return redirect(
        reverse("feedback:survey_builder", args=[question.survey_id]) + f"#question-{question.pk}"
    )


# --- Themes ---------------------------------------------------------------------------------------------


class ThemeListView(ManagerRequiredMixin, ListView):
    template_name = "feedback/manage/theme_list.html"
    context_object_name = "themes"
    queryset = Theme.objects.annotate(tagged=Count("responses")).order_by("-is_active", "name")


class ThemeEditMixin(ManagerRequiredMixin, RefusedFormMixin):
    model = Theme
    form_class = ThemeForm
    template_name = "feedback/manage/theme_form.html"
    success_url = reverse_lazy("feedback:theme_list")

    def form_valid(self, form) -> HttpResponse:
        response = super().form_valid(form)
        messages.success(
            self.request,
            _("Saved the theme “%(name)s”. New comments are tagged with it.") % {"name": self.object},
        )
        return response


class ThemeCreateView(ThemeEditMixin, CreateView):
    pass


class ThemeUpdateView(ThemeEditMixin, UpdateView):
    pass
