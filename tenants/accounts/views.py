from django.contrib import messages
from django.contrib.auth import login, update_session_auth_hash, views as auth_views
from django.contrib.auth.forms import PasswordChangeForm
from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse_lazy
from django.utils.decorators import method_decorator
from django.views.decorators.http import require_POST

from tenants.accounts import selectors, services
from tenants.accounts.decorators import member_required, team_lead_required
from tenants.accounts.forms import AcceptInvitationForm, ApiKeyForm, EmailForm, InviteForm, RoleForm, SignInForm
from tenants.accounts.models import ApiKey, Invitation, Role, User
from tenants.forms import action_report, form_add_errors, form_apply
from tenants.ratelimits import rate_limit


# Per client address, before any form work (no password hashed, no email queued).
sign_in_rate_limit = rate_limit(group="accounts.sign-in", rate_setting="ACCOUNT_SIGN_IN_RATE", what="sign-in attempts")
password_reset_rate_limit = rate_limit(group="accounts.password-reset", rate_setting="ACCOUNT_PASSWORD_RESET_RATE",
                                       what="password-reset requests")


@method_decorator(sign_in_rate_limit, name="dispatch")
class SignInView(auth_views.LoginView):
    form_class = SignInForm
    template_name = "accounts/sign_in.html"
    redirect_authenticated_user = True


def sign_out(request):
    if request.method == "POST":
        return auth_views.LogoutView.as_view()(request)
    return render(request, "accounts/sign_out.html")


def handoff(request):
    """Lands the team lead in the workspace they just created on the public site."""
    user = services.handoff_token_redeem(token=request.GET.get("token", ""))
    if user is None:
        messages.info(request, "That sign-in link has expired or was already used. Sign in with your email and password.")
        return redirect("accounts:login")
    login(request, user, backend="django.contrib.auth.backends.ModelBackend")
    messages.success(request, f"Welcome to {request.tenant.name}! Your workspace is ready.")
    return redirect("dashboard")


@password_reset_rate_limit
def password_reset(request):
    form = EmailForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        services.password_reset_request(email=form.cleaned_data["email"])
        return redirect("accounts:password_reset_done")
    return render(request, "accounts/password_reset.html", {"form": form})


class PasswordResetConfirmView(auth_views.PasswordResetConfirmView):
    template_name = "accounts/password_reset_confirm.html"
    success_url = reverse_lazy("accounts:login")
    post_reset_login = False

    def form_valid(self, form):
        messages.success(self.request, "Your password was changed. Sign in with the new one.")
        return super().form_valid(form)


@member_required
def password_change(request):
    form = PasswordChangeForm(request.user, request.POST or None)
    if request.method == "POST" and form.is_valid():
        user = form.save()
        update_session_auth_hash(request, user)  # stay signed in here, sign out other sessions
        messages.success(request, "Your password was changed. Other sessions were signed out.")
        return redirect("accounts:password_change")
    return render(request, "accounts/password_change.html", {"form": form})


# ---------------------------------------------------------------- team

@team_lead_required
def team(request):
    form = InviteForm(request.POST or None)
    if request.method == "POST" and form_apply(
        request, form, lambda data: services.invitation_create(invited_by=request.user, **data),
        lambda invitation: f"Invitation sent to {invitation.email} as {invitation.get_role_display().lower()}.",
    ):
        return redirect("accounts:team")
    context = {
        "form": form,
        "members": selectors.user_list(),
        "invitations": selectors.invitation_list_open(),
        "roles": Role.choices,
    }
    return render(request, "accounts/team.html", context, status=400 if form.errors else 200)


@require_POST
@team_lead_required
def member_role(request, pk):
    member = get_object_or_404(User, pk=pk)
    form = RoleForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Choose one of the listed roles.")
        return redirect("accounts:team")
    role = form.cleaned_data["role"]
    action_report(request, lambda: services.user_role_change(user=member, role=role), f"{member} is now {Role(role).label.lower()}.")
    return redirect("accounts:team")


@require_POST
@team_lead_required
def member_active(request, pk):
    member = get_object_or_404(User, pk=pk)
    active = request.POST.get("active") == "1"
    action_report(request, lambda: services.user_set_active(user=member, active=active),
                  f"{member} was {'reactivated' if active else 'deactivated'}.")
    return redirect("accounts:team")


@require_POST
@team_lead_required
def invitation_revoke(request, pk):
    invitation = get_object_or_404(Invitation, pk=pk)
    services.invitation_revoke(invitation=invitation)
    messages.success(request, f"The invitation for {invitation.email} was revoked.")
    return redirect("accounts:team")


def invitation_accept(request, token):
    invitation = selectors.invitation_from_token(token)
    if invitation is None:
        return render(request, "accounts/invitation_invalid.html", status=404)
    if request.user.is_authenticated:
        messages.info(request, "You are already signed in to this workspace.")
        return redirect("dashboard")
    form = AcceptInvitationForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            user = services.invitation_accept(invitation=invitation, **form.cleaned_data)
        except ValidationError as exc:
            form_add_errors(form, exc)
        else:
            login(request, user, backend="django.contrib.auth.backends.ModelBackend")
            messages.success(request, f"Welcome to {request.tenant.name}, {user.full_name}!")
            return redirect("dashboard")
    return render(request, "accounts/invitation_accept.html", {"form": form, "invitation": invitation},
                  status=400 if form.errors else 200)


# ---------------------------------------------------------------- API keys

@team_lead_required
def api_keys(request):
    form = ApiKeyForm(request.POST or None)
    new_key = None
    if request.method == "POST" and form.is_valid():
        try:
            new_key = services.api_key_create(created_by=request.user, **form.cleaned_data)
        except ValidationError as exc:
            form_add_errors(form, exc)
        else:
            form = ApiKeyForm()
    context = {"form": form, "new_key": new_key, "keys": selectors.api_key_list(), "host": request.get_host()}
    # The new key is only ever in this response: keep it out of caches and history.
    response = render(request, "accounts/api_keys.html", context, status=400 if form.errors else 200)
    response["Cache-Control"] = "no-store"
    return response


@require_POST
@team_lead_required
def api_key_revoke(request, pk):
    api_key = get_object_or_404(ApiKey, pk=pk)
    services.api_key_revoke(api_key=api_key)
    messages.success(request, f"The key “{api_key.name}” was revoked; requests using it now get 401.")
    return redirect("accounts:api_keys")
