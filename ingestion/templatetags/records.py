"""Showing stored dataset values in the data browser's templates."""
import json

from django import template
from django.utils import timezone
from django.utils.html import escape, format_html
from django.utils.safestring import mark_safe
from django.utils.text import Truncator

from ingestion.links import customer_path

register = template.Library()

EMPTY = mark_safe('<span class="muted">—</span>')
# Fields naming a customer by their external id (events name them as the user).
CUSTOMER_FIELDS = ("customer_external_id", "user_external_id")
# Longer text is cut in the records table; the whole value is in the cell's title.
CELL_CHARS = 40


@register.filter
def field_value(record, name: str):
    """``record.<name>``: the browser's columns come from the dataset's field definitions."""
    return getattr(record, name)


@register.filter
def as_text(value) -> str:
    """A list, JSON or plain value as one line of text; "" when empty. Lists are joined with
    "; ", the way an import reads them."""
    if value is None:
        return ""
    if isinstance(value, list):
        return "; ".join(str(item) for item in value)
    if isinstance(value, dict):
        return json.dumps(value, ensure_ascii=False, sort_keys=True, default=str) if value else ""
    return str(value)


@register.filter
def pretty_json(value) -> str:
    return json.dumps(value, ensure_ascii=False, sort_keys=True, indent=2, default=str)


@register.simple_tag
def field_cell(record, field, full: bool = False):
    """The HTML of one stored value, by the field's kind: timestamps in the active (the
    workspace's) time zone, booleans as yes/no, lists and JSON as text. In the table
    (``full`` false) long text is cut and kept whole in a title; on a row's page
    (``full``) everything is shown, JSON indented. One tag per cell rather than template
    branches: a page of 50 rows has up to 800 cells."""
    value = getattr(record, field.name)
    if field.name in CUSTOMER_FIELDS and value:
        # A customer id opens the customer's page (ingestion.views.customers).
        return format_html('<a class="customer-link" href="{}"{}>{}</a>', customer_path(value),
                           format_html(' title="{}"', value) if not full and len(value) > CELL_CHARS else "",
                           value if full else Truncator(value).chars(CELL_CHARS))
    if field.kind == "timestamp" and value is not None:
        local = timezone.localtime(value)
        return format_html('<time datetime="{}">{}</time>', local.isoformat(),
                           local.strftime("%Y-%m-%d %H:%M:%S" if full else "%Y-%m-%d %H:%M"))
    if field.kind == "month":
        return value.strftime("%Y-%m")
    if field.kind == "boolean":
        return "yes" if value else "no"
    if field.kind == "json" and full and value:
        return format_html('<pre class="json">{}</pre>', pretty_json(value))
    text = as_text(value)
    if not text:
        return EMPTY
    if full or len(text) <= CELL_CHARS:
        return text
    return format_html('<span title="{}">{}</span>', text, Truncator(text).chars(CELL_CHARS))


@register.filter
def breakable(name: str) -> str:
    """A field name that may wrap after its underscores (customer_external_id), so the
    records table's headers stay narrow."""
    return mark_safe("_<wbr>".join(escape(part) for part in name.split("_")))
