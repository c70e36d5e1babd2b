"""Writes to workspaces. Creating a workspace is one transaction: the schema (cloned from
the template), its domain, its team lead and its default calendar appear together or not
at all (PostgreSQL DDL is transactional)."""
import re
from dataclasses import dataclass

from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, connection, transaction
from django_tenants.utils import tenant_context

from tenants.models import TEMPLATE_SCHEMA, TIME_ZONE_SET, Domain, Workspace

SLUG_RE = re.compile(r"^[a-z][a-z0-9]*(?:-[a-z0-9]+)*$")
SLUG_MIN, SLUG_MAX = 3, 40
RESERVED_SLUGS = frozenset(
    "www api app admin public static media mail smtp imap pop help support status docs blog "
    "auth login signup healthz template pulse localhost assets cdn dev test staging".split()
)
# ISO 4217 codes offered in forms; the API accepts these too.
CURRENCIES = (
    "USD EUR GBP JPY CHF CAD AUD NZD SEK NOK DKK PLN CZK HUF RON BGN TRY ILS AED SAR INR "
    "CNY HKD SGD KRW TWD THB MYR IDR PHP VND ZAR NGN KES EGP MAD BRL MXN ARS CLP COP PEN UAH"
).split()
# available_timezones() walks the tz database on disk: read it once.
DEFAULT_OPENING_HOURS = [(weekday, "09:00", "17:00") for weekday in range(1, 6)]


@dataclass(frozen=True)
class NewWorkspace:
    workspace: Workspace
    team_lead: object


def slug_validate(slug: str) -> str:
    slug = (slug or "").strip().lower()
    if not SLUG_MIN <= len(slug) <= SLUG_MAX or not SLUG_RE.match(slug):
        raise ValidationError(
            f"Use {SLUG_MIN}–{SLUG_MAX} lowercase letters, digits and single hyphens, starting with a letter "
            "and not ending with a hyphen (for example 'acme' or 'acme-support').",
            code="invalid",
        )
    if slug in RESERVED_SLUGS or slug.startswith("pg-"):
        raise ValidationError(f"'{slug}' is reserved; please choose another address.", code="reserved")
    if Workspace.objects.filter(slug=slug).exists():
        raise ValidationError(f"The address '{slug}' is already taken; please choose another.", code="taken")
    return slug


def time_zone_validate(value: str) -> str:
    if value not in TIME_ZONE_SET:
        raise ValidationError(f"'{value}' is not a known time zone (use an IANA name such as Europe/Paris).", code="invalid")
    return value


def currency_validate(value: str) -> str:
    value = (value or "").strip().upper()
    if value not in CURRENCIES:
        raise ValidationError(f"'{value}' is not a supported currency code (for example USD, EUR or GBP).", code="invalid")
    return value


def _field_errors(**checks) -> dict[str, list[str]]:
    """Run ``field=(check, value)`` validators and collect their messages per field."""
    errors: dict[str, list[str]] = {}
    for field, (check, value) in checks.items():
        try:
            check(value)
        except ValidationError as exc:
            errors[field] = list(exc.messages)
    return errors


def workspace_template_ensure() -> None:
    """Create the migrated template schema new workspaces are cloned from, once.

    It is a Workspace row (without a domain, so nobody can reach it) so that
    ``migrate_schemas`` keeps it migrated alongside the real workspaces.
    """
    if Workspace.objects.filter(schema_name=TEMPLATE_SCHEMA).exists():
        return
    with transaction.atomic():
        # Two first sign-ups at once must not both build the template.
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(hashtext('pulse.workspace_template'))")
        if not Workspace.objects.filter(schema_name=TEMPLATE_SCHEMA).exists():
            Workspace(schema_name=TEMPLATE_SCHEMA, name="Template", slug="_template").save(verbosity=0)
    connection.set_schema_to_public()


@transaction.atomic
def workspace_create(
    *,
    name: str,
    slug: str,
    lead_email: str,
    lead_password: str,
    lead_name: str = "",
    time_zone: str = "UTC",
    currency: str = "USD",
) -> NewWorkspace:
    """Create a workspace with its own schema and its first team lead.

    Raises ValidationError with a message per field; nothing is created then.
    """
    from tenants.accounts.models import Role, User
    from tenants.workspace.models import BusinessHours

    errors = _field_errors(slug=(slug_validate, slug), time_zone=(time_zone_validate, time_zone),
                           currency=(currency_validate, currency))
    name = (name or "").strip()
    if not name:
        errors.setdefault("name", []).append("Enter your company name.")
    elif len(name) > 120:
        errors.setdefault("name", []).append("Keep the company name under 120 characters.")
    lead_email = (lead_email or "").strip().lower()
    try:
        validate_email(lead_email)
    except ValidationError:
        errors.setdefault("lead_email", []).append("Enter a valid email address.")
    try:
        validate_password(lead_password, user=User(email=lead_email, full_name=lead_name or ""))
    except ValidationError as exc:
        errors.setdefault("lead_password", []).extend(exc.messages)
    if errors:
        raise ValidationError(errors)

    slug = slug.strip().lower()
    workspace_template_ensure()
    try:
        with transaction.atomic():
            workspace = Workspace(
                schema_name=slug.replace("-", "_"), slug=slug, name=name, time_zone=time_zone, currency=currency.upper()
            )
            workspace.save(verbosity=0)
    except IntegrityError as exc:
        # Lost a race with another sign-up for the same address.
        raise ValidationError({"slug": [f"The address '{slug}' is already taken; please choose another."]}) from exc
    Domain.objects.create(domain=workspace.domain_name, tenant=workspace, is_primary=True)
    with tenant_context(workspace):
        lead = User.objects.create_user(lead_email, lead_password, full_name=lead_name.strip(), role=Role.TEAM_LEAD)
        BusinessHours.objects.bulk_create(
            BusinessHours(weekday=day, opens_at=opens, closes_at=closes) for day, opens, closes in DEFAULT_OPENING_HOURS
        )
    connection.set_schema_to_public()
    return NewWorkspace(workspace=workspace, team_lead=lead)


@transaction.atomic
def workspace_update(*, workspace: Workspace, name: str, time_zone: str, currency: str) -> Workspace:
    errors = _field_errors(time_zone=(time_zone_validate, time_zone), currency=(currency_validate, currency))
    name = (name or "").strip()
    if not name:
        errors["name"] = ["Enter the workspace name."]
    if errors:
        raise ValidationError(errors)
    workspace.name, workspace.time_zone, workspace.currency = name, time_zone, currency.strip().upper()
    # The workspace row is in the public schema; saving it works from any search_path
    # because django-tenants always keeps public on the path.
    workspace.save(update_fields=["name", "time_zone", "currency"])
    return workspace


def workspace_delete(*, workspace: Workspace) -> None:
    """Delete a workspace and drop its schema with all its data."""
    if workspace.schema_name in ("public", TEMPLATE_SCHEMA):
        raise ValidationError("The public schema and the template cannot be deleted.")
    connection.set_schema_to_public()
    workspace.delete(force_drop=True)
