"""Links to the one-customer view, for every page that shows a customer id."""
from urllib.parse import urlencode

from django.urls import reverse


def customer_path(external_id: str) -> str:
    """The customer page's path, the id percent-encoded by reverse(). Browsers resolve "."
    and ".." path segments (even encoded: %2E) before sending, and the path converter does
    not match a line break, so an id with either is linked as ``/customers/?id=…`` instead,
    which shows the same page."""
    if external_id and "\n" not in external_id and "\r" not in external_id \
            and not any(part in (".", "..") for part in external_id.split("/")):
        return reverse("ingestion:customer", args=[external_id])
    return f"{reverse('ingestion:customers')}?{urlencode({'id': external_id})}"
