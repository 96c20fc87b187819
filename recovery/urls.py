from django.urls import path

from recovery import actions, sla_views, views

app_name = "recovery"

urlpatterns = [
    path("incidents/", views.incident_list, name="incident_list"),
    path("incidents/new/", views.incident_log, name="incident_log"),
    path("incidents/<str:reference>/", views.incident_detail, name="incident_detail"),
    path("incidents/<str:reference>/actions/<int:pk>/done/", views.action_done, name="action_done"),
    # One named view per thing staff do to an incident: /incidents/INC-2026-0042/acknowledge/ …
    *(
        path(f"incidents/<str:reference>/{view.action}/", view.as_view(), name=f"incident_{view.action}")
        for view in actions.VIEWS
    ),
    path("sla/", sla_views.sla_list, name="sla_list"),
    path("sla/<str:severity>/", sla_views.sla_edit, name="sla_edit"),
    path("sla/sites/<int:location_id>/<str:severity>/", sla_views.sla_site_edit, name="sla_site_edit"),
    path(
        "sla/sites/<int:location_id>/<str:severity>/remove/",
        sla_views.sla_site_remove,
        name="sla_site_remove",
    ),
    path("plans/", views.plan_list, name="plan_list"),
    path("plans/new/", views.plan_edit, name="plan_create"),
    path("plans/<int:pk>/", views.plan_detail, name="plan_detail"),
    path("plans/<int:pk>/edit/", views.plan_edit, name="plan_edit"),
    path("plans/<int:pk>/print/", views.plan_print, name="plan_print"),
    path("plans/<int:pk>/drills/", views.drill_create, name="drill_create"),
    path("r/<str:token>/", views.loop, name="put_right"),
]
