from django.urls import path

from tenants.webhooks import views

app_name = "webhooks"

urlpatterns = [
    path("settings/webhooks/", views.endpoint_list, name="list"),
    path("settings/webhooks/<int:pk>/", views.endpoint_detail, name="detail"),
    path("settings/webhooks/<int:pk>/delete/", views.endpoint_delete, name="delete"),
    path("settings/webhooks/<int:pk>/rotate-secret/", views.secret_rotate, name="rotate"),
    path("settings/webhooks/<int:pk>/test/", views.ping_send, name="test"),
    path("settings/webhooks/<int:pk>/deliveries/<int:delivery_pk>/redeliver/", views.redeliver, name="redeliver"),
]
