from django.urls import path

from kpis import views

app_name = "kpis"

urlpatterns = [
    path("kpis/<str:key>/", views.kpi_detail, name="kpi"),
]
