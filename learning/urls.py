from django.urls import path

from learning import views

app_name = "learning"
urlpatterns = [
    path("patterns/", views.pattern_list, name="pattern_list"),
    path("patterns/<int:pk>/", views.pattern_detail, name="pattern_detail"),
    path("patterns/<int:pk>/changes/new/", views.change_create, name="change_create"),
    path("patterns/<int:pk>/close/", views.pattern_close, name="pattern_close"),
    path("changes/<int:pk>/edit/", views.change_update, name="change_update"),
    path("rules/", views.rules_edit, name="rules"),
]
