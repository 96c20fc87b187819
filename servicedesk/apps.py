from django.apps import AppConfig


class ServicedeskConfig(AppConfig):
    name = "servicedesk"
    verbose_name = "Servicedesk"

    def ready(self) -> None:
        from servicedesk import signals  # noqa: F401  (session start time at login)
