"""Survey pages: distribution. Sending a campaign (choose the audience, check who is
invited and who is refused, confirm), the invitations and campaigns of a survey, the
Outbox, the unsubscribe page and the suppression list."""
import uuid
from urllib.parse import urlencode

from django.contrib import messages
from django.core.cache import cache
from csp.constants import NONE, SELF, UNSAFE_INLINE
from csp.decorators import csp
from django.core.paginator import Paginator
from django.db import connection
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path
from django.views.decorators.clickjacking import xframe_options_sameorigin
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from surveys.selectors import distribution as selectors
from surveys.forms.distribution import InvitationFilterForm, SendForm, SuppressionAddForm
from surveys.mail import outbox_inline_images
from surveys.models import Campaign, Suppression, Survey
from surveys.services import scanner
from surveys.selectors.distribution import audience_customer_options
from surveys.services.invitations import campaign_create, invitations_screen, suppression_add, suppression_remove, unsubscribe as unsubscribe_service
from tenants.accounts.decorators import agent_required, team_lead_required

PAGE_SIZE = 50
# The confirmation page lists this many of each side; the counts cover everyone.
PREVIEW_ROWS = 200
# How long a checked audience waits for its confirmation.
DRAFT_SECONDS = 3600


def _survey(pk) -> Survey:
    return get_object_or_404(Survey, pk=pk)


def _draft_key(draft_id: str) -> str:
    return f"surveys-send-draft:{draft_id}"


@team_lead_required
def send(request, pk):
    """Step 1: the audience and timing; step 2 (same URL, ``draft``): who will be invited
    and who is refused, and why; confirming creates the campaign. The audience is kept in
    the cache between the steps (an uploaded file cannot be posted twice)."""
    survey = _survey(pk)
    time_zone = connection.tenant.time_zone
    options = audience_customer_options()
    if request.method == "POST" and request.POST.get("draft"):
        return _send_confirm(request, survey)
    form = SendForm(request.POST or None, request.FILES or None, plans=options["plans"], countries=options["countries"],
                    time_zone=time_zone)
    if request.method == "POST" and form.is_valid():
        screened = invitations_screen(survey=survey, recipients=form.recipients)
        draft_id = uuid.uuid4().hex
        data = form.cleaned_data
        cache.set(_draft_key(draft_id), {
            "survey": survey.pk, "user": request.user.pk, "recipients": form.recipients, "name": data["name"],
            "audience": form.audience_label, "scheduled_at": data["scheduled_at"], "reminder_days": data["reminder_days"],
        }, DRAFT_SECONDS)
        return render(request, "surveys/distribution/send_confirm.html", {
            "survey": survey, "draft": draft_id, "data": data, "audience": form.audience_label,
            "accepted": screened.accepted[:PREVIEW_ROWS], "accepted_count": len(screened.accepted),
            "refused": screened.refused[:PREVIEW_ROWS], "refused_count": len(screened.refused), "preview_rows": PREVIEW_ROWS,
        })
    return render(request, "surveys/distribution/send.html",
                  {"survey": survey, "form": form},
                  status=400 if form.errors else 200)


def _send_confirm(request, survey):
    draft = cache.get(_draft_key(request.POST["draft"]))
    if not draft or draft["survey"] != survey.pk or draft["user"] != request.user.pk:
        messages.warning(request, "That check expired (after an hour) or was already sent. Choose the audience again.")
        return redirect("surveys:send", survey.pk)
    cache.delete(_draft_key(request.POST["draft"]))
    campaign, invitations, refusals = campaign_create(
        survey=survey, recipients=draft["recipients"], name=draft["name"], audience=draft["audience"],
        scheduled_at=draft["scheduled_at"], reminder_days=draft["reminder_days"], created_by=request.user)
    when = "now" if campaign.scheduled_at <= campaign.created_at else "at the scheduled time"
    messages.success(request, f"{len(invitations):,} invitation{'s' if len(invitations) != 1 else ''} will be emailed {when}; "
                              f"{len(refusals):,} refused.")
    return redirect("surveys:campaign", survey.pk, campaign.pk)


@agent_required
def invitations(request, pk):
    survey = _survey(pk)
    campaigns = selectors.campaign_list(survey=survey)
    form = InvitationFilterForm(request.GET or None, campaigns=campaigns)
    filters = form.cleaned_data if form.is_valid() else {}
    status, source, campaign = filters.get("status") or "", filters.get("source") or "", filters.get("campaign")
    if status == "refused":
        rows = selectors.refusal_list(survey=survey, source=source, campaign=campaign)
    else:
        rows = selectors.invitation_list(survey=survey, status=status, source=source, campaign=campaign)
    page = Paginator(rows, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "surveys/distribution/invitations.html", {
        "survey": survey, "form": form, "campaigns": campaigns, "page": page, "refused": status == "refused",
        "counts": selectors.status_counts(survey.invitations.all()), "refusal_count": selectors.refusal_count(survey=survey),
        "query": urlencode([(k, v) for k, v in request.GET.items() if k != "page" and v]),
    })


@agent_required
def campaign(request, pk, campaign_pk):
    survey = _survey(pk)
    campaign = get_object_or_404(Campaign.objects.select_related("created_by"), pk=campaign_pk, survey=survey)
    refusals = Paginator(campaign.refusals.order_by("id"), PAGE_SIZE).get_page(request.GET.get("page"))
    counts = selectors.status_counts(campaign.invitations.all())
    return render(request, "surveys/distribution/campaign.html", {
        "survey": survey, "campaign": campaign, "counts": counts, "total": sum(n for _, _, n in counts),
        "page": refusals, "refusal_total": refusals.paginator.count,
    })


# The Outbox is a team lead's page: the mail it shows names customers and carries their
# answer and unsubscribe links (account emails are never in it at all: tenants.mail).
@team_lead_required
def outbox(request):
    page = Paginator(selectors.outbox_list(), PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "surveys/distribution/outbox.html", {"page": page})


def _here(request, content: str) -> str:
    """Links of a kept email point at the workspace's configured address; on the Outbox
    they point at the address this page was opened on, so they work wherever the app is
    served (another port, a tunnel)."""
    return content.replace(connection.tenant.url, f"{request.scheme}://{request.get_host()}")


@team_lead_required
def outbox_email(request, email_pk):
    email = get_object_or_404(selectors.outbox_emails().select_related("invitation__survey"), pk=email_pk)
    return render(request, "surveys/distribution/outbox_email.html", {"email": email, "text": _here(request, email.text)})


# The email's own policy, replacing the app's: its HTML runs no script at all and reaches
# nothing of the app but images (an email shows its logo and remote images, as a mail
# client would); it may be framed by the app's own Outbox page only. The sandbox
# directive repeats the iframe's sandbox, for when the address is opened directly.
OUTBOX_EMAIL_CSP = {
    "sandbox": ["allow-popups", "allow-popups-to-escape-sandbox", "allow-top-navigation-by-user-activation"],
    "default-src": [NONE],
    "img-src": [SELF, "data:", "https:", "http:"],
    "style-src": [UNSAFE_INLINE],
    "base-uri": [NONE],
    "form-action": [NONE],
    "frame-ancestors": [SELF],
}


@csp(OUTBOX_EMAIL_CSP)  # outermost: the sign-in redirect or 403 of this address too
@team_lead_required
@xframe_options_sameorigin
def outbox_email_html(request, email_pk):
    """The HTML part of a kept email, for the detail page's sandboxed iframe. ``<base
    target="_top">`` makes its links open in the window, not inside the frame, so the
    score buttons and the unsubscribe link work as they would in a mail client."""
    email = get_object_or_404(selectors.outbox_emails(), pk=email_pk)
    body = _here(request, email.html) if email.html else "<pre>(This email has no HTML part.)</pre>"
    # A digest's charts are inline images (cid:): shown from the kept copies, as data: URIs.
    body = outbox_inline_images(body, email.inline_images)
    head = '<base target="_top">'
    body = body.replace("<head>", f"<head>{head}", 1) if "<head>" in body else head + body
    # No script runs in it (OUTBOX_EMAIL_CSP, and the iframe is sandboxed as well): a
    # customer's name in an email cannot act as the signed-in user.
    return HttpResponse(body, content_type="text/html; charset=utf-8")


@csrf_exempt
@require_http_methods(["GET", "HEAD", "POST"])
def unsubscribe(request, token):
    """Unsubscribing. A GET never unsubscribes: email link scanners (Safe Links,
    Proofpoint…) fetch every link of an email, and would unsubscribe every recipient. It
    shows the address and one button; its POST unsubscribes. A POST is also RFC 8058's
    one-click request ("List-Unsubscribe=One-Click") sent by mail clients' own Unsubscribe
    button, so that one is truly one click. The page's form carries the same signed
    "shown" stamp as the survey form: a form submitted within a second of its page, or
    within the scanner window after delivery (what scanners that submit every form they
    find do), only gets the question again. No CSRF token:
    nothing of a signed-in session is involved, the token is the capability."""
    invitation = selectors.invitation_by_token(token)
    if invitation is None:
        return render(request, "surveys/distribution/unsubscribe_unknown.html", status=404)
    user_agent = request.headers.get("User-Agent", "")
    one_click = request.POST.get("List-Unsubscribe") == "One-Click"
    if request.method == "POST" and (one_click or not scanner.submission_reasons(
            stamp=request.POST.get("shown"), user_agent=user_agent, sent_at=invitation.sent_at,
            window=scanner.scanner_window_seconds())):
        invitation = unsubscribe_service(token=token)
        if one_click:
            return HttpResponse("Unsubscribed.\n", content_type="text/plain; charset=utf-8")
        return render(request, "surveys/distribution/unsubscribe.html", {"email": invitation.email, "done": True})
    reasons = scanner.request_reasons(method=request.method, user_agent=user_agent)
    return render(request, "surveys/distribution/unsubscribe.html",
                  {"email": invitation.email, "done": invitation.status == "unsubscribed",
                   "confirm_again": request.method == "POST", "shown": scanner.shown_stamp(reasons=reasons)})


@team_lead_required
def suppressions(request):
    """The suppression list: addresses no survey is emailed to. A team lead adds one, or
    removes one after a confirmation (the person may then be surveyed again)."""
    form = SuppressionAddForm(request.POST if request.POST.get("action") == "add" else None)
    action = request.POST.get("action")
    if action == "add" and form.is_valid():
        email = form.cleaned_data["email"].lower()
        existed = Suppression.objects.filter(email=email).exists()
        suppression_add(email=email, reason=Suppression.Reason.MANUAL)
        if existed:
            messages.warning(request, f"{email} was already on the list.")
        else:
            messages.success(request, f"{email} will not be surveyed again.")
        return redirect("surveys:suppressions")
    if action in ("remove", "remove_confirmed"):
        suppression = get_object_or_404(Suppression, pk=request.POST.get("id") or 0)
        if action == "remove":
            return render(request, "surveys/distribution/suppression_remove.html", {"suppression": suppression})
        suppression_remove(suppression=suppression)
        messages.success(request, f"{suppression.email} was removed: later surveys may be emailed to it.")
        return redirect("surveys:suppressions")
    query = (request.GET.get("q") or "").strip().lower()
    rows = selectors.suppression_list()
    if query:
        rows = rows.filter(email__contains=query)
    page = Paginator(rows, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "surveys/distribution/suppressions.html",
                  {"form": form, "page": page, "q": query, "query": urlencode({"q": query}) if query else ""},
                  status=400 if form.errors else 200)


urlpatterns = [
    path("surveys/<int:pk>/send/", send, name="send"),
    path("surveys/<int:pk>/invitations/", invitations, name="invitations"),
    path("surveys/<int:pk>/campaigns/<int:campaign_pk>/", campaign, name="campaign"),
    path("outbox/", outbox, name="outbox"),
    path("outbox/<int:email_pk>/", outbox_email, name="outbox_email"),
    path("outbox/<int:email_pk>/html", outbox_email_html, name="outbox_email_html"),
    path("u/<str:token>", unsubscribe, name="unsubscribe"),
    path("surveys/suppressions/", suppressions, name="suppressions"),
]
