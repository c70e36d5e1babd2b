from django.db.models import QuerySet

from tenants.models import Domain, Workspace


def workspace_list() -> QuerySet[Workspace]:
    return Workspace.objects.real().order_by("pk")


def workspace_get_by_slug(*, slug: str) -> Workspace | None:
    return Workspace.objects.real().filter(slug=slug).first()


def workspace_for_host(*, hostname: str) -> Workspace | None:
    domain = Domain.objects.select_related("tenant").filter(domain=hostname).first()
    return domain.tenant if domain else None


def workspace_public() -> Workspace:
    """The public site as a tenant object. It needs no row: routing to the public schema
    only needs its name."""
    return Workspace(schema_name="public", name="Pulse", slug="public")
