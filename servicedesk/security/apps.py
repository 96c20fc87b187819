from django.apps import AppConfig


class SecurityConfig(AppConfig):
    """Cross-cutting protection: audit log, two-factor for managers, rate limits, CSP."""

    name = "servicedesk.security"
    label = "security"
    verbose_name = "Security"
