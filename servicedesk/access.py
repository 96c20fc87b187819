"""Server-side role checks for staff pages. Templates only hide links; these decide.

Two layers: the role (``team_required``, ``manager_required``: may this person open this kind of
page at all) and, for staff, need to know (``sites_seen_by``: which sites' incidents and
checklists). Each pillar turns the second into one queryset method (``visible_to(user)``) that
its list, detail, action and count views all go through.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import wraps

from django.contrib.auth.mixins import AccessMixin
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from servicedesk.caching import cached, forget
from servicedesk.models import PracticeSettings, User

_SETTINGS_KEY = "practice-settings:v1"
_SETTINGS_SECONDS = 300  # bounds how stale a copy can be if deleting it after a change failed


def _check(request: HttpRequest, *, managers_only: bool, sites_too: bool = False) -> None:
    """``managers_only``: the group's managers (every site); ``sites_too``: site managers as well,
    on a page that then shows and changes only their sites (``managed_site_ids``)."""
    user = request.user
    if not user.is_team_member:
        raise PermissionDenied("Your account has no role yet. Ask a practice manager to give you one.")
    if not managers_only or user.is_manager:
        return
    if user.is_site_manager:
        if sites_too:
            return
        raise PermissionDenied("Only the group's managers can do this: it is about every site.")
    raise PermissionDenied("Only practice managers can do this.")


class TeamRequiredMixin(AccessMixin):
    """Staff or manager. Anonymous visitors are already sent to login by LoginRequiredMiddleware."""

    managers_only = False
    sites_too = False

    def dispatch(self, request: HttpRequest, *args, **kwargs) -> HttpResponse:
        if not request.user.is_authenticated:
            return self.handle_no_permission()
        _check(request, managers_only=self.managers_only, sites_too=self.sites_too)
        return super().dispatch(request, *args, **kwargs)


class ManagerRequiredMixin(TeamRequiredMixin):
    managers_only = True


class SiteManagerRequiredMixin(TeamRequiredMixin):
    """The group's managers and site managers; the view limits itself to ``managed_site_ids``."""

    managers_only = True
    sites_too = True


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


def site_manager_required(view: Callable) -> Callable:
    """The group's managers and site managers: the view shows and changes only the sites the
    person manages (``request.user.managed_site_ids``: None for every site)."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        _check(request, managers_only=True, sites_too=True)
        return view(request, *args, **kwargs)

    return wrapper


# Pages about every site at once (the comparison between sites, settings the sites share): the
# group's managers only. The same check as ``manager_required``, named for what it means.
group_manager_required = manager_required


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


# --- Need to know: which sites' work a staff member sees -----------------------------------------


def _read_need_to_know() -> bool:
    row = PracticeSettings.objects.filter(pk=PracticeSettings.SINGLETON).only("staff_need_to_know").first()
    return (
        row.staff_need_to_know
        if row is not None
        else PracticeSettings._meta.get_field("staff_need_to_know").default
    )


def staff_need_to_know() -> bool:
    """Whether the practice limits staff to their own sites' work (the setting; on by default)."""
    return cached(_SETTINGS_KEY, _read_need_to_know, timeout=_SETTINGS_SECONDS)


def forget_practice_settings() -> None:
    """After a change: this request's next read, and everyone's once committed, see the new value."""
    forget(_SETTINGS_KEY)


def sites_seen_by(user: User) -> frozenset[int] | None:
    """The ids of the sites whose incidents and checklists ``user`` sees, or None for every site.

    None for a manager, and for everyone when the practice has switched need to know off. A staff
    member sees their usual location and the others they cover; someone with none yet gets an
    empty set (the pillars still show them work not tied to a site, and work given to them).
    """
    if user.is_manager or not staff_need_to_know():
        return None
    return user.site_ids


def sees_every_patient_contact(user: User) -> bool:
    """Managers, and everyone when need to know is off; others see a patient's contact details only
    on work that is theirs (each pillar says which: ``recovery.views.patient_contact_shown_to``)."""
    return user.is_manager or not staff_need_to_know()
