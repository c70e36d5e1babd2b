"""URLs of the public site (the bare base domain): landing, sign-up, health."""
from django.urls import path

from tenants import views

urlpatterns = [
    path("", views.landing, name="landing"),
    path("signup/", views.signup, name="signup"),
    path("healthz", views.healthz, name="healthz"),
]
