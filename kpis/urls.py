from django.urls import path

from kpis import views

app_name = "kpis"

urlpatterns = [
    path("settings/kpis/", views.kpi_settings, name="kpi_settings"),
    path("kpis/recompute/", views.recompute_now, name="recompute"),
    path("kpis/recompute/<uuid:pk>/", views.recompute_progress, name="recompute-progress"),
    path("kpis/support/", views.support_efficiency, name="support"),
    path("kpis/active-users/", views.active_users, name="active_users"),
    path("kpis/social/", views.social, name="social"),
    path("kpis/<str:key>/", views.kpi_detail, name="kpi"),
    path("kpis/<str:key>/records.csv", views.kpi_drilldown_csv, name="kpi_records_csv"),
]
