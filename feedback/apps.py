from django.apps import AppConfig


class FeedbackConfig(AppConfig):
    name = "feedback"
    verbose_name = "Feedback"

    def ready(self) -> None:
        from feedback import metrics, personal_data
        from feedback.invitations.metrics import register_invitation_metrics

        metrics.register_all()
        register_invitation_metrics()
        personal_data.register_all()
