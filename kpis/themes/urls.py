from django.urls import path

from kpis.themes import views

app_name = "themes"

urlpatterns = [
    path("kpis/themes/", views.themes, name="page"),
    path("kpis/themes/add/", views.theme_add, name="add"),
    path("kpis/themes/<int:pk>/", views.theme_edit, name="edit"),
    path("kpis/themes/<int:pk>/delete/", views.theme_remove, name="delete"),
]
