from django.apps import AppConfig


class AttachmentsConfig(AppConfig):
    """Photos and files attached to the pillars' records, kept in private storage."""

    name = "servicedesk.attachments"
    label = "attachments"
    verbose_name = "Photos and attachments"
