from django.apps import AppConfig


class RecoveryConfig(AppConfig):
    name = "recovery"
    verbose_name = "Service recovery"

    def ready(self) -> None:
        from recovery import attachments, contributions, metrics, personal_data, receivers

        attachments.register_all()
        metrics.register_all()
        personal_data.register_all()
        contributions.register_all()
        receivers.connect()
