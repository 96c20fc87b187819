"""The pages people answer surveys on: kiosk/QR (/k/<slug>/), invitation links (/f/<token>/), staff pulse.

Patient pages need no login, work without JavaScript, and treat every visitor as possibly hostile:
unknown, used and expired links all get the same neutral page and status; token pages send no
referrer; kiosk posts are rate-limited per IP; a honeypot, a minimum fill time and a form stamp
that is valid for minutes and accepted once turn away bots.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from functools import wraps
from urllib.parse import urlencode

from django.conf import settings
from django.contrib.auth.decorators import login_not_required
from django.core import signing
from django.core.cache import cache
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_http_methods

from feedback import services
from feedback.forms import SurveyResponseForm, started_stamp
from feedback.models import LANGUAGE_CODES, LANGUAGES, Invitation, Response, Survey, localized
from feedback.services import InvitationClosed, Where
from feedback.sites import survey_in_force
from servicedesk.access import team_required
from servicedesk.models import Touchpoint
from servicedesk.refusal import REFUSED
from servicedesk.security import ratelimit
from servicedesk.untrusted import query_int

logger = logging.getLogger(__name__)

_THANKS_SALT = "feedback.thanks"
FORM_TEMPLATE = "feedback/answer/form_page.html"


def private_page(view: Callable) -> Callable:
    """Patient pages are never cached (a kiosk's Back button must not show the last person's
    answers) and never indexed."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        response = view(request, *args, **kwargs)
        response["Cache-Control"] = "no-store"
        response["X-Robots-Tag"] = "noindex, nofollow"
        return response

    return wrapper


def token_page(view: Callable) -> Callable:
    """A page whose address holds a secret: as private_page, and the browser sends no referrer.

    With ``Referrer-Policy: no-referrer`` browsers send ``Origin: null`` on the form's POST, which
    Django's CSRF check rightly refuses, so these views are CSRF-exempt. That costs nothing: CSRF
    protects what a cookie authorises, and here nothing is: the authority is the unguessable token
    in the address, which a forging site does not have. The view reads no session and no user.
    """

    @wraps(view)
    def wrapper(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        response = view(request, *args, **kwargs)
        response["Referrer-Policy"] = "no-referrer"
        return response

    return csrf_exempt(private_page(wrapper))


# --- Kiosk and QR poster ---------------------------------------------------------------------------


def too_many_posts(request: HttpRequest, retry_after: int) -> HttpResponse:
    """The kiosk's own page for RATE_LIMITS["patient:kiosk"]: in the patient's language, with the
    kiosk's look, rather than the generic one (servicedesk.security.middleware)."""
    language = translation.get_language() or settings.LANGUAGE_CODE
    response = render(request, "feedback/answer/too_many.html", {"language": language}, status=429)
    response["Retry-After"] = str(retry_after)
    response["Cache-Control"] = "no-store"
    return response


@login_not_required
@ratelimit.too_many_requests_page(too_many_posts)
@private_page
@require_http_methods(["GET", "POST"])
def kiosk(request: HttpRequest, slug: str) -> HttpResponse:
    surveys = Survey.objects.active().for_patients().select_related("location", "touchpoint__location")
    survey = surveys.filter(slug=slug).first()
    if survey is None:
        raise Http404
    params = request.POST if request.method == "POST" else request.GET
    channel = Response.Channel.QR if params.get("src") == "qr" else Response.Channel.KIOSK
    touchpoint = _poster_touchpoint(query_int(params, "tp"), survey)
    location = touchpoint.location if touchpoint and touchpoint.location_id else survey.location
    # At a site with its own survey for this purpose, the group's poster opens the site's survey.
    survey = survey_in_force(survey, location_id=location.pk if location else None)
    where = Where(location=location, touchpoint=touchpoint)
    language = choose_language(request, survey)
    with translation.override(language):
        return survey_page(
            request,
            survey=survey,
            language=language,
            channel=channel,
            where=where,
            keep={
                **({"src": "qr"} if channel == Response.Channel.QR else {}),
                **({"tp": touchpoint.pk} if touchpoint and touchpoint != survey.touchpoint else {}),
            },
        )


def _poster_touchpoint(pk: int | None, survey: Survey) -> Touchpoint | None:
    """The poster's touchpoint (?tp=) when it serves the survey's location; any other is ignored,
    so an edited link cannot credit feedback to another site's touchpoint."""
    if pk is not None:
        serving = Touchpoint.objects.active().serving(survey.location_id)
        touchpoint = serving.select_related("location").filter(pk=pk).first()
        if touchpoint is not None:
            return touchpoint
    return survey.touchpoint


# --- Invitation links ------------------------------------------------------------------------------


@login_not_required
@token_page
@require_http_methods(["GET", "POST"])
def invitation(request: HttpRequest, token: str) -> HttpResponse:
    now = timezone.now()
    found = Invitation.objects.select_related("survey", "location", "touchpoint").by_token(token, now)
    if found is None or not found.survey.is_active:
        return unavailable(request)
    survey = found.survey
    language = choose_language(request, survey, preferred=found.language)
    with translation.override(language):
        return survey_page(
            request,
            survey=survey,
            language=language,
            channel=Response.Channel.LINK,
            where=Where(
                location=found.location, touchpoint=found.touchpoint, need_profile_id=found.need_profile_id
            ),
            invitation=found,
        )


def unavailable(request: HttpRequest) -> HttpResponse:
    """The one page for unknown, used and expired links: it must not tell them apart."""
    language = translation.get_language_from_request(request)[:2]
    language = language if language in LANGUAGE_CODES else "en"
    with translation.override(language):
        return render(request, "feedback/answer/unavailable.html", {"language": language}, status=404)


# --- Staff pulse ---------------------------------------------------------------------------------------


@team_required
@require_http_methods(["GET", "POST"])
def pulse(request: HttpRequest, slug: str) -> HttpResponse:
    """An anonymous staff survey. Nothing about the person is stored: no user, location or device."""
    survey = get_object_or_404(Survey.objects.active().staff_pulses(), slug=slug)
    language = choose_language(request, survey)
    with translation.override(language):
        return survey_page(
            request, survey=survey, language=language, channel=Response.Channel.STAFF, where=Where()
        )


# --- Shared: the form page and the thank-you page ----------------------------------------------------


def choose_language(request: HttpRequest, survey: Survey, preferred: str | None = None) -> str:
    """The language asked for (?lang=), else the invitation's, else the browser's, if the survey offers it."""
    for candidate in (
        request.POST.get("lang") or request.GET.get("lang"),
        preferred,
        translation.get_language_from_request(request)[:2],
    ):
        if candidate and survey.offers(candidate):
            return candidate
    return "en"


def survey_page(
    request: HttpRequest,
    *,
    survey: Survey,
    language: str,
    channel: str,
    where: Where,
    invitation: Invitation | None = None,
    keep: dict | None = None,
    preview: bool = False,
) -> HttpResponse:
    """Show the form, or validate and store a response. Invalid answers come back with a 400."""
    questions = list(survey.questions.live())
    data = request.POST if request.method == "POST" else None
    form = SurveyResponseForm(data, survey=survey, questions=questions, language=language)
    keep = keep or {}
    context = {"preview": preview, "channel": channel, "keep": keep}
    if data is None:
        return _render_form(request, form, context)
    if form.honeypot_filled:
        logger.info("feedback honeypot filled on survey %s: discarded", survey.pk)
        return redirect(thanks_url(survey=survey, channel=channel, language=language, keep=keep))
    if not form.is_valid():
        return _render_form(request, form, context, status=REFUSED)
    timed = channel in (Response.Channel.KIOSK, Response.Channel.QR) and not preview
    refusal = _unattended_form_refusal(form) if timed else None
    if refusal:
        fresh = data.copy()
        fresh["started"] = started_stamp()
        form = SurveyResponseForm(fresh, survey=survey, questions=questions, language=language)
        form.is_valid()
        form.add_error(None, refusal)
        return _render_form(request, form, context, status=REFUSED)
    if preview:
        context["preview_ok"] = True
        return _render_form(request, form, context)
    try:
        response = services.response_submit(
            survey=survey,
            answers=form.answers(),
            channel=channel,
            language=language,
            where=where,
            contact=form.contact(),
            now=timezone.now(),
            invitation=invitation,
        )
    except InvitationClosed:
        return unavailable(request)
    follow_up = survey.contact_within_days if response.is_negative and response.has_contact else None
    return redirect(
        thanks_url(survey=survey, channel=channel, language=language, follow_up_days=follow_up, keep=keep)
    )


def _unattended_form_refusal(form: SurveyResponseForm) -> str | None:
    """Why a kiosk or QR form, which anyone can post, is turned away as a bot's, if it is:

    1. it has no valid stamp, or came back sooner than a person could fill it in;
    2. it was shown longer ago than FEEDBACK_FORM_MAX_MINUTES (a stamp replayed all day);
    3. it was sent before: its id is claimed in the cache for as long as its stamp is valid.
    """
    started = form.stamp()
    if started is None or started.seconds_ago < settings.FEEDBACK_MIN_FILL_SECONDS:
        return _("That was quicker than we expected. Please check your answers and press Send again.")
    max_age = settings.FEEDBACK_FORM_MAX_MINUTES * 60
    if started.seconds_ago > max_age:
        return _("This page was open for a long time. Please check your answers and press Send again.")
    if not _first_sending(started.form_id, seconds=max_age):
        return _("These answers were already sent. To send them again, press Send once more.")
    return None


def _first_sending(form_id: str, *, seconds: int) -> bool:
    """Claim this form's id. With the cache down, let it through, as the rate limits do: losing a
    patient's feedback is worse than a few minutes in which a form could be sent twice."""
    try:
        return bool(cache.add(f"feedback:form-sent:{form_id}", True, timeout=seconds))
    except Exception:  # a dead cache must never take the page down with it
        logger.warning("kiosk form not checked for a second sending: the cache is unavailable")
        return True


def _render_form(
    request: HttpRequest, form: SurveyResponseForm, context: dict, status: int = 200
) -> HttpResponse:
    survey, language = form.survey, form.language
    keep = context["keep"]
    context.update(
        form=form,
        survey=survey,
        language=language,
        title=survey.patient_heading(language),
        intro=localized(survey, "intro", language),
        switch=[
            (code, name, "?" + urlencode({**keep, "lang": code}))
            for code, name in LANGUAGES
            if survey.offers(code) and code != language
        ],
        is_kiosk=context["channel"] == Response.Channel.KIOSK and not context["preview"],
        reset_seconds=settings.FEEDBACK_KIOSK_IDLE_SECONDS,
        patient=context["channel"] != Response.Channel.STAFF,
    )
    return render(request, FORM_TEMPLATE, context, status=status)


def thanks_url(
    *,
    survey: Survey,
    channel: str,
    language: str,
    follow_up_days: int | None = None,
    keep: dict | None = None,
) -> str:
    """The thank-you page's address. What it needs (language, whether we will call back) travels signed."""
    payload = signing.dumps(
        {"s": survey.pk, "c": channel, "l": language, "d": follow_up_days, "k": keep or {}}, salt=_THANKS_SALT
    )
    if channel == Response.Channel.LINK:
        base = reverse("patient:invitation_thanks")
    elif channel == Response.Channel.STAFF:
        base = reverse("feedback:pulse_thanks", args=[survey.slug])
    else:
        base = reverse("patient:kiosk_thanks", args=[survey.slug])
    return f"{base}?{urlencode({'r': payload})}"


@require_GET
def _thanks(request: HttpRequest, slug: str | None = None) -> HttpResponse:
    try:
        outcome = signing.loads(request.GET.get("r", ""), salt=_THANKS_SALT, max_age=3600)
    except signing.BadSignature:
        outcome = {}
    survey = Survey.objects.filter(pk=outcome.get("s")).first() if outcome else None
    if survey is None and slug:
        survey = Survey.objects.filter(slug=slug).first()
    language = outcome.get("l") if outcome.get("l") in LANGUAGE_CODES else "en"
    channel = outcome.get("c", Response.Channel.KIOSK if slug else Response.Channel.LINK)
    with translation.override(language):
        context = {
            "survey": survey,
            "language": language,
            "message": localized(survey, "thanks", language) if survey else "",
            "follow_up_days": outcome.get("d"),
            "patient": channel != Response.Channel.STAFF,
            # "Start again for the next person" only on the waiting-room tablet: a QR code opens
            # the survey on the patient's own phone, where there is no next person.
            "restart_url": (
                reverse("patient:kiosk", args=[slug]) + _query(outcome.get("k"))
                if slug and channel == Response.Channel.KIOSK
                else None
            ),
            "auto_restart": channel == Response.Channel.KIOSK,
            "again_url": reverse("feedback:pulse", args=[slug])
            if channel == Response.Channel.STAFF
            else None,
            "reset_seconds": settings.FEEDBACK_KIOSK_THANKS_SECONDS,
        }
        return render(request, "feedback/answer/thanks.html", context)


def _query(keep: object) -> str:
    if not isinstance(keep, dict) or not keep:
        return ""
    return "?" + urlencode({k: v for k, v in keep.items() if k in ("src", "tp")})


kiosk_thanks = login_not_required(private_page(_thanks))
invitation_thanks = login_not_required(token_page(_thanks))
pulse_thanks = team_required(_thanks)
