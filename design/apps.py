from django.apps import AppConfig


class DesignConfig(AppConfig):
    name = "design"
    verbose_name = "Service design"

    def ready(self) -> None:
        from design import contributions, metrics

        metrics.register_all()
        contributions.register_all()
