"""Small HTTP helpers every app's views share."""
from django.utils.http import url_has_allowed_host_and_scheme


def next_url(request, fallback: str) -> str:
    """Where a POST goes back to: its ``next`` field when that is a URL of this host (never
    another site: an open redirect), else ``fallback``. Only a path: a bare word would be
    taken by ``redirect()`` for a view name to reverse (NoReverseMatch, a 500)."""
    target = request.POST.get("next") or ""
    if target.startswith("/") and url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}, require_https=request.is_secure()):
        return target
    return fallback
