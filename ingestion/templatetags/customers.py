"""Links to the one-customer view from wherever a customer id is shown."""
from django import template
from django.utils.html import format_html

from ingestion.links import customer_path
from ingestion.templatetags.records import EMPTY

register = template.Library()


@register.filter
def customer_url(external_id: str) -> str:
    return customer_path(str(external_id))


@register.simple_tag
def customer_link(external_id, text=None):
    """``<a href="/customers/<id>/">id</a>`` (or ``text``); a dash when there is no id."""
    if external_id in (None, ""):
        return EMPTY
    return format_html('<a class="customer-link" href="{}">{}</a>', customer_url(external_id),
                       external_id if text is None else text)
