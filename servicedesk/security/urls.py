from django.urls import path

from servicedesk.security import views

app_name = "security"

urlpatterns = [
    path("two-factor/", views.two_factor_verify, name="two_factor_verify"),
    path("two-factor/setup/", views.two_factor_setup, name="two_factor_setup"),
    path("audit/", views.AuditLogView.as_view(), name="audit_log"),
]
