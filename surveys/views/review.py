"""Survey pages: review of held responses (team leads). A submission that looked like an
email link scanner's is kept but held out of every KPI (surveys.services.scanner); here a
team lead sees why, and accepts it (it counts, the KPIs are recomputed) or rejects it."""
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db.models import Count
from django.shortcuts import redirect, render
from django.urls import path
from django.views.decorators.http import require_http_methods

from surveys.models import Response
from surveys.services.scanner import reason_labels, responses_review
from tenants.accounts.decorators import team_lead_required

PAGE_SIZE = 50
TABS = {"pending": "Held for review", "rejected": "Rejected", "accepted": "Accepted"}


@team_lead_required
@require_http_methods(["GET", "POST"])
def flagged(request):
    if request.method == "POST":
        decision = request.POST.get("decision")
        ids = [value for value in request.POST.getlist("response") if value]
        if decision not in (Response.Review.ACCEPTED, Response.Review.REJECTED) or not ids:
            messages.error(request, "Choose a response and whether to accept or reject it.")
            return redirect("surveys:flagged")
        try:
            changed = responses_review(response_ids=ids, decision=decision, user=request.user)
        except ValidationError:  # a malformed id (not a UUID): nothing to review
            changed = 0
        verb = "accepted: it counts in the KPIs again" if decision == "accepted" else "rejected: it stays out of the KPIs"
        if changed:
            messages.success(request, f"{changed} response{'s' if changed != 1 else ''} {verb}.")
        else:
            messages.warning(request, "Nothing changed: the response was already reviewed.")
        return redirect(f"{request.path}?status={request.POST.get('status', 'pending')}")

    status = request.GET.get("status", "pending")
    if status not in TABS:
        status = "pending"
    rows = (Response.objects.filter(review=status).select_related("survey", "invitation", "reviewed_by")
            .order_by("-responded_at", "-pk"))
    page = Paginator(rows, PAGE_SIZE).get_page(request.GET.get("page"))
    for response in page.object_list:
        response.reason_labels = reason_labels(response.review_reasons)
        response.link_labels = reason_labels(response.invitation.bot_reasons) if response.invitation else []
    counts = _counts()
    return render(request, "surveys/review/flagged.html",
                  {"page": page, "status": status, "tabs": [(key, label, counts.get(key, 0)) for key, label in TABS.items()]})


def _counts() -> dict:
    return dict(Response.objects.exclude(review="").values_list("review").annotate(n=Count("id")).order_by())


urlpatterns = [path("surveys/flagged/", flagged, name="flagged")]
