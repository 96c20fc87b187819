from __future__ import annotations

from django.utils import timezone

from servicedesk.events import send_on_commit
from servicedesk.inbox.imap import inbox_read
from servicedesk.inbox.models import InboundMail
from servicedesk.inbox.signals import mail_waiting
from servicedesk.sweeps import sweep


@sweep
def read_inbox() -> int:
    """Store the practice mailbox's new emails (nothing when ``INBOX_URL`` is not set), then tell
    the apps that act on them while any are waiting."""
    stored = inbox_read(now=timezone.now())
    if InboundMail.objects.waiting().exists():
        send_on_commit(mail_waiting, "mail_waiting", sender=InboundMail)
    return stored
