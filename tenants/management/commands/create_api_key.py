from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django_tenants.utils import tenant_context

from tenants.accounts.models import Role
from tenants.accounts.services import api_key_create
from tenants.selectors import workspace_get_by_slug


class Command(BaseCommand):
    help = "Create an API key for a workspace and print it (it is shown only this once)."

    def add_arguments(self, parser):
        parser.add_argument("--workspace", required=True, help="Workspace slug")
        parser.add_argument("--name", required=True, help="What the key is for")
        parser.add_argument("--role", default=Role.TEAM_LEAD, choices=Role.values, help="Access the key grants")

    def handle(self, *args, **options):
        workspace = workspace_get_by_slug(slug=options["workspace"])
        if workspace is None:
            raise CommandError(f"No workspace '{options['workspace']}'.")
        with tenant_context(workspace):
            try:
                new_key = api_key_create(name=options["name"], role=options["role"])
            except ValidationError as exc:
                raise CommandError("; ".join(exc.messages)) from None
        self.stdout.write(new_key.raw)
        self.stderr.write(f"Key '{options['name']}' for {workspace.url}/ — store it now, it is not shown again.")
