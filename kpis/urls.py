from django.urls import path

from kpis.views import detail, pages, settings

app_name = "kpis"

urlpatterns = [
    path("settings/kpis/", settings.kpi_settings, name="kpi_settings"),
    path("kpis/recompute/", settings.recompute_now, name="recompute"),
    path("kpis/recompute/<uuid:pk>/", settings.recompute_progress, name="recompute-progress"),
    path("kpis/support/", pages.support_efficiency, name="support"),
    path("kpis/active-users/", pages.active_users, name="active_users"),
    path("kpis/social/", pages.social, name="social"),
    path("kpis/<str:key>/", detail.kpi_detail, name="kpi"),
    path("kpis/<str:key>/records.csv", detail.kpi_drilldown_csv, name="kpi_records_csv"),
]
