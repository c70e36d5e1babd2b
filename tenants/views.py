from csp.decorators import csp_update
from django.conf import settings
from django.core.exceptions import ValidationError
from django.http import HttpResponseRedirect, JsonResponse
from django.shortcuts import render
from django.views.decorators.cache import never_cache
from django_tenants.utils import tenant_context

from tenants.forms import FindWorkspaceForm, SignupForm, form_add_errors
from tenants.health import health_report
from tenants.ratelimits import rate_limit
from tenants.selectors import workspace_get_by_slug
from tenants.services import workspace_create

# The public site's two forms end on a workspace's host (the "go to your workspace" box and
# the sign-up, which redirect there), and browsers apply form-action to where a form's
# redirects lead as well: any workspace host, on any port (the one the request came in on).
workspace_form_targets = csp_update({"form-action": [f"*.{settings.PULSE_BASE_DOMAIN}:*"]})


@workspace_form_targets
def landing(request):
    """The public start page, with a "go to your workspace" box for people who signed out."""
    form = FindWorkspaceForm(request.GET if "workspace" in request.GET else None)
    if form.is_bound and form.is_valid():
        workspace = workspace_get_by_slug(slug=form.cleaned_data["workspace"])
        if workspace is not None:
            return HttpResponseRedirect(f"{_workspace_origin(request, workspace)}/sign-in/")
        form.add_error("workspace", f"There is no workspace at {form.cleaned_data['workspace']}.{settings.PULSE_BASE_DOMAIN}.")
    return render(request, "public/landing.html", {"find_form": form, "base_domain": settings.PULSE_BASE_DOMAIN},
                  status=404 if form.errors else 200)


def _workspace_origin(request, workspace) -> str:
    """The workspace's scheme://host:port, on the port this request came in on."""
    port = request.get_port()
    default_port = "443" if request.is_secure() else "80"
    scheme = "https" if request.is_secure() else "http"
    return f"{scheme}://{workspace.domain_name}{'' if port == default_port else f':{port}'}"


@workspace_form_targets
@rate_limit(group="public.sign-up", rate_setting="ACCOUNT_SIGN_UP_RATE", what="sign-ups")
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
            return HttpResponseRedirect(f"{_workspace_origin(request, created.workspace)}/auth/handoff/?token={token}")
    return render(request, "public/signup.html", {"form": form, "base_domain": settings.PULSE_BASE_DOMAIN},
                  status=400 if form.errors else 200)


@never_cache
def healthz(request):
    ok, report = health_report()
    return JsonResponse(report, status=200 if ok else 503)


