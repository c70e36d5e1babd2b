"""The demo workspace. The data issue fills it with a year of generated data; for now it
holds the demo team (a lead, an agent and a viewer) and its calendar."""
from django.db import transaction
from django_tenants.utils import tenant_context

from tenants.accounts.models import Role, User
from tenants.models import Workspace
from tenants.services import workspace_create

DEMO_SLUG = "demo"
DEMO_EMAIL = "lead@demo.test"
DEMO_PASSWORD = "pulse-demo-2026"
DEMO_TEAM = [
    ("agent@demo.test", "Alex Agent", Role.AGENT),
    ("viewer@demo.test", "Vera Viewer", Role.VIEWER),
]


@transaction.atomic
def demo_workspace_ensure() -> tuple[Workspace, bool]:
    workspace = Workspace.objects.filter(slug=DEMO_SLUG).first()
    created = workspace is None
    if created:
        workspace = workspace_create(
            name="Demo Co", slug=DEMO_SLUG, lead_email=DEMO_EMAIL, lead_password=DEMO_PASSWORD,
            lead_name="Dana Lead", time_zone="Europe/Paris", currency="EUR",
        ).workspace
    with tenant_context(workspace):
        lead, _ = User.objects.get_or_create(email=DEMO_EMAIL, defaults={"full_name": "Dana Lead"})
        # Refreshing restores the documented sign-in even if someone changed it.
        lead.role, lead.is_active = Role.TEAM_LEAD, True
        lead.set_password(DEMO_PASSWORD)
        lead.save()
        for email, name, role in DEMO_TEAM:
            member, _ = User.objects.get_or_create(email=email, defaults={"full_name": name, "role": role})
            member.set_password(DEMO_PASSWORD)
            member.save()
    return workspace, created
