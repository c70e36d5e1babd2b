import zoneinfo

from django.conf import settings
from django.db import connection
from django.shortcuts import render
from django.utils import timezone
from django_tenants.middleware.main import TenantMainMiddleware

from tenants.selectors import workspace_public


class WorkspaceMiddleware(TenantMainMiddleware):
    """Routes ``<slug>.<base domain>`` to the workspace's schema and the bare base domain
    (or an IP address, as load balancers call /healthz) to the public site. Any other host
    gets a friendly 404 that names no workspace."""

    def get_tenant(self, domain_model, hostname):
        if hostname == settings.PULSE_BASE_DOMAIN or hostname.replace(".", "").isdigit():
            return workspace_public()
        return super().get_tenant(domain_model, hostname)

    def no_tenant_found(self, request, hostname):
        response = render(request, "no_workspace.html", {"hostname": hostname, "public_url": _public_url()}, status=404)
        return response


def _public_url() -> str:
    port = f":{settings.PULSE_PORT}" if settings.PULSE_PORT else ""
    return f"{settings.PULSE_SCHEME}://{settings.PULSE_BASE_DOMAIN}{port}/"


class WorkspaceTimezoneMiddleware:
    """Dates and times on a workspace's pages are shown in the workspace's time zone."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        tenant = getattr(connection, "tenant", None)
        tz_name = getattr(tenant, "time_zone", None)
        if tz_name:
            timezone.activate(zoneinfo.ZoneInfo(tz_name))
        try:
            return self.get_response(request)
        finally:
            timezone.deactivate()
