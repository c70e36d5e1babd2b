import zoneinfo

from django.conf import settings
from django.core.cache import cache
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
        # Every request resolves its host: kept in the shared cache (one Redis GET instead
        # of two PostgreSQL round trips), dropped whenever a workspace or domain changes.
        key = tenant_cache_key(hostname)
        tenant = cache.get(key)
        if tenant is None:
            tenant = super().get_tenant(domain_model, hostname)
            cache.set(key, tenant, TENANT_CACHE_SECONDS)
        return tenant

    def no_tenant_found(self, request, hostname):
        response = render(request, "no_workspace.html", {"hostname": hostname, "public_url": _public_url()}, status=404)
        return response


TENANT_CACHE_SECONDS = 300


def tenant_cache_key(hostname: str) -> str:
    # Read and deleted while the connection is on the public schema (the cache's key
    # function prefixes keys with the current schema).
    return f"tenant-for-host:{hostname}"


def tenant_cache_forget(hostname: str) -> None:
    """After the commit: forgotten earlier, a request in between could cache the old row again."""
    from django.db import transaction
    from django_tenants.utils import schema_context

    def forget():
        with schema_context("public"):
            cache.delete(tenant_cache_key(hostname))

    transaction.on_commit(forget)


def _forget_workspace(sender, instance, **kwargs):
    """Connected in TenantsConfig.ready(): a renamed workspace, a new time zone, a deleted
    workspace or domain are seen by the next request, not after the cache expires."""
    from tenants.models import Domain

    if isinstance(instance, Domain):
        tenant_cache_forget(instance.domain)
        return
    tenant_cache_forget(instance.domain_name)
    if instance.pk:
        for domain in Domain.objects.filter(tenant_id=instance.pk).values_list("domain", flat=True):
            tenant_cache_forget(domain)


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
