"""Writes for people and API keys, always inside the current workspace's schema."""
import secrets
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.contrib.auth.password_validation import validate_password
from django.core import signing
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import connection, transaction
from django.utils import timezone

from tenants.accounts.models import ApiKey, Invitation, Role, User, email_normalise
from tenants.accounts.selectors import api_key_hash, invitation_token
from tenants.tasking import enqueue

API_KEY_PREFIX = "pulse"
HANDOFF_SALT = "pulse.accounts.handoff"
HANDOFF_MAX_AGE = 120  # seconds between sign-up on the public site and landing in the workspace


# ---------------------------------------------------------------- invitations


def invitation_link(invitation: Invitation) -> str:
    from django.urls import reverse

    return f"{connection.tenant.url}{reverse('accounts:invitation_accept', args=[invitation_token(invitation)])}"


@transaction.atomic
def invitation_create(*, email: str, role: str, invited_by: User) -> Invitation:
    """Invite ``email`` with ``role``; inviting again renews the link and the role."""
    email = email_normalise(email)
    try:
        validate_email(email)
    except ValidationError:
        raise ValidationError({"email": ["Enter a valid email address."]}) from None
    if role not in Role.values:
        raise ValidationError({"role": [f"Choose a role: {', '.join(Role.labels)}."]})
    if User.objects.filter(email=email).exists():
        raise ValidationError({"email": [f"{email} is already a member of this workspace."]})
    expires_at = timezone.now() + timedelta(days=settings.PULSE_INVITATION_DAYS)
    invitation = Invitation.objects.select_for_update().filter(email=email, accepted_at__isnull=True, revoked_at__isnull=True).first()
    if invitation is None:
        invitation = Invitation(email=email)
    invitation.role, invitation.invited_by, invitation.expires_at = role, invited_by, expires_at
    invitation.nonce = secrets.token_hex(16)  # a fresh link: any earlier one stops working
    invitation.save()
    enqueue("tenants.accounts.tasks.invitation_send_email_task", invitation.pk)
    return invitation


@transaction.atomic
def invitation_revoke(*, invitation: Invitation) -> None:
    if invitation.accepted_at is None:
        invitation.revoked_at = timezone.now()
        invitation.save(update_fields=["revoked_at"])


@transaction.atomic
def invitation_accept(*, invitation: Invitation, full_name: str, password: str) -> User:
    invitation = Invitation.objects.select_for_update().get(pk=invitation.pk)
    if invitation.status != "pending":
        raise ValidationError(f"This invitation is {invitation.status}; ask your team lead for a new one.")
    full_name = (full_name or "").strip()
    errors = {}
    if not full_name:
        errors["full_name"] = ["Enter your name."]
    try:
        validate_password(password, user=User(email=invitation.email, full_name=full_name))
    except ValidationError as exc:
        errors["password"] = exc.messages
    if errors:
        raise ValidationError(errors)
    if User.objects.filter(email=invitation.email).exists():
        raise ValidationError(f"{invitation.email} is already a member of this workspace; sign in instead.")
    user = User.objects.create_user(invitation.email, password, full_name=full_name, role=invitation.role)
    invitation.accepted_at, invitation.user = timezone.now(), user
    invitation.save(update_fields=["accepted_at", "user"])
    return user


# ---------------------------------------------------------------- members

def _ensure_a_team_lead_remains(user: User, *, new_role: str | None = None, deactivating: bool = False) -> None:
    losing_lead = user.role == Role.TEAM_LEAD and user.is_active and (deactivating or new_role not in (None, Role.TEAM_LEAD))
    if losing_lead and not User.objects.filter(role=Role.TEAM_LEAD, is_active=True).exclude(pk=user.pk).exists():
        raise ValidationError("A workspace needs at least one active team lead: make someone else team lead first.")


@transaction.atomic
def user_role_change(*, user: User, role: str) -> User:
    if role not in Role.values:
        raise ValidationError(f"Choose a role: {', '.join(Role.labels)}.")
    user = User.objects.select_for_update().get(pk=user.pk)
    _ensure_a_team_lead_remains(user, new_role=role)
    user.role = role
    user.save(update_fields=["role"])
    return user


@transaction.atomic
def user_set_active(*, user: User, active: bool) -> User:
    user = User.objects.select_for_update().get(pk=user.pk)
    if not active:
        _ensure_a_team_lead_remains(user, deactivating=True)
    user.is_active = active
    # No session clean-up needed: the auth backend refuses inactive users on every request.
    user.save(update_fields=["is_active"])
    return user


def password_reset_request(*, email: str) -> None:
    """Email a reset link if ``email`` belongs to an active member. Says nothing either way,
    so the form cannot be used to find out who is a member."""
    user = User.objects.filter(email=email_normalise(email), is_active=True).first()
    if user is not None and user.has_usable_password():
        enqueue("tenants.accounts.tasks.password_reset_send_email_task", user.pk)


def session_clear_expired() -> int:
    """Delete this workspace's expired sessions. Django's clearsessions only sees the schema
    it runs in, so beat fans this out per workspace."""
    from django.contrib.sessions.models import Session

    deleted, _ = Session.objects.filter(expire_date__lt=timezone.now()).delete()
    return deleted


# ---------------------------------------------------------------- sign-in hand-off

def handoff_token_make(*, user: User) -> str:
    """A short-lived, single-use token that signs ``user`` in on the workspace's own host
    right after sign-up on the public site (cookies cannot cross hosts)."""
    return signing.dumps({"u": user.pk, "s": connection.schema_name, "n": secrets.token_hex(8)}, salt=HANDOFF_SALT)


def handoff_token_redeem(*, token: str) -> User | None:
    try:
        data = signing.loads(token, salt=HANDOFF_SALT, max_age=HANDOFF_MAX_AGE)
    except signing.BadSignature:
        return None
    if data.get("s") != connection.schema_name:
        return None
    # cache.add is atomic in Redis: the second use of the same token finds the key taken.
    if not cache.add(f"handoff:{data['n']}", 1, HANDOFF_MAX_AGE * 2):
        return None
    return User.objects.filter(pk=data["u"], is_active=True).first()


# ---------------------------------------------------------------- API keys


@dataclass(frozen=True)
class NewApiKey:
    api_key: ApiKey
    raw: str  # shown once, never stored


@transaction.atomic
def api_key_create(*, name: str, role: str = Role.TEAM_LEAD, created_by: User | None = None) -> NewApiKey:
    name = (name or "").strip()
    if not name:
        raise ValidationError({"name": ["Give the key a name, such as the integration that will use it."]})
    if len(name) > 80:
        raise ValidationError({"name": ["Keep the name under 80 characters."]})
    if role not in Role.values:
        raise ValidationError({"role": [f"Choose a role: {', '.join(Role.labels)}."]})
    prefix = secrets.token_hex(4)
    raw = f"{API_KEY_PREFIX}_{prefix}_{secrets.token_urlsafe(32)}"
    key = ApiKey.objects.create(name=name, role=role, prefix=prefix, key_hash=api_key_hash(raw), created_by=created_by)
    return NewApiKey(api_key=key, raw=raw)


@transaction.atomic
def api_key_revoke(*, api_key: ApiKey) -> ApiKey:
    if api_key.revoked_at is None:
        api_key.revoked_at = timezone.now()
        api_key.save(update_fields=["revoked_at"])
    return api_key


def api_key_touch(*, api_key: ApiKey) -> None:
    """Record use at most once a minute, so a busy integration does not write on every call."""
    now = timezone.now()
    if api_key.last_used_at is None or now - api_key.last_used_at > timedelta(minutes=1):
        ApiKey.objects.filter(pk=api_key.pk).update(last_used_at=now)
        api_key.last_used_at = now
