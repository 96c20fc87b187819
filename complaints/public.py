"""The public "Tell us / make a complaint" page: no login, English or Spanish, works without
JavaScript, and treats every visitor as possibly hostile — rate-limited per address
(``RATE_LIMITS["complaints:tell_us"]``), CSRF-protected, with a honeypot, a minimum fill time and a
form stamp accepted once (as the kiosk). The thank-you page shows the complaint's reference, found
from an opaque one-hour token: the reference itself never travels in an address.
"""

from __future__ import annotations

import logging
import secrets
from urllib.parse import urlencode

from django.conf import settings
from django.contrib.auth.decorators import login_not_required
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from complaints import services
from complaints.forms import PublicComplaintForm
from complaints.vocabulary import ReceivedBy
from feedback.forms import started_stamp
from feedback.models import LANGUAGE_CODES, LANGUAGES
from feedback.views.answer import private_page, too_many_posts
from recovery.vocabulary import Severity
from servicedesk.clock import local_today
from servicedesk.refusal import REFUSED
from servicedesk.security import ratelimit

logger = logging.getLogger(__name__)

_THANKS_SECONDS = 3600


def _language(request: HttpRequest) -> str:
    for candidate in (
        request.POST.get("lang") or request.GET.get("lang"),
        translation.get_language_from_request(request)[:2],
    ):
        if candidate in LANGUAGE_CODES:
            return candidate
    return "en"


def _switch(language: str, path: str) -> list[tuple[str, str, str]]:
    return [
        (code, name, f"{path}?{urlencode({'lang': code})}") for code, name in LANGUAGES if code != language
    ]


def _page(request: HttpRequest, form: PublicComplaintForm, language: str, status: int = 200) -> HttpResponse:
    context = {
        "form": form,
        "language": language,
        "patient": True,
        "hide_complaint_link": True,
        "switch": _switch(language, request.path),
    }
    return render(request, "complaints/tell_us.html", context, status=status)


def _refusal(form: PublicComplaintForm) -> str | None:
    """Why a form anyone can post is turned away as a bot's: no stamp or filled too fast, shown too
    long ago, or sent before (its id claimed in the cache while the stamp is valid)."""
    started = form.stamp()
    if started is None or started.seconds_ago < settings.FEEDBACK_MIN_FILL_SECONDS:
        return _("That was quicker than we expected. Please check your complaint and press Send again.")
    max_age = settings.FEEDBACK_FORM_MAX_MINUTES * 60
    if started.seconds_ago > max_age:
        return _("This page was open for a long time. Please check your complaint and press Send again.")
    try:
        first = bool(cache.add(f"complaints:form-sent:{started.form_id}", True, timeout=max_age))
    except Exception:  # a dead cache must not lose a patient's complaint
        logger.warning("complaint form not checked for a second sending: the cache is unavailable")
        first = True
    if not first:
        return _("This complaint was already sent. To send it again, press Send once more.")
    return None


def _thanks_url(reference: str, language: str) -> str:
    token = secrets.token_urlsafe(16)
    try:
        cache.set(f"complaints:thanks:{token}", reference, timeout=_THANKS_SECONDS)
    except Exception:  # the page then thanks without the reference
        logger.warning("complaint reference not kept for the thank-you page: the cache is unavailable")
    return f"{reverse('complaints:tell_us_thanks')}?{urlencode({'t': token, 'lang': language})}"


@login_not_required
@ratelimit.too_many_requests_page(too_many_posts)
@private_page
@require_http_methods(["GET", "POST"])
def tell_us(request: HttpRequest) -> HttpResponse:
    language = _language(request)
    with translation.override(language):
        if request.method != "POST":
            return _page(request, PublicComplaintForm(), language)
        form = PublicComplaintForm(request.POST)
        if form.honeypot_filled:
            logger.info("complaint honeypot filled: discarded")
            return redirect(f"{reverse('complaints:tell_us_thanks')}?{urlencode({'lang': language})}")
        if not form.is_valid():
            return _page(request, form, language, status=REFUSED)
        if refusal := _refusal(form):
            fresh = request.POST.copy()
            fresh["started"] = started_stamp()
            form = PublicComplaintForm(fresh)
            form.is_valid()
            form.add_error(None, refusal)
            return _page(request, form, language, status=REFUSED)
        data = {k: v for k, v in form.cleaned_data.items() if k not in ("started", "website")}
        now = timezone.now()
        try:
            complaint = services.complaint_record(
                **data,
                received_by=ReceivedBy.ONLINE,
                received_on=local_today(now),
                severity=Severity.HIGH,
                language=language,
                by=None,
                now=now,
            )
        except ValidationError as exc:
            form.add_error(None, exc.messages)
            return _page(request, form, language, status=REFUSED)
        return redirect(_thanks_url(complaint.reference, language))


@login_not_required
@private_page
@require_GET
def tell_us_thanks(request: HttpRequest) -> HttpResponse:
    language = _language(request)
    token = request.GET.get("t", "")
    reference = None
    if token:
        try:
            reference = cache.get(f"complaints:thanks:{token[:64]}")
        except Exception:
            reference = None
    with translation.override(language):
        context = {"reference": reference, "language": language, "patient": True, "hide_complaint_link": True}
        return render(request, "complaints/tell_us_thanks.html", context)
