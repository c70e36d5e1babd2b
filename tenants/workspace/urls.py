from django.urls import path

from tenants.workspace import views

app_name = "workspace"

urlpatterns = [
    path("settings/", views.workspace_settings, name="settings"),
    path("settings/holidays/<int:pk>/delete/", views.holiday_delete, name="holiday_delete"),
]
