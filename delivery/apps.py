from django.apps import AppConfig


class DeliveryConfig(AppConfig):
    name = "delivery"
    verbose_name = "Service delivery"

    def ready(self) -> None:
        from delivery import attachments, contributions, metrics

        attachments.register_all()
        metrics.register_all()
        contributions.register_all()
