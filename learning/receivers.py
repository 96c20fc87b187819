"""Learning listens to recovery (which never imports it): each incident logged may complete a pattern.

The signal is sent after commit and may arrive twice; detection finds the live pattern of a key
instead of making another. A failure here is logged by the sender and caught up by the sweep.
"""

from __future__ import annotations

from django.utils import timezone

from learning.services import patterns_detect_for_incident
from recovery.signals import incident_opened


def on_incident_opened(sender: object, *, incident_id: int, **kwargs: object) -> None:
    patterns_detect_for_incident(incident_id=incident_id, now=timezone.now())


def connect() -> None:
    incident_opened.connect(on_incident_opened, dispatch_uid="learning.on_incident_opened")
