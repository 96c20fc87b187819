from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from django.conf import settings
from django.contrib.auth import logout
from django.contrib.auth.views import redirect_to_login
from django.db import DatabaseError, InterfaceError, OperationalError
from django.http import HttpRequest, HttpResponse
from django.utils import timezone

from servicedesk.untrusted import unstorable
from servicedesk.views import database_unavailable, unstorable_input

SESSION_STARTED = "servicedesk.started_at"
SESSION_SEEN = "servicedesk.last_seen"
# How stale "last seen" may get before it is written again: saving the session on
# every request would be one database write per page view for nothing.
_SEEN_RESOLUTION_SECONDS = 60


class DatabaseUnavailableMiddleware:
    """A database outage gives the friendly 503 page (even with DEBUG on), never a stack trace."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if isinstance(exception, OperationalError | InterfaceError) or type(exception) is DatabaseError:
            return database_unavailable(request)
        return None


class UnstorableInputMiddleware:
    """Refuse, with one 400 page, a request whose path, query string or form holds a NUL or a lone
    surrogate: no column can store one, and PostgreSQL refuses any query that carries it (a NUL in
    a patient's link token was a 500). Forms refuse a NUL in a field themselves; this covers what
    no form reads (tokens in the path, query parameters, fields nobody asked for)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if unstorable(request.path_info) or _holds_unstorable(request.GET):
            return unstorable_input(request)
        # Only forms: a JSON body is the reading view's (servicedesk.untrusted.load_json).
        is_form = request.method == "POST" and request.content_type in _FORM_TYPES
        if is_form and _holds_unstorable(request.POST):
            return unstorable_input(request)
        return self.get_response(request)


_FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")


def _holds_unstorable(params) -> bool:
    return any(unstorable(key) or any(unstorable(v) for v in values) for key, values in params.lists())


class SessionTimeoutMiddleware:
    """End a staff session after SESSION_IDLE_TIMEOUT idle or SESSION_ABSOLUTE_TIMEOUT in all."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.user.is_authenticated:
            now = timezone.now()
            session = request.session
            started = _read(session.get(SESSION_STARTED)) or now
            seen = _read(session.get(SESSION_SEEN)) or now
            if (
                now - seen > settings.SESSION_IDLE_TIMEOUT
                or now - started > settings.SESSION_ABSOLUTE_TIMEOUT
            ):
                logout(request)
                return redirect_to_login(request.get_full_path())
            if SESSION_STARTED not in session:
                session[SESSION_STARTED] = now.isoformat()
            if (now - seen).total_seconds() >= _SEEN_RESOLUTION_SECONDS or SESSION_SEEN not in session:
                session[SESSION_SEEN] = now.isoformat()
        return self.get_response(request)


def _read(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None
