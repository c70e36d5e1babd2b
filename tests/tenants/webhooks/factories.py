import factory

from tenants.webhooks.models import WebhookEndpoint
from tenants.webhooks.signing import secret_generate


class WebhookEndpointFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = WebhookEndpoint

    url = factory.Sequence(lambda n: f"https://hooks{n}.example.test/pulse")
    description = "CRM sync"
    events = factory.LazyFunction(lambda: ["alert.fired", "alert.cleared"])
    secret = factory.LazyFunction(secret_generate)
    is_active = True
