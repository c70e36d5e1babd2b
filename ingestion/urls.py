from django.urls import path

from ingestion.views import customers as customer_views, data as views, imports as import_views

app_name = "ingestion"

urlpatterns = [
    path("data/", views.dataset_list, name="datasets"),
    path("data/import/", import_views.import_upload, name="import-upload"),
    path("data/imports/", import_views.import_history, name="imports"),
    path("data/imports/<uuid:pk>/", import_views.import_detail, name="import"),
    path("data/imports/<uuid:pk>/progress", import_views.import_progress, name="import-progress"),
    path("data/imports/<uuid:pk>/rejected.csv", import_views.import_rejected_csv, name="import-rejected"),
    path("data/<str:key>/", views.dataset_detail, name="dataset"),
    path("data/<str:key>/sample.csv", views.dataset_sample, name="sample"),
    path("data/<str:key>/records/", views.record_list, name="records"),
    path("data/<str:key>/records/<int:pk>/", views.record_detail, name="record"),
    path("customers/", customer_views.customer_search, name="customers"),
    # External ids are the sender's: they may hold "/", spaces or any character, so the
    # path converter (anything, "/" included). reverse() percent-encodes the id in links
    # and the resolver receives it decoded.
    path("customers/<path:external_id>/", customer_views.customer_detail, name="customer"),
]
