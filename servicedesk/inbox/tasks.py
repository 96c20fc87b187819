from __future__ import annotations

from django.utils import timezone

from servicedesk.inbox.imap import inbox_read
from servicedesk.sweeps import sweep


@sweep
def read_inbox() -> int:
    """Store the practice mailbox's new emails (nothing when ``INBOX_URL`` is not set)."""
    return inbox_read(now=timezone.now())
