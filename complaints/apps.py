from django.apps import AppConfig


class ComplaintsConfig(AppConfig):
    name = "complaints"
    verbose_name = "Formal complaints"

    def ready(self) -> None:
        from complaints import contributions, personal_data, receivers

        personal_data.register_all()
        contributions.register_all()
        receivers.connect()
