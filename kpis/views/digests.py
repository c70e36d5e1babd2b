"""The digest pages: Settings → KPIs → Digest (team leads choose the cards, see who is
subscribed, send themselves a preview), Account → Digest (every member opts in and picks
how often) and the email's unsubscribe link (no session)."""
from django.contrib import messages
from django.db import connection
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods, require_POST

from kpis.digests import digest_next_send_at
from kpis.forms import DigestSettingsForm, DigestSubscriptionForm
from kpis.models import DigestFrequency, DigestSettings
from kpis.registry import KPIS
from kpis.selectors.digests import (digest_kpi_choices, digest_kpi_keys, digest_subscribers, digest_subscription_by_token,
                                    digest_subscription_of)
from kpis.services.digests import (digest_preview_request, digest_settings_update, digest_subscription_update,
                                   digest_unsubscribe as digest_unsubscribe_service)
from tenants.accounts.decorators import member_required, team_lead_required


@team_lead_required
def digest_settings(request):
    settings = DigestSettings.load()
    # An empty POST (every box unticked) is still a submission.
    form = DigestSettingsForm(request.POST if request.method == "POST" else None, choices=digest_kpi_choices(), chosen=digest_kpi_keys(settings=settings))
    if request.method == "POST" and form.is_valid():
        saved = digest_settings_update(kpis=form.cleaned_data["ordered"])
        messages.success(request, f"Digest saved: {', '.join(KPIS[key].label for key in saved.kpis)}.")
        return redirect("kpis:digest_settings")
    return render(request, "kpis/digest_settings.html", {
        "form": form, "subscribers": digest_subscribers(), "frequencies": DigestFrequency.choices,
        "own": digest_subscription_of(request.user),
    }, status=400 if form.errors else 200)


@require_POST
@team_lead_required
def digest_preview(request):
    frequency = request.POST.get("frequency", "")
    digest_preview_request(user=request.user, frequency=frequency if frequency in DigestFrequency.values else "")
    messages.success(request, f"Preview on its way to {request.user.email}: it reaches your mailbox, and the Outbox, "
                              "in a few seconds.")
    return redirect("kpis:digest_settings")


@member_required
def account_digest(request):
    subscription = digest_subscription_of(request.user)
    form = DigestSubscriptionForm(request.POST if request.method == "POST" else None, choices=DigestFrequency.choices,
                                  initial={"active": subscription.active, "frequency": subscription.frequency})
    if request.method == "POST" and form.is_valid():
        subscription = digest_subscription_update(user=request.user, active=form.cleaned_data["active"],
                                                  frequency=form.cleaned_data["frequency"])
        if subscription.active:
            messages.success(request, f"You will get the {subscription.get_frequency_display().split(' (')[0].lower()} "
                                      "digest by email.")
        else:
            messages.success(request, "Digest emails are off for you.")
        return redirect("kpis:account_digest")
    time_zone = connection.tenant.time_zone
    next_at = digest_next_send_at(subscription.frequency, timezone.now(), time_zone) if subscription.active else None
    return render(request, "kpis/account_digest.html", {
        "form": form, "subscription": subscription, "time_zone": time_zone,
        "next_at": timezone.localtime(next_at, timezone=next_at.tzinfo) if next_at else None,
        "next_by_frequency": {value: digest_next_send_at(value, timezone.now(), time_zone)
                              for value in DigestFrequency.values},
    }, status=400 if form.errors else 200)


# No CSRF token and no session: the token in the address is the capability, and RFC 8058's
# one-click POST comes from the recipient's mail client, which has neither.
@csrf_exempt
@require_http_methods(["GET", "HEAD", "POST"])
def digest_unsubscribe(request, token):
    """A GET never unsubscribes (mail scanners open every link of an email): it shows one
    button, whose POST does. The List-Unsubscribe header's one-click POST
    ("List-Unsubscribe=One-Click") does it straight away."""
    subscription = digest_subscription_by_token(token)
    if subscription is None:
        return render(request, "kpis/digest_unsubscribe_unknown.html", status=404)
    if request.method == "POST":
        subscription = digest_unsubscribe_service(token=token)
        if request.POST.get("List-Unsubscribe") == "One-Click":
            return HttpResponse("Unsubscribed.\n", content_type="text/plain; charset=utf-8")
        return render(request, "kpis/digest_unsubscribe.html", {"subscription": subscription, "done": True})
    return render(request, "kpis/digest_unsubscribe.html", {"subscription": subscription,
                                                            "done": not subscription.active})
