"""Webhook target URLs: what is accepted, and how one is shown.

The target is the integrator's choice (a local receiver included), so no address is
refused for where it points; the checks are about what can be POSTed to at all. A URL may
carry credentials (``https://user:pass@host/``, some receivers use basic auth); they are
sent but never displayed or logged."""
from urllib.parse import urlsplit, urlunsplit

from django.core.exceptions import ValidationError

SCHEMES = ("http", "https")
URL_MAX_LENGTH = 2000


def webhook_url_clean(value: str) -> str:
    """``value`` stripped, or ValidationError with the message a form shows."""
    url = (value or "").strip()
    if not url:
        raise ValidationError("Enter the URL Pulse should POST events to.")
    if len(url) > URL_MAX_LENGTH:
        raise ValidationError(f"Webhook URL is too long ({len(url)} characters; at most {URL_MAX_LENGTH}).")
    scheme = url.partition(":")[0].lower()
    if scheme not in SCHEMES or not url[len(scheme):].startswith("://"):
        raise ValidationError("Webhook URL must start with http:// or https://.")
    if any(ch.isspace() or ord(ch) < 32 or ord(ch) == 127 for ch in url):
        raise ValidationError("Webhook URL cannot contain spaces or control characters.")
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises ValueError for a port that is not a number
    except ValueError:
        raise ValidationError("Webhook URL is not a valid URL (check the host and port).") from None
    if not parts.hostname:
        raise ValidationError("Webhook URL has no host.")
    return url


def url_display(url: str) -> str:
    """``url`` without its user and password, for pages, logs and error texts."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return "(invalid URL)"
    if "@" not in parts.netloc:
        return url
    host = parts.netloc.rpartition("@")[2]
    return urlunsplit(parts._replace(netloc=f"…@{host}"))
