from django.db.models import Count, Max, Q

from tenants.webhooks.models import WebhookDelivery, WebhookEndpoint


def webhook_endpoint_list():
    """Endpoints with their delivery figures, in one query (the list page shows them)."""
    return WebhookEndpoint.objects.select_related("created_by").annotate(
        deliveries_failed=Count("deliveries", filter=Q(deliveries__status=WebhookDelivery.Status.FAILED)),
        last_delivery_at=Max("deliveries__created_at"),
    ).order_by("created_at", "id")


def webhook_delivery_list(*, endpoint: WebhookEndpoint):
    """The delivery log of one endpoint, latest first (the ``webhook_delivery_log`` index)."""
    return WebhookDelivery.objects.filter(endpoint=endpoint).order_by("-created_at", "-id")
