from django.apps import AppConfig


class DesignConfig(AppConfig):
    name = "design"
    verbose_name = "Service design"

    def ready(self) -> None:
        from design import attainment, metrics

        metrics.register_all()
        attainment.register_all()
