from django.urls import path

from design import views

app_name = "design"

urlpatterns = [
    path("goals/", views.goal_list, name="goal_list"),
    path("goals/new/", views.goal_create, name="goal_create"),
    path("goals/<int:pk>/", views.goal_detail, name="goal_detail"),
    path("goals/<int:pk>/edit/", views.goal_update, name="goal_update"),
    path("goals/<int:pk>/retire/", views.goal_retire, name="goal_retire"),
    path("goals/<int:pk>/reactivate/", views.goal_reactivate, name="goal_reactivate"),
    path("goals/<int:pk>/adopt/", views.goal_adopt, name="goal_adopt"),
    path("goals/<int:pk>/adopt-everywhere/", views.goal_adopt_everywhere, name="goal_adopt_everywhere"),
    path("goals/<int:pk>/acknowledge/", views.goal_acknowledge, name="goal_acknowledge"),
    path("metrics/preview/", views.metric_preview, name="metric_preview"),
    path("profiles/", views.profile_list, name="profile_list"),
    path("profiles/new/", views.profile_create, name="profile_create"),
    path("profiles/<int:pk>/", views.profile_detail, name="profile_detail"),
    path("profiles/<int:pk>/edit/", views.profile_update, name="profile_update"),
]
