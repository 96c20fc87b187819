"""Signals delivery sends to other apps. Delivery never imports its listeners (recovery)."""

from django.dispatch import Signal

# Sent when a *critical* checklist item is recorded as failed (after commit).
# Keyword arguments:
#   result_id: int — delivery.ChecklistResult primary key (the failed item's result)
#   run_id: int    — delivery.ChecklistRun primary key
# Receivers must be idempotent: the signal may be delivered more than once for one result.
check_failed = Signal()
