from django.apps import AppConfig


class DesignConfig(AppConfig):
    name = "design"
    verbose_name = "Service design"

    def ready(self) -> None:
        from design import metrics

        metrics.register_all()
