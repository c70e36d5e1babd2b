"""Workspaces (tenants) and their host names. These tables live in the public schema."""
import zoneinfo

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import connection, models
from django_tenants.models import DomainMixin, TenantMixin

TEMPLATE_SCHEMA = settings.TENANT_BASE_SCHEMA


class WorkspaceQuerySet(models.QuerySet):
    def real(self):
        """Workspaces people use: not the public tenant, not the migration template."""
        return self.exclude(schema_name__in=["public", TEMPLATE_SCHEMA])


# The IANA zones a workspace may use (zoneinfo's own list, minus its aliases for "here").
TIME_ZONE_SET = frozenset(zoneinfo.available_timezones() - {"localtime", "Factory"})
TIME_ZONES = sorted(TIME_ZONE_SET)


def validate_time_zone(value: str) -> None:
    if value not in TIME_ZONE_SET:
        raise ValidationError(f"'{value}' is not a known time zone (use an IANA name such as Europe/Paris).")


class Workspace(TenantMixin):
    """One company. Its data lives in the PostgreSQL schema ``schema_name``."""

    name = models.CharField(max_length=120)
    slug = models.SlugField(max_length=40, unique=True)
    time_zone = models.CharField(max_length=64, default="UTC", validators=[validate_time_zone])
    currency = models.CharField(max_length=3, default="USD")
    created_at = models.DateTimeField(auto_now_add=True)

    auto_create_schema = True
    auto_drop_schema = True
    # The template holds no rows but django_migrations and content types; copying them is
    # what lets the clone skip running migrations.
    clone_mode = "DATA"

    objects = WorkspaceQuerySet.as_manager()

    class Meta:
        ordering = ["name"]

    def __str__(self):
        return self.name

    def create_schema(self, check_if_exists=False, sync_schema=True, verbosity=1):
        """Clone the template with ``schema_copy`` (flat cost however many workspaces
        exist); the template itself, and templates holding objects the copy does not
        reproduce, go through django-tenants."""
        from django_tenants.utils import schema_exists

        from tenants import schema_clone

        if (
            self.schema_name == TEMPLATE_SCHEMA
            or not sync_schema
            or not schema_exists(TEMPLATE_SCHEMA)
            or not schema_clone.template_is_plain(TEMPLATE_SCHEMA)
        ):
            return super().create_schema(check_if_exists=check_if_exists, sync_schema=sync_schema, verbosity=verbosity)
        if check_if_exists and schema_exists(self.schema_name):
            return False
        schema_clone.schema_copy(TEMPLATE_SCHEMA, self.schema_name)
        connection.set_schema_to_public()
        return True

    @property
    def domain_name(self) -> str:
        return f"{self.slug}.{settings.PULSE_BASE_DOMAIN}"

    @property
    def url(self) -> str:
        """The workspace's address as people type it (scheme, host, port)."""
        port = f":{settings.PULSE_PORT}" if settings.PULSE_PORT else ""
        return f"{settings.PULSE_SCHEME}://{self.domain_name}{port}"


class Domain(DomainMixin):
    """A host name that routes to a workspace (``acme.localhost``)."""
