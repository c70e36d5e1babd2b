from django.contrib.auth import views as auth_views
from django.urls import path

from tenants.accounts import views

app_name = "accounts"

urlpatterns = [
    path("sign-in/", views.SignInView.as_view(), name="login"),
    path("sign-out/", views.sign_out, name="logout"),
    path("auth/handoff/", views.handoff, name="handoff"),
    path("password/forgot/", views.password_reset, name="password_reset"),
    path("password/forgot/sent/", auth_views.PasswordResetDoneView.as_view(template_name="accounts/password_reset_done.html"),
         name="password_reset_done"),
    path("password/reset/<uidb64>/<token>/", views.PasswordResetConfirmView.as_view(), name="password_reset_confirm"),
    path("account/password/", views.password_change, name="password_change"),
    path("settings/team/", views.team, name="team"),
    path("settings/team/<int:pk>/role/", views.member_role, name="member_role"),
    path("settings/team/<int:pk>/active/", views.member_active, name="member_active"),
    path("settings/team/invitations/<int:pk>/revoke/", views.invitation_revoke, name="invitation_revoke"),
    path("invitations/<str:token>/", views.invitation_accept, name="invitation_accept"),
    path("settings/api-keys/", views.api_keys, name="api_keys"),
    path("settings/api-keys/<int:pk>/revoke/", views.api_key_revoke, name="api_key_revoke"),
]
