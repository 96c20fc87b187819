"""What complaints listens to: the practice's mailbox (``servicedesk.inbox``) has emails waiting."""

from __future__ import annotations

from typing import Any

from complaints.mailbox import complaints_from_mail
from servicedesk.inbox.signals import mail_waiting


def on_mail_waiting(sender: Any, **kwargs: Any) -> None:
    complaints_from_mail()


def connect() -> None:
    mail_waiting.connect(on_mail_waiting, dispatch_uid="complaints.on_mail_waiting")
