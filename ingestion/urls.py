from django.urls import path

from ingestion import views

app_name = "ingestion"

urlpatterns = [
    path("data/", views.dataset_list, name="datasets"),
    path("data/<str:key>/", views.dataset_detail, name="dataset"),
    path("data/<str:key>/records/", views.record_list, name="records"),
    path("data/<str:key>/records/<int:pk>/", views.record_detail, name="record"),
]
