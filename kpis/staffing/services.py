from django.db import transaction

from kpis.staffing.forms import RULE_FIELDS
from kpis.staffing.models import StaffingChannel


@transaction.atomic
def staffing_channel_save(*, channel: str, **rules) -> StaffingChannel:
    """Save ``channel``'s staffing rules (the StaffingRulesForm fields, validated)."""
    unknown = set(rules) - set(RULE_FIELDS)
    if unknown:
        raise TypeError(f"unknown staffing rules: {sorted(unknown)}")
    row, _ = StaffingChannel.objects.update_or_create(channel=channel, defaults=rules)
    return row


@transaction.atomic
def staffing_channel_reset(*, channel: str) -> bool:
    """Back to the default rules of ``channel``; True when it had rules of its own."""
    deleted, _ = StaffingChannel.objects.filter(channel=channel).delete()
    return bool(deleted)
