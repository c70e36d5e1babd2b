"""Rate limits per client address (django-ratelimit, counted in the shared Redis cache so
every web process agrees; the cache is keyed per schema by django-tenants, so each
workspace — and the public site — counts on its own).

Used by the sign-in, sign-up and password-reset forms (guessing passwords, mass sign-ups,
flooding a member's mailbox) and by the public survey link. A refused request gets the
friendly 429 page (templates/429.html) with ``Retry-After``; nothing behind the limit
runs (no password hashing, no email queued).
"""
import math
from functools import wraps

from django.conf import settings
from django.shortcuts import render
from django_ratelimit.core import get_usage


def client_address(group, request) -> str:
    """The client's address. Behind ``PROXY_HOPS`` trusted proxies it is the address the
    outermost of them saw (that many entries from the right of X-Forwarded-For; anything
    further left is whatever the client claimed); without proxies, the connection's.
    Behind a proxy the connection's address is the proxy's, and every client would share
    one limit. (``group`` is django-ratelimit's key-function signature.)"""
    hops = getattr(settings, "PROXY_HOPS", 0)
    if hops:
        forwarded = [part.strip() for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if part.strip()]
        if len(forwarded) >= hops:
            return forwarded[-hops]
    return request.META.get("REMOTE_ADDR", "")


def too_many_requests(request, *, retry_after: int, what: str, status: int = 429):
    """The friendly 429 page: what was limited and when to try again."""
    retry_after = max(1, int(retry_after))
    minutes = math.ceil(retry_after / 60)
    wait = f"{minutes} minute{'s' if minutes != 1 else ''}" if retry_after >= 60 else f"{retry_after} seconds"
    response = render(request, "429.html", {"what": what, "wait": wait}, status=status)
    response["Retry-After"] = str(retry_after)
    return response


def rate_limit(*, group: str, rate_setting: str, what: str):
    """Limit a view's POSTs per client address to ``settings.<rate_setting>`` (e.g.
    "20/10m"; empty: no limit). GETs (showing the form) are never counted."""

    def decorator(view):
        @wraps(view)
        def wrapped(request, *args, **kwargs):
            rate = getattr(settings, rate_setting, "") or None
            if request.method == "POST" and rate:
                usage = get_usage(request, group=group, key=client_address, rate=rate, method="POST", increment=True)
                if usage is not None and usage["should_limit"]:
                    return too_many_requests(request, retry_after=usage["time_left"], what=what)
            return view(request, *args, **kwargs)

        return wrapped

    return decorator
