"""Signals recovery sends to the apps above it. Recovery never imports its listeners (learning)."""

from django.dispatch import Signal

# Sent when an incident is logged (after commit), by whatever opened it: staff, feedback, a check.
# Keyword arguments:
#   incident_id: int — recovery.Incident primary key
# Receivers must be idempotent: the signal may be delivered more than once for one incident.
incident_opened = Signal()
