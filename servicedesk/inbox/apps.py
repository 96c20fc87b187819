from django.apps import AppConfig


class InboxConfig(AppConfig):
    """The practice's mailbox, read over IMAP: each email stored once, for a pillar to act on."""

    name = "servicedesk.inbox"
    label = "inbox"
    verbose_name = "Practice mailbox"

    def ready(self) -> None:
        from servicedesk.inbox import personal_data

        personal_data.register_all()
