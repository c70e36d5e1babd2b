from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from tenants.services import workspace_create


class Command(BaseCommand):
    help = "Create a workspace (its own schema) with its team lead, and print its URL."

    def add_arguments(self, parser):
        parser.add_argument("--slug", required=True, help="Workspace address: <slug>.localhost")
        parser.add_argument("--name", required=True, help="Company name")
        parser.add_argument("--email", required=True, help="Team lead's email")
        parser.add_argument("--password", required=True, help="Team lead's password")
        parser.add_argument("--lead-name", default="", help="Team lead's name")
        parser.add_argument("--time-zone", default="UTC", help="IANA time zone, e.g. Europe/Paris")
        parser.add_argument("--currency", default="USD", help="ISO 4217 code, e.g. EUR")

    def handle(self, *args, **options):
        try:
            created = workspace_create(
                name=options["name"],
                slug=options["slug"],
                lead_email=options["email"],
                lead_password=options["password"],
                lead_name=options["lead_name"],
                time_zone=options["time_zone"],
                currency=options["currency"],
            )
        except ValidationError as exc:
            lines = [f"{field}: {msg}" for field, msgs in exc.message_dict.items() for msg in msgs]
            raise CommandError("Workspace not created:\n  " + "\n  ".join(lines)) from None
        workspace = created.workspace
        self.stdout.write(self.style.SUCCESS(f"Created workspace '{workspace.name}' ({workspace.slug})"))
        self.stdout.write(f"URL: {workspace.url}/")
        self.stdout.write(f"Team lead: {created.team_lead.email}")
