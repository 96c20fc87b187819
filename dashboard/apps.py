from django.apps import AppConfig


class DashboardConfig(AppConfig):
    """The top layer: composes what every pillar contributes; no pillar imports it."""

    name = "dashboard"
    verbose_name = "Dashboard"

    def ready(self) -> None:
        from dashboard import receivers

        receivers.connect()
