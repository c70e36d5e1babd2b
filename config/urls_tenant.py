"""URLs of a workspace (``<slug>.<base domain>``)."""
from csp.decorators import csp_update
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView, SpectacularSwaggerSplitView
from rest_framework.permissions import AllowAny

from ingestion.api.imports import ImportDetailView, ImportListView, ImportRejectedRowsView
from ingestion.api.records import DatasetRecordsView
from kpis.views import dashboard as kpi_dashboard
from surveys.api.results import SurveyResponsesView
from kpis.api.alerts import AlertAcknowledgeView, AlertListView, AlertRuleDetailView, AlertRuleListView
from kpis.staffing.api import StaffingRulesView, StaffingView
from kpis.api.series import KpiDetailView, KpiListView, RecomputeDetailView, RecomputeView
from surveys.api.authoring import SurveyDetailView, SurveyListView
from surveys.api.invitations import SurveyInvitationsView
from tenants import api, views
from tenants.webhooks.api import WebhookDeliveriesView, WebhookDetailView, WebhookListView, WebhookTestView

api_v1 = [
    path("workspace", api.WorkspaceView.as_view(), name="workspace"),
    path("members", api.MemberListView.as_view(), name="members"),
    path("datasets/<str:dataset>/records", DatasetRecordsView.as_view(), name="dataset-records"),
    path("kpis", KpiListView.as_view(), name="kpis"),
    path("kpis/recompute", RecomputeView.as_view(), name="kpi-recompute"),
    path("kpis/recompute/<uuid:pk>", RecomputeDetailView.as_view(), name="kpi-recompute-detail"),
    path("kpis/<str:key>", KpiDetailView.as_view(), name="kpi"),
    path("staffing", StaffingView.as_view(), name="staffing"),
    path("staffing/rules/<str:channel>", StaffingRulesView.as_view(), name="staffing-rules"),
    path("alert-rules", AlertRuleListView.as_view(), name="alert-rules"),
    path("alert-rules/<int:pk>", AlertRuleDetailView.as_view(), name="alert-rule"),
    path("alerts", AlertListView.as_view(), name="alerts"),
    path("alerts/<int:pk>/acknowledge", AlertAcknowledgeView.as_view(), name="alert-acknowledge"),
    path("surveys/<int:pk>/responses", SurveyResponsesView.as_view(), name="survey-responses"),
    path("imports", ImportListView.as_view(), name="imports"),
    path("imports/<uuid:pk>", ImportDetailView.as_view(), name="import"),
    path("imports/<uuid:pk>/rejected.csv", ImportRejectedRowsView.as_view(), name="import-rejected"),
    path("surveys", SurveyListView.as_view(), name="surveys"),
    path("surveys/<int:pk>", SurveyDetailView.as_view(), name="survey"),
    path("surveys/<int:pk>/invitations", SurveyInvitationsView.as_view(), name="survey-invitations"),
    path("webhooks", WebhookListView.as_view(), name="webhooks"),
    path("webhooks/<int:pk>", WebhookDetailView.as_view(), name="webhook"),
    path("webhooks/<int:pk>/deliveries", WebhookDeliveriesView.as_view(), name="webhook-deliveries"),
    path("webhooks/<int:pk>/test", WebhookTestView.as_view(), name="webhook-test"),
    # The API's description is not secret: readable before a key is created.
    path("schema/", SpectacularAPIView.as_view(permission_classes=[AllowAny]), name="schema"),
]

urlpatterns = [
    path("", kpi_dashboard.dashboard, name="dashboard"),
    # Before kpis.urls, whose kpis/<key>/ would take kpis/staffing/ and kpis/themes/.
    path("", include("kpis.staffing.urls")),
    path("", include("kpis.themes.urls")),
    path("", include("kpis.urls")),
    path("healthz", views.healthz, name="healthz"),
    path("", include("tenants.accounts.urls")),
    path("", include("tenants.workspace.urls")),
    path("", include("tenants.webhooks.urls")),
    path("", include("ingestion.urls")),
    path("", include("surveys.urls")),
    path("api/v1/", include((api_v1, "api"))),
    # The split view serves Swagger UI's start-up script as a file of its own
    # (/api/docs/?script=) instead of inline: the Content-Security-Policy allows no inline script.
    path("api/docs/", SpectacularSwaggerSplitView.as_view(url_name="api:schema", permission_classes=[AllowAny]), name="api-docs"),
    # Redoc runs its search in a Web Worker it creates from a blob: URL; nothing else of
    # the app's pages needs workers. Its template is drf-spectacular's without Google Fonts.
    path("api/redoc/", csp_update({"worker-src": ["blob:"]})(SpectacularRedocView.as_view(
        url_name="api:schema", permission_classes=[AllowAny], template_name="api/redoc.html")), name="api-redoc"),
]

handler404 = "tenants.errors.not_found"
handler403 = "tenants.errors.forbidden"
handler500 = "tenants.errors.server_error"
