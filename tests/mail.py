"""A mail server that refuses some recipients, as a real one does for a full or unknown mailbox."""

from __future__ import annotations

from smtplib import SMTPRecipientsRefused

from django.core.mail.backends.locmem import EmailBackend


class RefusingEmailBackend(EmailBackend):
    """Django's in-memory backend, refusing every address in ``refused`` (set by the fixture)."""

    refused: set[str] = set()

    def send_messages(self, messages):
        for message in messages:
            bad = [to for to in message.to if to in self.refused]
            if bad:
                raise SMTPRecipientsRefused(dict.fromkeys(bad, (550, b"mailbox unavailable")))
        return super().send_messages(messages)
