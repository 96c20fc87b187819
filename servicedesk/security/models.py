from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone


class AuditEvent(models.Model):
    """The one audit log: every change a manager makes to how the practice is set up, and every
    view, export or erasure of patient-identifying data. Who, when, what object, what changed.

    It names the object (type, id and a label such as "SLA policy “High”"), never a patient's
    details or words: the log holds no patient data, so it can be kept longer than the data it
    describes and shown to any manager. ``data`` holds what changed in configuration
    (field → [before, after]). Rows are only ever added (``servicedesk.audit.log_action``).
    """

    class Action(models.TextChoices):
        """A short key, and the verb a manager reads in the log's sentences."""

        VIEWED = "viewed", "viewed"
        CREATED = "created", "added"
        CHANGED = "changed", "changed"
        REMOVED = "removed", "removed"
        MOVED = "moved", "moved"
        ENABLED = "enabled", "switched on"
        DISABLED = "disabled", "switched off"
        RESENT = "resent", "sent a new set-password link to"
        EXPORTED = "exported", "exported"
        ERASED = "erased", "erased"

    class Outcome(models.TextChoices):
        SUCCESS = "success", "Done"
        DENIED = "denied", "Refused"
        FAILED = "failed", "Failed"

    at = models.DateTimeField(default=timezone.now)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # The username at the time: the record stays readable if the account is later removed.
    actor_label = models.CharField(max_length=150, blank=True)
    action = models.CharField(max_length=10, choices=Action)
    outcome = models.CharField(max_length=10, choices=Outcome, default=Outcome.SUCCESS)
    # app_label.model of the object, e.g. "feedback.invitation"
    target_type = models.CharField(max_length=100)
    target_id = models.CharField(max_length=64, blank=True)
    # The object as a manager reads it, with its article: "the SLA policy “High”"; never patient data.
    target_label = models.CharField(max_length=200, blank=True)
    # How many records an export or erasure covered; the records themselves are not named.
    count = models.PositiveIntegerField(null=True, blank=True)
    # For configuration changes: {"field": [before, after]} as text, and similar small facts.
    data = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["-at", "-pk"]
        indexes = [
            # "Everything that was done to this contact": answering an access or erasure request.
            models.Index(fields=["target_type", "target_id"], name="audit_target_idx"),
            # The audit log page, newest first, and its "done by" filter.
            models.Index(fields=["-at"], name="audit_at_idx"),
            models.Index(fields=["actor", "-at"], name="audit_actor_at_idx"),
            # The audit page's "about" filter (a kind of record), newest first.
            models.Index(fields=["target_type", "-at"], name="audit_kind_at_idx"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(
                    action__in=[
                        "viewed",
                        "created",
                        "changed",
                        "removed",
                        "moved",
                        "enabled",
                        "disabled",
                        "resent",
                        "exported",
                        "erased",
                    ]
                ),
                name="audit_action_valid",
                violation_error_message="Unknown audit action.",
            ),
            models.CheckConstraint(
                condition=models.Q(outcome__in=["success", "denied", "failed"]),
                name="audit_outcome_valid",
                violation_error_message="Unknown audit outcome.",
            ),
        ]

    def __str__(self) -> str:
        who = self.actor_label or "system"
        target = f"{self.target_type} #{self.target_id}" if self.target_id else self.target_type
        return f"{self.at:%Y-%m-%d %H:%M} {who} {self.action} {target} ({self.outcome})"
