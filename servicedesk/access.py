"""Server-side role checks for staff pages. Templates only hide links; these decide."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import wraps

from django.contrib.auth.mixins import AccessMixin
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render


def _check(request: HttpRequest, *, managers_only: bool) -> None:
    user = request.user
    if not user.is_team_member:
        raise PermissionDenied("Your account has no role yet. Ask a practice manager to give you one.")
    if managers_only and not user.is_manager:
        raise PermissionDenied("Only practice managers can do this.")


class TeamRequiredMixin(AccessMixin):
    """Staff or manager. Anonymous visitors are already sent to login by LoginRequiredMiddleware."""

    managers_only = False

    def dispatch(self, request: HttpRequest, *args, **kwargs) -> HttpResponse:
        if not request.user.is_authenticated:
            return self.handle_no_permission()
        _check(request, managers_only=self.managers_only)
        return super().dispatch(request, *args, **kwargs)


class ManagerRequiredMixin(TeamRequiredMixin):
    managers_only = True


def team_required(view: Callable) -> Callable:
    @wraps(view)
    def wrapper(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        _check(request, managers_only=False)
        return view(request, *args, **kwargs)

    return wrapper


def manager_required(view: Callable) -> Callable:
    @wraps(view)
    def wrapper(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        _check(request, managers_only=True)
        return view(request, *args, **kwargs)

    return wrapper


@dataclass(frozen=True)
class Confirmation:
    """What a destructive action asks before it runs: the question, what follows, the way back."""

    question: str
    consequence: str
    button: str
    back: str


def confirm_first(describe: Callable[..., Confirmation]) -> Callable[[Callable], Callable]:
    """A destructive POST asks first. The button on the page posts without ``confirmed=yes``: the
    answer is a page that asks ("Delete the question “…”? This cannot be undone.") with the button
    that posts again, confirmed, and a way back. Works without JavaScript; the check is on the
    server, so no form can skip it. ``describe(request, *args, **kwargs)`` looks the object up
    (a 404 for one that does not exist) and says what to ask. Put it under the role check."""

    def decorator(view: Callable) -> Callable:
        @wraps(view)
        def wrapper(request: HttpRequest, *args, **kwargs) -> HttpResponse:
            if request.POST.get("confirmed") != "yes":
                context = {"confirmation": describe(request, *args, **kwargs), "action": request.path}
                return render(request, "servicedesk/confirm.html", context)
            return view(request, *args, **kwargs)

        return wrapper

    return decorator
