from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from servicedesk import views
from servicedesk.forms import PasswordLinkRequestForm

handler403 = "servicedesk.views.permission_denied"
handler404 = "servicedesk.views.page_not_found"
handler500 = "servicedesk.views.server_error"

urlpatterns = [
    path("", views.home, name="home"),
    # The dashboard app: /dashboard/, its export and report, and "My work".
    path("", include("dashboard.urls")),
    path("healthz", views.healthz, name="healthz"),
    # Accounts: login, logout, password change and reset, in the house layout.
    path(
        "accounts/password_reset/",
        auth_views.PasswordResetView.as_view(form_class=PasswordLinkRequestForm),
        name="password_reset",
    ),
    path("accounts/", include("django.contrib.auth.urls")),
    # Team and shared vocabulary (managers).
    path("team/", views.TeamListView.as_view(), name="team_list"),
    path("team/new/", views.StaffMemberCreateView.as_view(), name="staff_member_create"),
    path("team/<int:pk>/edit/", views.StaffMemberUpdateView.as_view(), name="staff_member_update"),
    path(
        "team/<int:pk>/password-link/",
        views.staff_member_send_password_link,
        name="staff_member_send_password_link",
    ),
    path("team/need-to-know/", views.practice_settings, name="practice_settings"),
    path("messages/failed/", views.FailedMessageListView.as_view(), name="outbox_failed"),
    path("messages/<int:pk>/send-again/", views.outbox_send_again, name="outbox_send_again"),
    # Twilio's delivery receipts (the StatusCallback of each text sent): public, signature-checked.
    path("sms/receipts/twilio/", views.sms_receipt, name="sms_receipt"),
    path("opening-hours/", views.opening_hours, name="opening_hours"),
    path("practice/identity/", views.practice_identity, name="practice_identity"),
    path("practice/logo/<str:digest>.png", views.practice_logo, name="practice_logo"),
    path("practice/theme/<str:version>.css", views.practice_theme, name="practice_theme"),
    path("opening-hours/closed/", views.closed_day_add, name="closed_day_add"),
    path("opening-hours/calendar/", views.practice_calendar, name="practice_calendar"),
    path("opening-hours/closed/<int:pk>/remove/", views.closed_day_remove, name="closed_day_remove"),
    path("locations/", views.LocationListView.as_view(), name="location_list"),
    path("locations/new/", views.LocationCreateView.as_view(), name="location_create"),
    path("locations/<int:pk>/edit/", views.LocationUpdateView.as_view(), name="location_update"),
    path("touchpoints/", views.TouchpointListView.as_view(), name="touchpoint_list"),
    path("touchpoints/new/", views.TouchpointCreateView.as_view(), name="touchpoint_create"),
    path("touchpoints/<int:pk>/edit/", views.TouchpointUpdateView.as_view(), name="touchpoint_update"),
    path("locations/<int:pk>/active/", views.set_active, {"kind": "locations"}, name="location_set_active"),
    path(
        "touchpoints/<int:pk>/active/",
        views.set_active,
        {"kind": "touchpoints"},
        name="touchpoint_set_active",
    ),
    path("security/", include("servicedesk.security.urls")),
    path("", include("servicedesk.attachments.urls")),
    path("recovery/", include("recovery.urls")),
    path("complaints/", include("complaints.urls")),
    path("delivery/", include("delivery.urls")),
    path("design/", include("design.urls")),
    path("learning/", include("learning.urls")),
    # Survey invitations: managers' pages, the practice-management system's API, the patient's opt-out
    # (more specific than the survey form at /f/<token>/, so it comes first).
    path("feedback/invitations/", include("feedback.invitations.urls")),
    path("", include("feedback.invitations.root_urls")),  # /api/visits/ and /f/<token>/opt-out/
    path("admin/", admin.site.urls),
    path("feedback/", include("feedback.urls")),
    # Patient feedback pages at the root, as printed on posters and sent in messages: /k/<slug>/, /f/<token>/.
    path("", include("feedback.patient_urls")),
]
