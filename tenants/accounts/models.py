"""People, invitations and API keys. One copy of these tables per workspace schema, so a
user, a session or a key of one workspace does not exist in another."""
from django.contrib.auth.base_user import AbstractBaseUser, BaseUserManager
from django.contrib.auth.models import PermissionsMixin
from django.db import models
from django.utils import timezone


class Role(models.TextChoices):
    TEAM_LEAD = "team_lead", "Team lead"
    AGENT = "agent", "Agent"
    VIEWER = "viewer", "Viewer"


# What each role may do grows with its rank: a team lead can do all an agent can.
ROLE_RANK = {Role.VIEWER: 1, Role.AGENT: 2, Role.TEAM_LEAD: 3}

ROLE_DESCRIPTIONS = {
    Role.TEAM_LEAD: "Everything: data, surveys, settings, team and API keys.",
    Role.AGENT: "Reads KPIs and surveys.",
    Role.VIEWER: "Reads KPIs.",
}


def role_at_least(role: str, minimum: str) -> bool:
    return ROLE_RANK.get(role, 0) >= ROLE_RANK[minimum]


def email_normalise(value: str | None) -> str:
    """An email address as members are stored and looked up: surrounding whitespace
    (spaces, tabs, line breaks — what a form field strips) removed, then lower-cased
    (``create_user`` stores addresses lower-cased and sign-in looks them up exactly).
    Counters keyed by an address (the sign-in lockout) use it too, so ' Lead@x.test' and
    '\tlead@x.test' count as the one member they sign in as."""
    return (value or "").strip().lower()


class UserManager(BaseUserManager):
    use_in_migrations = True

    def create_user(self, email, password=None, **extra):
        if not email:
            raise ValueError("An email address is required.")
        user = self.model(email=self.normalize_email(email).lower(), **extra)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_superuser(self, email, password=None, **extra):
        extra.setdefault("is_staff", True)
        extra.setdefault("is_superuser", True)
        extra.setdefault("role", Role.TEAM_LEAD)
        return self.create_user(email, password, **extra)


class User(AbstractBaseUser, PermissionsMixin):
    email = models.EmailField(unique=True)
    full_name = models.CharField(max_length=150, blank=True)
    role = models.CharField(max_length=20, choices=Role.choices, default=Role.VIEWER)
    is_active = models.BooleanField(default=True)
    is_staff = models.BooleanField(default=False)
    date_joined = models.DateTimeField(default=timezone.now)

    objects = UserManager()

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS = ["full_name"]

    class Meta:
        ordering = ["full_name", "email"]

    def __str__(self):
        return self.full_name or self.email

    def has_role(self, minimum: str) -> bool:
        return self.is_active and role_at_least(self.role, minimum)

    @property
    def is_team_lead(self) -> bool:
        return self.has_role(Role.TEAM_LEAD)

    @property
    def reads_surveys(self) -> bool:
        """Agents and team leads read surveys and their answers; viewers only KPIs."""
        return self.has_role(Role.AGENT)


class InvitationQuerySet(models.QuerySet):
    def pending(self):
        return self.filter(accepted_at__isnull=True, revoked_at__isnull=True, expires_at__gt=timezone.now())


class Invitation(models.Model):
    """A teammate invited by email. The link's token is derived from ``nonce`` with the
    secret key (like Django's password-reset tokens), so the database alone cannot
    rebuild a working link."""

    email = models.EmailField()
    role = models.CharField(max_length=20, choices=Role.choices)
    nonce = models.CharField(max_length=64)
    invited_by = models.ForeignKey(User, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    expires_at = models.DateTimeField()
    accepted_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    user = models.ForeignKey(User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")

    objects = InvitationQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["email"],
                condition=models.Q(accepted_at__isnull=True, revoked_at__isnull=True),
                name="one_open_invitation_per_email",
            )
        ]

    @property
    def status(self) -> str:
        if self.accepted_at:
            return "accepted"
        if self.revoked_at:
            return "revoked"
        if self.expires_at <= timezone.now():
            return "expired"
        return "pending"


class ApiKeyQuerySet(models.QuerySet):
    def active(self):
        return self.filter(revoked_at__isnull=True)


class ApiKey(models.Model):
    """A named key for the REST API. Only a SHA-256 of the key is stored: the key has 256
    bits of randomness, so a slow password hash would add latency and no safety."""

    name = models.CharField(max_length=80)
    prefix = models.CharField(max_length=16, unique=True)
    key_hash = models.CharField(max_length=64, unique=True)
    role = models.CharField(max_length=20, choices=Role.choices, default=Role.TEAM_LEAD)
    created_by = models.ForeignKey(User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    objects = ApiKeyQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]

    def __str__(self):
        return f"{self.name} ({self.prefix}…)"

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None
