from django.urls import path

from kpis.staffing import views

app_name = "staffing"

urlpatterns = [
    path("kpis/staffing/", views.staffing, name="page"),
    path("kpis/staffing/rules/", views.staffing_rules_save, name="rules"),
]
