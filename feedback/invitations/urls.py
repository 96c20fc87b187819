"""Managers' invitation pages, under /feedback/invitations/.

The patient's opt-out and the API are in root_urls.py (their addresses are public contracts).
"""

from django.urls import path

from feedback.invitations import views

app_name = "invitations"

urlpatterns = [
    path("", views.InvitationListView.as_view(), name="invitation_list"),
    path("import/", views.VisitListUploadView.as_view(), name="invitation_import_upload"),
    path("import/<int:pk>/", views.import_detail, name="invitation_import_detail"),
    path("import/<int:pk>/progress/", views.import_progress, name="invitation_import_progress"),
    path("import/<int:pk>/confirm/", views.import_confirm, name="invitation_import_confirm"),
    path("import/<int:pk>/discard/", views.import_discard, name="invitation_import_discard"),
    path("rules/", views.InvitationRulesView.as_view(), name="invitation_rules"),
    path("integrations/", views.integration_list, name="integration_list"),
    path("integrations/<int:pk>/revoke/", views.integration_revoke, name="integration_revoke"),
    path("response-rates/", views.invitation_report, name="invitation_report"),
    path("patient-data/", views.contact_requests, name="contact_requests"),
    path("patient-data/export/", views.contact_export, name="contact_export"),
    path("patient-data/erase/", views.contact_erase, name="contact_erase"),
]
