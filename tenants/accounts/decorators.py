from functools import wraps

from django.contrib.auth.views import redirect_to_login
from django.shortcuts import render

from tenants.accounts.models import ROLE_DESCRIPTIONS, Role


def role_required(minimum: str):
    """Page views: sign-in first, then at least ``minimum`` role, else a 403 page that says
    which role is needed."""

    def decorator(view):
        @wraps(view)
        def wrapped(request, *args, **kwargs):
            user = request.user
            if not user.is_authenticated:
                return redirect_to_login(request.get_full_path())
            if not user.has_role(minimum):
                context = {"required_role": Role(minimum).label, "your_role": user.get_role_display(),
                           "role_description": ROLE_DESCRIPTIONS[Role(user.role)]}
                return render(request, "403.html", context, status=403)
            return view(request, *args, **kwargs)

        return wrapped

    return decorator


member_required = role_required(Role.VIEWER)
team_lead_required = role_required(Role.TEAM_LEAD)
agent_required = role_required(Role.AGENT)
