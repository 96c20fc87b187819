"""Security middleware: Content-Security-Policy, rate limits, malformed session cookies, and
two-factor for managers."""

from __future__ import annotations

import logging
import re
from collections.abc import Callable

from django.conf import settings
from django.contrib.auth.views import redirect_to_login
from django.http import HttpRequest, HttpResponse
from django.template import loader
from django.urls import reverse

from servicedesk.security import ratelimit
from servicedesk.security.twofactor import has_confirmed_device, needs_two_factor

logger = logging.getLogger(__name__)


class ContentSecurityPolicyMiddleware:
    """Send ``settings.CONTENT_SECURITY_POLICY`` on every response that has none of its own.

    The policy allows scripts and styles from our own origin only: no inline ``<script>``,
    no ``onclick=``, no ``style=`` attributes. An injected script tag cannot run.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response
        self.header = (
            "Content-Security-Policy-Report-Only"
            if settings.CONTENT_SECURITY_POLICY_REPORT_ONLY
            else "Content-Security-Policy"
        )

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if settings.CONTENT_SECURITY_POLICY and self.header not in response:
            response[self.header] = settings.CONTENT_SECURITY_POLICY
        return response


class RateLimitMiddleware:
    """Limit every public view, and the views ``settings.RATE_LIMITS`` names, per client address."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_view(self, request: HttpRequest, view_func, view_args, view_kwargs) -> HttpResponse | None:
        if not settings.RATE_LIMIT_ENABLED or request.resolver_match is None:
            return None
        view_name = request.resolver_match.view_name
        public = not getattr(view_func, "login_required", True)
        rate = ratelimit.rule_for(view_name, request.method, public=public)
        if rate is None:
            return None
        retry_after = ratelimit.hit(
            f"{view_name}:{request.method}", client=ratelimit.client_ip(request) or "unknown", rate=rate
        )
        if retry_after is None:
            return None
        logger.warning("rate limit reached on %s %s", request.method, view_name)
        own_page = getattr(view_func, ratelimit.OWN_PAGE, None)  # a patient page's friendlier one
        return own_page(request, retry_after) if own_page else too_many_requests(retry_after)


def too_many_requests(retry_after: int) -> HttpResponse:
    """The friendly 429 page. Rendered without the request: it must stay cheap under a flood."""
    minutes = max(1, round(retry_after / 60))
    response = HttpResponse(loader.get_template("errors/429.html").render({"minutes": minutes}), status=429)
    response["Retry-After"] = str(retry_after)
    response["Cache-Control"] = "no-store"
    return response


# What Django's session engines make: 32 of a-z and 0-9 (django.contrib.sessions.backends.base).
_SESSION_KEY = re.compile(r"[a-z0-9]{32}")


class MalformedSessionCookieMiddleware:
    """Ignore a session cookie that no session engine could have made, before SessionMiddleware
    reads it. Passed on, it becomes a cache key, and the cache's warning about a key with spaces,
    control characters or 250+ characters prints the whole cookie to stderr, the server's log."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        value = request.COOKIES.get(settings.SESSION_COOKIE_NAME)
        if value is not None and not _SESSION_KEY.fullmatch(value):
            del request.COOKIES[settings.SESSION_COOKIE_NAME]  # as if the visitor had sent none
        return self.get_response(request)


class ManagerTwoFactorMiddleware:
    """Managers (and superusers) use the staff side only after their second factor.

    A manager who has a confirmed authenticator is sent to type a code; one who has none
    is sent to set one up. Staff are unaffected, and so are patients' pages. This runs on
    the server for every view, so no page can forget it.
    """

    # Pages a manager must reach before verifying: the two-factor pages themselves and logout.
    EXEMPT_VIEWS = frozenset({"logout", "security:two_factor_verify", "security:two_factor_setup"})

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_view(self, request: HttpRequest, view_func, view_args, view_kwargs) -> HttpResponse | None:
        user = request.user
        if not needs_two_factor(user) or user.is_verified():
            return None
        if not getattr(view_func, "login_required", True):
            return None  # patients' pages, login, health
        if request.resolver_match and request.resolver_match.view_name in self.EXEMPT_VIEWS:
            return None
        target = "security:two_factor_verify" if has_confirmed_device(user) else "security:two_factor_setup"
        return redirect_to_login(request.get_full_path(), reverse(target))
