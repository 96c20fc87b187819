from django.urls import path, re_path

from recovery import views

app_name = "recovery"

INCIDENT = r"^incidents/(?P<reference>INC-\d{4}-\d{4,})/"

urlpatterns = [
    path("incidents/", views.incident_list, name="incident_list"),
    path("incidents/new/", views.incident_log, name="incident_log"),
    re_path(INCIDENT + r"$", views.incident_detail, name="incident_detail"),
    re_path(INCIDENT + r"actions/(?P<pk>\d+)/done/$", views.action_done, name="action_done"),
    re_path(INCIDENT + r"(?P<action>[a-z_]+)/$", views.incident_act, name="incident_act"),
    path("sla/", views.sla_list, name="sla_list"),
    path("sla/<str:severity>/", views.sla_edit, name="sla_edit"),
    path("plans/", views.plan_list, name="plan_list"),
    path("plans/new/", views.plan_edit, name="plan_create"),
    path("plans/<int:pk>/", views.plan_detail, name="plan_detail"),
    path("plans/<int:pk>/edit/", views.plan_edit, name="plan_edit"),
    path("plans/<int:pk>/print/", views.plan_print, name="plan_print"),
    path("plans/<int:pk>/drills/", views.drill_create, name="drill_create"),
    path("r/<str:token>/", views.loop, name="loop"),
]
