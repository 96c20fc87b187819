from django.apps import AppConfig


class ServicedeskConfig(AppConfig):
    name = "servicedesk"
    verbose_name = "Servicedesk"

    def ready(self) -> None:
        from servicedesk import checks, signals  # noqa: F401  (deploy checks; session start time at login)
