from django.apps import AppConfig


class DesignConfig(AppConfig):
    name = "design"
    verbose_name = "Service design"

    def ready(self) -> None:
        from design.metrics import METRICS
        from servicedesk import metrics

        for metric in METRICS:
            metrics.register(metric)
