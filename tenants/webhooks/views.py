"""The Webhooks settings pages (team leads only): the endpoints and an add form; one
endpoint's settings, secret and delivery log. Every change is a POST to a service."""
from django.contrib import messages
from django.core.paginator import Paginator
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from tenants.accounts.decorators import team_lead_required
from tenants.forms import action_report, form_apply
from tenants.webhooks import selectors, services
from tenants.webhooks.forms import WebhookEndpointForm
from tenants.webhooks.models import WebhookDelivery, WebhookEndpoint
from tenants.webhooks.urlcheck import url_display

LOG_PAGE_SIZE = 25


def _no_store(response):
    # The pages show the endpoints' signing secrets: keep them out of caches and history.
    response["Cache-Control"] = "no-store"
    return response


@team_lead_required
def endpoint_list(request):
    form = WebhookEndpointForm(request.POST or None)
    created = []
    action = lambda data: created.append(services.webhook_endpoint_create(created_by=request.user, **data))  # noqa: E731
    if request.method == "POST" and form_apply(request, form, action, "Endpoint added. Send it a test event."):
        return redirect("webhooks:detail", pk=created[0].pk)
    context = {"form": form, "endpoints": selectors.webhook_endpoint_list()}
    return _no_store(render(request, "webhooks/list.html", context, status=400 if form.errors else 200))


@team_lead_required
def endpoint_detail(request, pk):
    endpoint = get_object_or_404(WebhookEndpoint, pk=pk)
    # A user and password in the URL are never shown, here neither: the field shows
    # "https://…@host/" (sent back unchanged, the service keeps the stored URL).
    initial = {"url": url_display(endpoint.url), "description": endpoint.description, "events": endpoint.events,
               "is_active": endpoint.is_active}
    form = WebhookEndpointForm(request.POST or None, initial=initial)
    action = lambda data: services.webhook_endpoint_update(endpoint=endpoint, **data)  # noqa: E731
    if request.method == "POST" and form_apply(request, form, action, "Endpoint saved."):
        return redirect("webhooks:detail", pk=endpoint.pk)
    page = Paginator(selectors.webhook_delivery_list(endpoint=endpoint), LOG_PAGE_SIZE).get_page(request.GET.get("page"))
    context = {"endpoint": endpoint, "form": form, "page": page, "deliveries": page.object_list}
    return _no_store(render(request, "webhooks/detail.html", context, status=400 if form.errors else 200))


@require_POST
@team_lead_required
def endpoint_delete(request, pk):
    endpoint = get_object_or_404(WebhookEndpoint, pk=pk)
    services.webhook_endpoint_delete(endpoint=endpoint)
    messages.success(request, f"Endpoint {endpoint} deleted, with its delivery log.")
    return redirect("webhooks:list")


@require_POST
@team_lead_required
def secret_rotate(request, pk):
    endpoint = get_object_or_404(WebhookEndpoint, pk=pk)
    services.webhook_secret_rotate(endpoint=endpoint)
    messages.success(request, "New secret made: update your receiver, the old one no longer verifies.")
    return redirect("webhooks:detail", pk=endpoint.pk)


@require_POST
@team_lead_required
def ping_send(request, pk):
    endpoint = get_object_or_404(WebhookEndpoint, pk=pk)
    services.webhook_ping_send(endpoint=endpoint, user=request.user)
    messages.success(request, "Test event queued: reload this page in a moment to see its delivery.")
    return redirect("webhooks:detail", pk=endpoint.pk)


@require_POST
@team_lead_required
def redeliver(request, pk, delivery_pk):
    delivery = get_object_or_404(WebhookDelivery, pk=delivery_pk, endpoint_id=pk)
    action_report(request, lambda: services.webhook_delivery_redeliver(delivery=delivery),
                  f"{delivery.event_type} event queued again.")
    return redirect("webhooks:detail", pk=pk)
