from django.urls import path

from ingestion import views

app_name = "ingestion"

urlpatterns = [
    path("data/", views.dataset_list, name="datasets"),
    path("data/<str:key>/", views.dataset_detail, name="dataset"),
]
