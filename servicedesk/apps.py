from django.apps import AppConfig


class ServicedeskConfig(AppConfig):
    name = "servicedesk"
    verbose_name = "Servicedesk"

    def ready(self) -> None:
        from servicedesk import (  # noqa: F401  (deploy checks; session start time at login)
            checks,
            personal_data,  # the core's tables on the declared list of personal data
            signals,
        )

        personal_data.register_all()
