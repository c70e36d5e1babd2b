import hashlib
import re

from django.db.models import QuerySet
from django.utils.crypto import constant_time_compare, salted_hmac

from tenants.accounts.models import ApiKey, Invitation, User

API_KEY_RE = re.compile(r"^pulse_([0-9a-f]{8})_[A-Za-z0-9_-]{43}$")


def user_list() -> QuerySet[User]:
    return User.objects.order_by("-is_active", "full_name", "email")


def invitation_list_open() -> QuerySet[Invitation]:
    return Invitation.objects.filter(accepted_at__isnull=True, revoked_at__isnull=True).select_related("invited_by")


def api_key_list() -> QuerySet[ApiKey]:
    return ApiKey.objects.select_related("created_by").order_by("revoked_at", "-created_at")


def api_key_is_well_formed(raw: str) -> bool:
    return bool(API_KEY_RE.match(raw or ""))


def api_key_get_active(*, raw: str) -> ApiKey | None:
    """The active key of *this* workspace matching ``raw``. Keys of other workspaces live in
    other schemas, so they are simply not found here."""
    if not api_key_is_well_formed(raw):
        return None
    return ApiKey.objects.active().filter(key_hash=api_key_hash(raw)).first()


def workspace_setup_counts() -> dict[str, int]:
    """What the dashboard's set-up checklist shows."""
    return {
        "members": User.objects.filter(is_active=True).count(),
        "pending_invitations": Invitation.objects.pending().count(),
        "api_keys": ApiKey.objects.active().count(),
    }


def invitation_token(invitation: Invitation) -> str:
    digest = salted_hmac("pulse.accounts.invitation", f"{invitation.pk}:{invitation.email}:{invitation.nonce}", algorithm="sha256")
    return f"{invitation.pk}-{digest.hexdigest()}"


def invitation_from_token(token: str) -> Invitation | None:
    """The pending invitation a token opens, or None (unknown, tampered, used or expired)."""
    pk, _, _ = (token or "").partition("-")
    if not pk.isdigit():
        return None
    invitation = Invitation.objects.pending().filter(pk=int(pk)).first()
    if invitation is None or not constant_time_compare(invitation_token(invitation), token):
        return None
    return invitation


def api_key_hash(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()
