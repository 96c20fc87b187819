"""Patient pages, mounted at the site root: /k/<slug>/ (kiosk and QR) and /f/<token>/ (invitation links)."""

from django.urls import path

from feedback.views import answer

app_name = "patient"

urlpatterns = [
    path("k/<slug:slug>/", answer.kiosk, name="kiosk"),
    path("k/<slug:slug>/thanks/", answer.kiosk_thanks, name="kiosk_thanks"),
    path("f/thanks/", answer.invitation_thanks, name="invitation_thanks"),
    path("f/<str:token>/", answer.invitation, name="invitation"),
]
