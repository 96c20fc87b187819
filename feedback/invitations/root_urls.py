"""Invitation addresses at the site's root: the practice system's API and the patient's opt-out.

They are public contracts (printed in messages, configured in practice systems), so they keep
their paths; the project's URLconf includes this module by name.
"""

from django.urls import path

from feedback.invitations import views

urlpatterns = [
    path("api/visits/", views.api_visits, name="api_visits"),
    # More specific than the survey form at /f/<token>/, so the project URLconf includes it first.
    path("f/<str:token>/opt-out/", views.opt_out, name="invitation_opt_out"),
]
