from django.urls import path

from dashboard import views
from dashboard.comparison import views as comparison

urlpatterns = [
    path("dashboard/", views.dashboard, name="dashboard"),
    path("dashboard/export.csv", views.dashboard_export, name="dashboard_export"),
    path("dashboard/report/", views.dashboard_report, name="dashboard_report"),
    path("dashboard/sites/", comparison.compare_sites, name="dashboard_compare"),
    path("my-work/", views.my_work, name="my_work"),
]
