"""Showing stored dataset values in the data browser's templates."""
import json

from django import template
from django.utils.html import escape
from django.utils.safestring import mark_safe

register = template.Library()


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


@register.filter
def breakable(name: str) -> str:
    """A field name that may wrap after its underscores (customer_external_id), so the
    records table's headers stay narrow."""
    return mark_safe("_<wbr>".join(escape(part) for part in name.split("_")))
