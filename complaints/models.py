"""A formal complaint rides on an incident: the incident carries what happened, the patient's
contact details (with their consent), the assignee, the timeline and the SLA; the complaint adds
what the complaints regulations ask for — how and when it was received, the statutory clocks in
working days, the agreed response date and its extensions, and the outcome a KO41b return counts.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from complaints.vocabulary import ContactPreference, Outcome, ReceivedBy, SubjectArea
from recovery.models import Incident
from servicedesk.models import TimeStamped


class ComplaintQuerySet(models.QuerySet):
    def visible_to(self, user: Any) -> ComplaintQuerySet:
        """Need to know goes through the incident: a complaint is seen by whoever sees its incident."""
        return self.filter(incident__in=Incident.objects.visible_to(user).values("pk"))

    def open(self) -> ComplaintQuerySet:
        """Not yet answered (or withdrawn)."""
        return self.filter(responded_at__isnull=True)

    def acknowledgement_overdue(self, today: date) -> ComplaintQuerySet:
        """Not acknowledged and past its acknowledgement day (due on Wednesday: overdue on Thursday)."""
        return self.filter(acknowledged_at__isnull=True, acknowledge_by__lt=today)

    def response_overdue(self, today: date) -> ComplaintQuerySet:
        return self.open().filter(response_due_on__lt=today)

    def for_list(self) -> ComplaintQuerySet:
        return self.select_related("incident", "incident__assignee")


class Complaint(TimeStamped):
    """One formal complaint. Its dates are the practice's local dates (``servicedesk.working_days``)."""

    incident = models.OneToOneField(Incident, on_delete=models.CASCADE, related_name="complaint")
    received_by = models.CharField(_("received by"), max_length=10, choices=ReceivedBy)
    received_on = models.DateField(_("received on"))
    subject_area = models.CharField(_("subject area"), max_length=20, choices=SubjectArea)
    contact_preference = models.CharField(
        _("how they want to hear from us"), max_length=10, choices=ContactPreference, blank=True
    )
    # For a reply by letter: the incident holds name, phone and email; a letter needs an address.
    patient_address = models.TextField(_("patient's postal address"), blank=True)
    language = models.CharField(_("language"), max_length=5, default="en")
    acknowledge_by = models.DateField(_("acknowledge by"))
    acknowledged_at = models.DateTimeField(_("acknowledged at"), null=True, blank=True)
    response_due_on = models.DateField(_("response due on"), null=True, blank=True)
    response_agreed_at = models.DateTimeField(null=True, blank=True)
    responded_at = models.DateTimeField(_("final response sent at"), null=True, blank=True)
    outcome = models.CharField(_("outcome"), max_length=20, choices=Outcome, blank=True)
    response_summary = models.TextField(_("what we told the patient"), blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    objects = ComplaintQuerySet.as_manager()

    class Meta:
        ordering = ["-received_on", "-pk"]
        indexes = [
            # The list's default (open complaints, newest first) and the "acknowledgement overdue"
            # filter and dashboard count: open rows only.
            models.Index(
                fields=["acknowledge_by"],
                name="complaint_ack_due_idx",
                condition=Q(acknowledged_at__isnull=True),
            ),
            models.Index(
                fields=["response_due_on"],
                name="complaint_response_due_idx",
                condition=Q(responded_at__isnull=True),
            ),
            # The list ordered by received date, and a KO41b return over a year's complaints.
            models.Index(fields=["received_on", "subject_area", "outcome"], name="complaint_return_idx"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(responded_at__isnull=True, outcome="")
                | (Q(responded_at__isnull=False) & ~Q(outcome="")),
                name="complaint_outcome_with_response",
                violation_error_message=_("An outcome is recorded with the final response, and only then."),
            ),
            models.CheckConstraint(
                condition=Q(acknowledge_by__gte=models.F("received_on")),
                name="complaint_acknowledged_after_received",
            ),
        ]

    def __str__(self) -> str:
        return f"complaint {self.incident.reference}"

    @property
    def reference(self) -> str:
        return self.incident.reference

    def acknowledgement_overdue(self, today: date) -> bool:
        return self.acknowledged_at is None and self.acknowledge_by < today

    def response_overdue(self, today: date) -> bool:
        return self.responded_at is None and self.response_due_on is not None and self.response_due_on < today


class ComplaintExtension(models.Model):
    """The agreed response date moved, with the patient's agreement and a reason: one row each time."""

    complaint = models.ForeignKey(Complaint, on_delete=models.CASCADE, related_name="extensions")
    previous_date = models.DateField(_("was due on"))
    new_date = models.DateField(_("now due on"))
    reason = models.TextField(_("reason"))
    by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+")
    at = models.DateTimeField(_("when"))

    class Meta:
        ordering = ["at", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(new_date__gt=models.F("previous_date")),
                name="complaintextension_moves_later",
                violation_error_message=_("An extension moves the date later."),
            ),
        ]

    def __str__(self) -> str:
        return f"extension to {self.new_date}"


class LetterTemplate(TimeStamped):
    """The words of a letter to a complainant, one per kind and language, which managers edit.

    Placeholders are written ``$name`` (``complaints.letters.PLACEHOLDERS`` lists them): plain
    substitution, never template code, so whatever a manager types cannot reach anything else.
    """

    class Kind(models.TextChoices):
        ACKNOWLEDGEMENT = "acknowledgement", _("Acknowledgement")
        FINAL_RESPONSE = "final_response", _("Final response")

    kind = models.CharField(_("letter"), max_length=20, choices=Kind)
    language = models.CharField(_("language"), max_length=5)
    subject = models.CharField(_("email subject"), max_length=200)
    body = models.TextField(_("letter"), max_length=6000)

    class Meta:
        ordering = ["kind", "language"]
        constraints = [
            models.UniqueConstraint(
                fields=["kind", "language"], name="one_letter_template_per_kind_language"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} ({self.language})"
