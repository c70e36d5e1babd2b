from django.conf import settings
from django.core.exceptions import ValidationError
from django.http import HttpResponseRedirect, JsonResponse
from django.shortcuts import render
from django.views.decorators.cache import never_cache
from django_tenants.utils import tenant_context

from tenants.accounts.decorators import member_required
from tenants.forms import SignupForm, form_add_errors
from tenants.health import health_report
from tenants.services import workspace_create


def landing(request):
    return render(request, "public/landing.html")


def signup(request):
    form = SignupForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            created = workspace_create(**form.cleaned_data)
        except ValidationError as exc:
            form_add_errors(form, exc)
        else:
            from tenants.accounts.services import handoff_token_make

            with tenant_context(created.workspace):
                token = handoff_token_make(user=created.team_lead)
            # Land on the workspace's own host, on the port this request came in on.
            port = request.get_port()
            default_port = "443" if request.is_secure() else "80"
            host = created.workspace.domain_name + ("" if port == default_port else f":{port}")
            scheme = "https" if request.is_secure() else "http"
            return HttpResponseRedirect(f"{scheme}://{host}/auth/handoff/?token={token}")
    return render(request, "public/signup.html", {"form": form, "base_domain": settings.PULSE_BASE_DOMAIN},
                  status=400 if form.errors else 200)


@never_cache
def healthz(request):
    ok, report = health_report()
    return JsonResponse(report, status=200 if ok else 503)


@member_required
def dashboard(request):
    from tenants.accounts.models import ApiKey, Invitation, User

    context = {
        "members": User.objects.filter(is_active=True).count(),
        "pending_invitations": Invitation.objects.pending().count(),
        "api_keys": ApiKey.objects.active().count(),
    }
    return render(request, "dashboard.html", context)
