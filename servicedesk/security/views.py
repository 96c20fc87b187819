from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from functools import wraps

import django_otp
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render, resolve_url
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.generic import ListView
from django_otp.plugins.otp_totp.models import TOTPDevice

from servicedesk.access import ManagerRequiredMixin
from servicedesk.audit import sentence
from servicedesk.clock import local_midnight
from servicedesk.paging import UncountedPagesMixin
from servicedesk.refusal import REFUSED
from servicedesk.security.forms import AuditFilterForm, CodeForm
from servicedesk.security.models import AuditEvent
from servicedesk.security.twofactor import DEVICE_NAME, needs_two_factor, qr_code_svg, secret_for_humans


def _two_factor_user_required(view: Callable) -> Callable:
    @wraps(view)
    def wrapper(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        if not needs_two_factor(request.user):
            raise PermissionDenied("Two-factor sign-in is for practice managers.")
        return view(request, *args, **kwargs)

    return wrapper


def _next_url(request: HttpRequest) -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    if url_has_allowed_host_and_scheme(target, {request.get_host()}, require_https=request.is_secure()):
        return target
    return resolve_url("home")


def _signed_in_with(request: HttpRequest, device: TOTPDevice) -> None:
    # A new session key for the raised privilege, as at login, so a fixed session id is useless.
    request.session.cycle_key()
    django_otp.login(request, device)


@never_cache
@_two_factor_user_required
def two_factor_verify(request: HttpRequest) -> HttpResponse:
    """The second step of a manager's login: a code from their authenticator app."""
    devices = TOTPDevice.objects.filter(user=request.user, confirmed=True)
    if not devices:
        return redirect(f"{resolve_url('security:two_factor_setup')}?next={_next_url(request)}")
    if request.user.is_verified():
        return redirect(_next_url(request))
    form = CodeForm(request.POST or None)
    if form.is_valid():
        with transaction.atomic():
            device = next((d for d in devices if d.verify_token(form.cleaned_data["code"])), None)
        if device is not None:
            _signed_in_with(request, device)
            return redirect(_next_url(request))
        form.add_error(
            "code",
            "That code did not work. Codes change every 30 seconds: type the one your app shows now. "
            "After several wrong codes you will have to wait a little longer between tries.",
        )
    status = 400 if form.is_bound else 200
    return render(
        request, "security/two_factor_verify.html", {"form": form, "next": _next_url(request)}, status=status
    )


@never_cache
@_two_factor_user_required
def two_factor_setup(request: HttpRequest) -> HttpResponse:
    """Set up an authenticator app: scan the QR code, type a code to prove it works.

    Only for someone with no confirmed device: a second device needs the first one, so a stolen
    password alone can never enrol a new authenticator. Lost phones are reset by another manager
    (``manage.py reset_two_factor``).
    """
    if TOTPDevice.objects.filter(user=request.user, confirmed=True).exists():
        if request.user.is_verified():
            messages.info(request, _("Two-factor sign-in is already set up for your account."))
            return redirect(_next_url(request))
        return redirect(f"{resolve_url('security:two_factor_verify')}?next={_next_url(request)}")
    device, _created = TOTPDevice.objects.get_or_create(
        user=request.user, confirmed=False, defaults={"name": DEVICE_NAME}
    )
    form = CodeForm(request.POST or None)
    if form.is_valid():
        if device.verify_token(form.cleaned_data["code"]):
            TOTPDevice.objects.filter(pk=device.pk).update(confirmed=True)
            device.confirmed = True
            _signed_in_with(request, device)
            messages.success(
                request, _("Two-factor sign-in is set up. You will need your app each time you log in.")
            )
            return redirect(_next_url(request))
        form.add_error(
            "code",
            "That code did not match. Check the app shows Servicedesk, and type the code it shows now.",
        )
    context = {
        "form": form,
        "next": _next_url(request),
        "qr_code": mark_safe(qr_code_svg(device)),  # an SVG we generated from our own data
        "secret": secret_for_humans(device),
    }
    return render(
        request, "security/two_factor_setup.html", context, status=REFUSED if form.is_bound else 200
    )


class AuditLogView(ManagerRequiredMixin, UncountedPagesMixin, ListView):
    """Managers read who changed the practice's set-up and who touched patient-identifying data,
    filtered by kind of object, person and dates, each event a sentence. The log names objects,
    never their data. A filter it cannot read (a date that is not one) is refused like any form:
    the page again with the error, as a 400, and no events."""

    template_name = "security/audit_log.html"
    paginate_by = 50

    def get(self, request, *args, **kwargs):
        self.form = AuditFilterForm(request.GET or None)
        response = super().get(request, *args, **kwargs)
        if self.form.is_bound and not self.form.is_valid():
            response.status_code = REFUSED
        return response

    def get_queryset(self):
        events = AuditEvent.objects.select_related("actor").order_by("-at", "-pk")
        if not self.form.is_bound:
            return events
        if not self.form.is_valid():
            return events.none()
        data = self.form.cleaned_data
        if data["kind"]:
            events = events.filter(target_type=data["kind"])
        if data["actor"]:
            events = events.filter(actor=data["actor"])
        if data["since"]:
            events = events.filter(at__gte=local_midnight(data["since"]))
        if data["until"]:
            events = events.filter(at__lt=local_midnight(data["until"] + timedelta(days=1)))
        return events

    def get_context_data(self, **kwargs) -> dict:
        context = super().get_context_data(form=self.form, **kwargs)
        context["rows"] = [(event, sentence(event)) for event in context["object_list"]]
        return context
