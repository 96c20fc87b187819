"""What staff do to an incident from its page: one named view per action.

Each finds the incident through ``get_incident_for_user`` (the role rule), validates its form
if it has one, calls one service and redirects with a message. A move the incident's state does
not allow says why; an invalid form comes back on the incident's page with a 400.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.utils import timezone
from django.utils.decorators import method_decorator
from django.utils.translation import gettext_lazy as _
from django.views import View

from recovery import forms as rforms
from recovery import services
from recovery.models import Incident
from recovery.views import _detail_context, get_incident_for_user
from servicedesk.access import team_required
from servicedesk.refusal import refused


@method_decorator(team_required, name="dispatch")
class IncidentAction(View):
    """POST only. Subclasses name the action, its form (if any), what it does and what it says."""

    http_method_names = ["post"]
    action = ""
    form_class: type[forms.Form] | None = None
    prefix: str | None = None  # for the forms that appear twice on the page
    done: Any = ""

    def perform(self, incident: Incident, data: dict[str, Any], now: datetime) -> None:
        raise NotImplementedError

    def post(self, request: HttpRequest, reference: str) -> HttpResponse:
        incident = get_incident_for_user(request.user, reference)
        form = self.form_class(request.POST, request.FILES, prefix=self.prefix) if self.form_class else None
        if form is not None and not form.is_valid():
            return refused(
                request,
                "recovery/incident_detail.html",
                _detail_context(incident, self.request.user, **{self.action: form}),
            )
        try:
            self.perform(incident, form.cleaned_data if form else {}, timezone.now())
        except ValidationError as exc:
            if form is None or isinstance(exc, services.TransitionRefused):
                messages.error(request, " ".join(exc.messages))
                return redirect("recovery:incident_detail", incident.reference)
            form.add_error(None, exc)
            return refused(
                request,
                "recovery/incident_detail.html",
                _detail_context(incident, self.request.user, **{self.action: form}),
            )
        messages.success(request, self.done)
        return redirect("recovery:incident_detail", incident.reference)

    def refused(self, incident: Incident, form: forms.Form) -> HttpResponse:
        """The incident's page again, this action's form showing its errors."""
        context = _detail_context(incident, self.request.user, **{self.action: form})
        return refused(self.request, "recovery/incident_detail.html", context)


class Acknowledge(IncidentAction):
    action, done = "acknowledge", _("Acknowledged.")

    def perform(self, incident, data, now):
        services.incident_acknowledge(incident=incident, by=self.request.user, now=now)


class StartWork(IncidentAction):
    action, done = "start", _("Work started.")

    def perform(self, incident, data, now):
        services.incident_start(incident=incident, by=self.request.user, now=now)


class Resume(IncidentAction):
    action, done = "resume", _("Work resumed: the clock is running again.")

    def perform(self, incident, data, now):
        services.incident_resume(incident=incident, by=self.request.user, now=now)


class Close(IncidentAction):
    action, done = "close", _("Closed.")

    def perform(self, incident, data, now):
        services.incident_close(incident=incident, by=self.request.user, now=now)


class Pause(IncidentAction):
    action, form_class, prefix = "pause", rforms.ReasonForm, "pause"
    done = _("Paused while waiting on the patient: the clock has stopped.")

    def perform(self, incident, data, now):
        services.incident_pause(incident=incident, by=self.request.user, reason=data["reason"], now=now)


class Reopen(IncidentAction):
    action, form_class, prefix, done = "reopen", rforms.ReasonForm, "reopen", _("Reopened.")

    def perform(self, incident, data, now):
        services.incident_reopen(incident=incident, by=self.request.user, reason=data["reason"], now=now)


class Assign(IncidentAction):
    action, form_class, done = "assign", rforms.AssignForm, _("Assigned.")

    def perform(self, incident, data, now):
        services.incident_assign(incident=incident, assignee=data["assignee"], by=self.request.user, now=now)


class AddNote(IncidentAction):
    action, form_class, done = "note", rforms.NoteForm, _("Note added.")

    def perform(self, incident, data, now):
        services.incident_note(
            incident=incident, by=self.request.user, body=data["body"], now=now, attachment=data["attachment"]
        )


class LogContact(IncidentAction):
    action, form_class, done = "contact", rforms.ContactForm, _("Patient contact logged.")

    def perform(self, incident, data, now):
        services.incident_log_contact(
            incident=incident, by=self.request.user, channel=data["channel"], outcome=data["outcome"],
            body=data["body"], now=now,
        )  # fmt: skip


class AddAction(IncidentAction):
    action, form_class, done = "action", rforms.ActionForm, _("Action added.")

    def perform(self, incident, data, now):
        services.incident_add_action(
            incident=incident, by=self.request.user, description=data["description"], due_on=data["due_on"],
            owner=data["owner"], now=now,
        )  # fmt: skip


class Resolve(IncidentAction):
    action, form_class = "resolve", rforms.ResolveForm
    done = _("Resolved. If the patient agreed to be contacted, ask them whether we put it right.")

    def perform(self, incident, data, now):
        services.incident_resolve(
            incident=incident,
            by=self.request.user,
            summary=data["summary"],
            root_cause=data["root_cause"],
            now=now,
        )


class AskPatient(IncidentAction):
    action, done = "ask_patient", _('Sent the patient the "Did we put it right?" question.')

    def perform(self, incident, data, now):
        services.loop_link_send(incident=incident, by=self.request.user, now=now)


# Each action's view; its URL ends with its action's name (recovery/urls.py).
VIEWS: list[type[IncidentAction]] = [
    Acknowledge, StartWork, Resume, Close, Pause, Reopen, Assign, AddNote, LogContact, AddAction, Resolve,
    AskPatient,
]  # fmt: skip
