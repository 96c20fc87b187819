from django.apps import AppConfig


class LearningConfig(AppConfig):
    """Above the pillars, below the dashboard: recurring incidents, the changes made, their effect."""

    name = "learning"
    verbose_name = "Learning"

    def ready(self) -> None:
        from learning import contributions, receivers

        receivers.connect()
        contributions.register_all()
