"""What people said: the responses list, one response, a survey's results and its CSV export.

The group's managers see every site; a site manager opens a survey's results and export too, always
about one of their own sites (``feedback.sites``), as the dashboard is.
"""

from __future__ import annotations

import logging
from datetime import timedelta
from urllib.parse import urlencode

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db.models import Exists, OuterRef, Prefetch, Q
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.text import slugify
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from feedback import export, services
from feedback import results as figures
from feedback.forms import ResponseFilterForm, ResultsFilterForm
from feedback.models import Answer, Question, Response, Survey, Theme, ThemeMention
from feedback.results import ResponseFilter
from feedback.sites import get_survey_for_user, with_site_chosen
from servicedesk.access import manager_required, site_manager_required
from servicedesk.audit import Action, log_action
from servicedesk.figures import small_number
from servicedesk.paging import UncountedPaginator, count_up_to
from servicedesk.refusal import refused
from servicedesk.replica import reads_from_replica
from servicedesk.spreadsheet import csv_response
from servicedesk.untrusted import query_int

logger = logging.getLogger(__name__)

PAGE_SIZE = 25
COMMENTS_PER_PAGE = 20
DEFAULT_DAYS = 90


def _scope(form: ResultsFilterForm, survey: Survey | None) -> ResponseFilter:
    data = form.cleaned_data if form.is_valid() else {}
    return ResponseFilter(
        survey=survey,
        date_from=data.get("date_from"),
        date_to=data.get("date_to"),
        location_id=data["location"].pk if data.get("location") else None,
        touchpoint_id=data["touchpoint"].pk if data.get("touchpoint") else None,
    )


def _filter_form(form_class: type[ResultsFilterForm], request: HttpRequest) -> ResultsFilterForm:
    """Filters from the query string; with none given, the last 90 days. A site manager's always
    name one of their sites (their own by default; another site's makes the form invalid)."""
    if any(request.GET.get(name) for name in form_class.base_fields):
        data = request.GET
    else:
        today = timezone.localdate()
        data = {"date_from": str(today - timedelta(days=DEFAULT_DAYS - 1)), "date_to": str(today)}
    return form_class(with_site_chosen(request.user, data), sites=request.user.managed_site_ids)


def _questions(survey: Survey) -> list[Question]:
    """Live questions in order, then archived ones whose answers still count in the results."""
    answered = Answer.objects.filter(question=OuterRef("pk"))
    return list(
        survey.questions.filter(Q(archived_at__isnull=True) | Q(Exists(answered))).order_by(
            "archived_at", "position", "pk"
        )
    )


RESULTS_TEMPLATE = "feedback/manage/survey_results.html"


def _refused_for_a_site(request: HttpRequest, form: ResultsFilterForm, survey: Survey) -> HttpResponse | None:
    """A site manager's filter that names another site (or cannot be read) is refused with the form's
    message, as the dashboard refuses it, and never falls back to every site's answers."""
    if request.user.managed_site_ids is None or form.is_valid():
        return None
    return refused(request, RESULTS_TEMPLATE, {"survey": survey, "form": form, "results": None})


@site_manager_required
@reads_from_replica
def survey_results(request: HttpRequest, pk: int) -> HttpResponse:
    survey = get_survey_for_user(request.user, pk)
    form = _filter_form(ResultsFilterForm, request)
    if (refusal := _refused_for_a_site(request, form, survey)) is not None:
        return refusal
    scope = _scope(form, survey)
    results = figures.survey_results(scope, _questions(survey))
    # A staff pulse with few answers could be traced to a person by its wording: comments wait too.
    hide_comments = survey.audience == Survey.Audience.STAFF and results.suppressed
    page = None
    if not hide_comments:
        page = UncountedPaginator(figures.comments(scope), COMMENTS_PER_PAGE).get_page(
            request.GET.get("page")
        )
    status = 400 if form.is_bound and not form.is_valid() else 200
    context = {
        "survey": survey,
        "form": form,
        "results": results,
        "comments": page,
        "small_number": small_number(),
        "export_query": urlencode({k: v for k, v in form.data.items() if v and k != "page"}),
        "can_manage": request.user.manages_site(survey.location_id),
    }
    return render(request, RESULTS_TEMPLATE, context, status=status)


@site_manager_required
@reads_from_replica
def survey_export(request: HttpRequest, pk: int) -> HttpResponse | StreamingHttpResponse:
    """Every response in the filtered range as CSV (a site manager's: their site's only). Contact
    details are never exported."""
    survey = get_survey_for_user(request.user, pk)
    sites = request.user.managed_site_ids
    form = ResultsFilterForm(with_site_chosen(request.user, request.GET), sites=sites)
    if (refusal := _refused_for_a_site(request, form, survey)) is not None:
        return refusal
    scope = _scope(form, survey)
    questions = list(survey.questions.order_by("archived_at", "position", "pk"))
    responses = (
        scope.responses()
        .select_related("survey", "location", "touchpoint")
        .prefetch_related(
            "themes",
            Prefetch(
                "answers",
                queryset=scope.answered_within().only(
                    "pk", "response_id", "question_id", "value", "choice", "choices", "text"
                ),
            ),
        )
        .order_by("submitted_at", "pk")
    )
    # The export carries patients' words (and contact details they agreed to give): recorded.
    count = responses.count()
    if sites is not None and survey.audience == Survey.Audience.STAFF and count < small_number():
        # One site's few staff answers could be traced to a person: as on the results page.
        form.add_error(None, _("Too few answers at this site to download without identifying someone."))
        return refused(request, RESULTS_TEMPLATE, {"survey": survey, "form": form, "results": None})
    label = f"the responses to the survey “{survey.title}” as a spreadsheet (CSV)"
    log_action(survey, Action.EXPORTED, request.user, count=count, label=label)
    filename = f"{slugify(survey.title) or 'survey'}-{timezone.localdate():%Y-%m-%d}.csv"
    return csv_response(export.rows(responses.iterator(chunk_size=1000), questions), filename)


@manager_required
def response_list(request: HttpRequest) -> HttpResponse:
    form = _filter_form(ResponseFilterForm, request)
    data = form.cleaned_data if form.is_valid() else {}
    scope = _scope(form, data.get("survey"))
    responses = scope.responses()
    if data.get("sentiment") == Response.Sentiment.POSITIVE:
        responses = responses.filter(sentiment__gte=Response.POSITIVE_FROM)
    elif data.get("sentiment") == Response.Sentiment.NEGATIVE:
        responses = responses.filter(sentiment__lte=Response.NEGATIVE_TO)
    elif data.get("sentiment") == Response.Sentiment.NEUTRAL:
        responses = responses.filter(sentiment__gt=Response.NEGATIVE_TO, sentiment__lt=Response.POSITIVE_FROM)
    if data.get("theme"):
        tagged = Response.themes.through.objects.filter(response=OuterRef("pk"), theme=data["theme"])
        responses = responses.filter(Exists(tagged))
    if data.get("negative"):
        responses = responses.negative()
    answers = scope.answered_within()
    text_answers = answers.filter(question__kind=Question.Kind.TEXT).exclude(text="").order_by("pk")
    fft_answers = answers.filter(question__kind=Question.Kind.FFT)
    responses = (
        responses.select_related("survey", "location", "touchpoint")
        .prefetch_related(
            "themes",
            Prefetch("answers", queryset=text_answers, to_attr="comments"),
            Prefetch("answers", queryset=fft_answers, to_attr="fft_answers"),
        )
        .order_by("-submitted_at", "-pk")
    )
    page = UncountedPaginator(responses, PAGE_SIZE).get_page(request.GET.get("page"))
    status = 400 if form.is_bound and not form.is_valid() else 200
    context = {"form": form, "page": page, "total": count_up_to(responses)}
    return render(request, "feedback/manage/response_list.html", context, status=status)


MENTIONS = ThemeMention.objects.select_related("theme").order_by("theme__name")


@manager_required
def response_detail(request: HttpRequest, pk: int) -> HttpResponse:
    return _response_page(request, pk)


def _response_page(request: HttpRequest, pk: int, *, status: int = 200) -> HttpResponse:
    response = get_object_or_404(
        Response.objects.select_related("survey", "location", "touchpoint", "need_profile").prefetch_related(
            "themes",
            Prefetch(
                "answers",
                queryset=Answer.objects.select_related("question")
                .prefetch_related(Prefetch("theme_mentions", queryset=MENTIONS))
                .order_by("question__position"),
            ),
        ),
        pk=pk,
    )
    if response.has_contact:  # a patient's contact details on screen: recorded
        label = f"the contact details on response #{response.pk} to the survey “{response.survey.title}”"
        log_action(response, Action.VIEWED, request.user, label=label)
    context = {"response": response, "themes": Theme.objects.active()}
    return render(request, "feedback/manage/response_detail.html", context, status=status)


@require_POST
@manager_required
def answer_themes(request: HttpRequest, pk: int) -> HttpResponse:
    """A manager says a comment is, or is not, about a theme; the correction is kept."""
    answer = get_object_or_404(Answer.objects.select_related("response"), pk=pk)
    chosen = query_int(request.POST, "theme")
    theme = Theme.objects.active().filter(pk=chosen).first() if chosen is not None else None
    present = request.POST.get("present")
    if theme is None or present not in ("1", "0"):
        messages.error(request, _("Choose one of the practice's themes."))
        return _response_page(request, answer.response_id, status=400)
    try:
        changed = services.answer_theme_set(
            answer=answer, theme=theme, present=present == "1", by=request.user
        )
    except ValidationError as exc:
        messages.error(request, exc.messages[0])
        return _response_page(request, answer.response_id, status=400)
    if changed:
        if present == "1":
            text = _("This comment is now about “%(theme)s”.")
        else:
            text = _("This comment is no longer about “%(theme)s”.")
        messages.success(request, text % {"theme": theme.name})
    return redirect("feedback:response_detail", answer.response_id)
