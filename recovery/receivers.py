"""Recovery listens to feedback and delivery (they never import recovery).

Both signals are sent after commit and may arrive more than once; the services open at most
one incident per response or failed check.
"""

from __future__ import annotations

from django.utils import timezone

from delivery.signals import check_failed
from feedback.signals import response_submitted
from recovery import services


def on_response_submitted(sender, *, response_id: int, is_negative: bool, **kwargs) -> None:
    if is_negative:
        services.incident_open_from_response(response_id=response_id, now=timezone.now())


def on_check_failed(sender, *, result_id: int, run_id: int, **kwargs) -> None:
    services.incident_open_from_check(result_id=result_id, now=timezone.now())


def connect() -> None:
    response_submitted.connect(on_response_submitted, dispatch_uid="recovery.on_response_submitted")
    check_failed.connect(on_check_failed, dispatch_uid="recovery.on_check_failed")
