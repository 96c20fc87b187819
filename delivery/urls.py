from django.urls import path

from delivery import adoption_views, views

app_name = "delivery"

urlpatterns = [
    path("", views.overview, name="overview"),
    # Runs: the page staff complete on a phone.
    path("runs/<int:pk>/", views.run_detail, name="run_detail"),
    path("runs/<int:pk>/items/<int:item_pk>/", views.run_record, name="run_record"),
    path("runs/<int:pk>/complete/", views.run_complete, name="run_complete"),
    # Checklist design (managers).
    path("templates/new/", views.TemplateCreateView.as_view(), name="template_create"),
    path("templates/<int:pk>/", views.template_detail, name="template_detail"),
    path("templates/<int:pk>/edit/", views.TemplateUpdateView.as_view(), name="template_update"),
    path("templates/<int:pk>/preview/", views.template_preview, name="template_preview"),
    path("templates/<int:pk>/start/", adoption_views.template_start, name="template_start"),
    # A group checklist adopted by sites (a site manager at their sites, the group's managers at all).
    path("templates/<int:pk>/adopt/", adoption_views.template_adopt, name="template_adopt"),
    path(
        "templates/<int:pk>/adopt-everywhere/",
        adoption_views.template_adopt_everywhere,
        name="template_adopt_everywhere",
    ),
    path("templates/<int:pk>/items/new/", views.item_create, name="item_create"),
    path("items/<int:pk>/edit/", views.ItemUpdateView.as_view(), name="item_update"),
    path("items/<int:pk>/move/", views.item_move, name="item_move"),
    path("items/<int:pk>/remove/", views.item_remove, name="item_remove"),
    # Place, people, process.
    path("touchpoints/", views.touchpoint_list, name="touchpoint_list"),
    path("touchpoints/<int:pk>/", views.touchpoint_history, name="touchpoint_history"),
    path("training/", views.training_overview, name="training"),
    path("protocols/", views.protocol_list, name="protocol_list"),
    path("protocols/new/", views.ProtocolCreateView.as_view(), name="protocol_create"),
    path("protocols/<int:pk>/", views.protocol_detail, name="protocol_detail"),
    path("protocols/<int:pk>/edit/", views.ProtocolUpdateView.as_view(), name="protocol_update"),
    path("protocols/<int:pk>/versions/<int:number>/", views.protocol_detail, name="protocol_version"),
]
