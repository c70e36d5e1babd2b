import itertools

import factory
from django.db import connection

from tenants.accounts.models import Role, User
from tenants.services import workspace_create

PASSWORD = "correct-horse-battery-9"
_slugs = itertools.count(1)


def workspace_make(slug: str | None = None, **overrides):
    """Create a workspace through the real service (schema cloned from the template)."""
    slug = slug or f"ws-{next(_slugs)}"
    values = dict(name=slug.title(), slug=slug, lead_email=f"lead@{slug}.test", lead_password=PASSWORD,
                  lead_name="Lee Lead", time_zone="Europe/Paris", currency="EUR")
    values.update(overrides)
    return workspace_create(**values)


class UserFactory(factory.django.DjangoModelFactory):
    """Creates users in whatever schema is active: wrap calls in tenant_context."""

    class Meta:
        model = User
        skip_postgeneration_save = True

    email = factory.Sequence(lambda n: f"user{n}@example.test")
    full_name = factory.Faker("name")
    role = Role.AGENT
    password = factory.PostGenerationMethodCall("set_password", PASSWORD)

    @factory.post_generation
    def _save(obj, create, extracted, **kwargs):
        if create:
            assert connection.schema_name != "public", "create users inside tenant_context(workspace)"
            obj.save()
