from django.urls import path

from kpis.views import alerts, detail, digests, pages, settings

app_name = "kpis"

urlpatterns = [
    path("settings/kpis/", settings.kpi_settings, name="kpi_settings"),
    path("settings/kpis/digest/", digests.digest_settings, name="digest_settings"),
    path("settings/kpis/digest/preview/", digests.digest_preview, name="digest_preview"),
    path("account/digest/", digests.account_digest, name="account_digest"),
    path("digest/unsubscribe/<str:token>/", digests.digest_unsubscribe, name="digest_unsubscribe"),
    path("kpis/recompute/", settings.recompute_now, name="recompute"),
    path("kpis/recompute/<uuid:pk>/", settings.recompute_progress, name="recompute-progress"),
    path("alerts/", alerts.alerts, name="alerts"),
    path("alerts/rules/<int:pk>/mute/", alerts.alert_rule_toggle, name="alert_rule_mute"),
    path("alerts/rules/<int:pk>/delete/", alerts.alert_rule_remove, name="alert_rule_delete"),
    path("alerts/<int:pk>/acknowledge/", alerts.alert_ack, name="alert_ack"),
    path("kpis/support/", pages.support_efficiency, name="support"),
    path("kpis/active-users/", pages.active_users, name="active_users"),
    path("kpis/social/", pages.social, name="social"),
    path("kpis/<str:key>/", detail.kpi_detail, name="kpi"),
    path("kpis/<str:key>/records.csv", detail.kpi_drilldown_csv, name="kpi_records_csv"),
]
