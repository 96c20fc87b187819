from django.urls import path

from servicedesk.attachments import views

urlpatterns = [
    path("attachments/<int:pk>/", views.attachment_file, name="attachment_file"),
    path(
        "attachments/<int:pk>/display/",
        views.attachment_file,
        {"variant": "display"},
        name="attachment_display",
    ),
    path(
        "attachments/<int:pk>/thumbnail/",
        views.attachment_file,
        {"variant": "thumbnail"},
        name="attachment_thumbnail",
    ),
]
