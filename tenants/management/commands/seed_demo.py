from django.core.management.base import BaseCommand

from tenants.models import Workspace
from tenants.demo import DEMO_EMAIL, DEMO_SLUG, DEMO_PASSWORD, DEMO_TEAM, demo_workspace_ensure


class Command(BaseCommand):
    help = "Create (or refresh) the 'demo' workspace and print where to sign in."

    def add_arguments(self, parser):
        parser.add_argument("--if-missing", action="store_true", help="Do nothing when the demo workspace exists")

    def handle(self, *args, **options):
        if options["if_missing"] and Workspace.objects.filter(slug=DEMO_SLUG).exists():
            return
        workspace, created = demo_workspace_ensure()
        verb = "Created" if created else "Refreshed"
        self.stdout.write(self.style.SUCCESS(f"{verb} the demo workspace."))
        self.stdout.write(f"Sign in at {workspace.url}/sign-in/ as {DEMO_EMAIL} / {DEMO_PASSWORD}")
        others = ", ".join(f"{email} ({role.label.lower()})" for email, _, role in DEMO_TEAM)
        self.stdout.write(f"Also: {others}, same password.")
