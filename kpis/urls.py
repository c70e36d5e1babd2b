from django.urls import path

from kpis import views

app_name = "kpis"

urlpatterns = [
    path("settings/kpis/", views.kpi_settings, name="kpi_settings"),
    path("kpis/recompute/", views.recompute_now, name="recompute"),
    path("kpis/recompute/<uuid:pk>/", views.recompute_progress, name="recompute-progress"),
    path("kpis/<str:key>/", views.kpi_detail, name="kpi"),
]
