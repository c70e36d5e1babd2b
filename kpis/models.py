"""KPI snapshots and the workspace's KPI settings (tenant tables)."""
import secrets
import uuid

from django.contrib.postgres.fields import ArrayField
from django.db import models
from django.utils import timezone

from kpis.alerting import SOCIAL_SPIKE


class KpiSnapshot(models.Model):
    """One KPI value for one period and segment, as last computed. ``segment`` is '' for
    the whole workspace (``segment_kind`` '' too). A period without data has no row."""

    kpi = models.CharField(max_length=64)
    period_kind = models.CharField(max_length=8)
    period_start = models.DateField()
    segment_kind = models.CharField(max_length=32, blank=True)
    segment = models.CharField(max_length=255, blank=True)
    value = models.FloatField(null=True)
    numerator = models.FloatField(null=True)
    denominator = models.FloatField(null=True)
    extra = models.JSONField(default=dict, blank=True)
    computed_at = models.DateTimeField()

    class Meta:
        constraints = [models.UniqueConstraint(
            fields=["kpi", "period_kind", "segment_kind", "period_start", "segment"], name="kpi_snapshot_key")]


class KpiSettings(models.Model):
    """The workspace's KPI definitions in force (one row). Changing one recomputes the
    snapshots it affects."""

    visit_events = ArrayField(models.CharField(max_length=255), default=list)
    conversion_events = ArrayField(models.CharField(max_length=255), default=list)
    checkout_events = ArrayField(models.CharField(max_length=255), default=list)
    activation_events = ArrayField(models.CharField(max_length=255), default=list)
    activation_window_days = models.PositiveSmallIntegerField(default=7)
    repeat_contact_window_days = models.PositiveSmallIntegerField(default=7)
    fcr_include_abandoned = models.BooleanField(default=False)
    sla_target_hours = models.FloatField(default=24)
    business_hours_mttr = models.BooleanField(default=False)
    voice_channels = ArrayField(models.CharField(max_length=50), default=list)
    # Below this sample size (the n of a KPI's confidence interval) a value is shown greyed,
    # "too few to judge": no target status, no significance claim.
    min_sample_size = models.PositiveIntegerField(default=30)
    targets = models.JSONField(default=dict, blank=True)  # kpi key → {"target": float, "direction": "higher"|"lower"}
    updated_at = models.DateTimeField(auto_now=True)

    DEFAULTS = {
        "visit_events": ["visit"], "conversion_events": ["purchase"], "checkout_events": ["checkout_started"],
        "activation_events": ["activated"], "voice_channels": ["phone"],
    }

    @classmethod
    def load(cls) -> "KpiSettings":
        """The settings in force: the workspace's row, or the defaults while none was saved
        (a read never writes; ``kpi_settings_update`` stores the row on the first change)."""
        return cls.objects.first() or cls(**cls.DEFAULTS)

    def as_params(self) -> dict:
        """The settings as SQL parameters."""
        return {
            "visit_events": self.visit_events, "conversion_events": self.conversion_events,
            "checkout_events": self.checkout_events, "activation_events": self.activation_events,
            "activation_window_days": self.activation_window_days,
            "repeat_contact_window_days": self.repeat_contact_window_days,
            "fcr_include_abandoned": self.fcr_include_abandoned, "sla_target_hours": self.sla_target_hours,
            "business_hours_mttr": self.business_hours_mttr, "voice_channels": self.voice_channels,
            **self.calendar_params(),
        }

    def calendar_params(self) -> dict:
        """The workspace's opening hours (parallel arrays: ISO weekday, opens, closes) and
        holidays, for business-hours resolution time; empty when that mode is off. Passed
        as parameters, so the KPI SQL reads no calendar table: a recompute then locks only
        the datasets' tables (a workspace being deleted meanwhile waits, never deadlocks)."""
        if not self.business_hours_mttr:
            return {"open_weekdays": [], "opens_at": [], "closes_at": [], "holidays": []}
        from tenants.workspace.models import BusinessHours, Holiday

        hours = list(BusinessHours.objects.values_list("weekday", "opens_at", "closes_at"))
        return {"open_weekdays": [row[0] for row in hours], "opens_at": [row[1] for row in hours],
                "closes_at": [row[2] for row in hours], "holidays": list(Holiday.objects.values_list("date", flat=True))}


class KpiRecompute(models.Model):
    """A recompute of every snapshot requested by a team lead (page button or API), with
    its progress, for polling."""

    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        RUNNING = "running", "Running"
        DONE = "done", "Done"
        FAILED = "failed", "Failed"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.QUEUED)
    kpis_total = models.PositiveSmallIntegerField(default=0)
    kpis_done = models.PositiveSmallIntegerField(default=0)
    rows_written = models.PositiveIntegerField(default=0)
    error = models.TextField(blank=True)
    requested_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    # The KPIs to recompute (a settings change recomputes only those it affects); empty: every KPI.
    keys = ArrayField(models.CharField(max_length=64), default=list, blank=True)

    @property
    def progress(self) -> float:
        if self.status == self.Status.DONE:
            return 1.0
        return round(self.kpis_done / self.kpis_total, 4) if self.kpis_total else 0.0

    @property
    def is_finished(self) -> bool:
        return self.status in (self.Status.DONE, self.Status.FAILED)


class AlertRule(models.Model):
    """A team lead's rule on one KPI, per period kind, for the workspace or each value of a
    segment (CSAT by channel: one alert per channel), judged after every recompute on the
    latest finished period (a period under way is partial: a day's count at noon is not low).

    - threshold: fires when the value is below ``low`` or above ``high`` (either may be empty);
    - off_target: fires when the value's target status is off-target;
    - anomaly: fires when the value leaves its own trailing band, the mean of the previous
      ``history`` finished periods ± ``k`` standard deviations (at least ``min_history`` of
      them needed), on either side or only the side ``direction`` names. For a count (mention
      volume, conversations) a period without data after the first one counted 0: a quiet
      day is history, not a gap.

    The contract's social spike alert (kpis.md #9: a day's own-brand mention volume above the
    trailing 28-day mean by 3 standard deviations) is one of these: every workspace starts
    with it (``kpis.alerting.SOCIAL_SPIKE``), and a team lead may mute or delete it like any other."""

    class Kind(models.TextChoices):
        THRESHOLD = "threshold", "Crosses a bound"
        OFF_TARGET = "off_target", "Turns off target"
        ANOMALY = "anomaly", "Leaves its usual range"

    class Direction(models.TextChoices):
        BOTH = "both", "Above or below it"
        ABOVE = "above", "Above it only"
        BELOW = "below", "Below it only"

    kpi = models.CharField(max_length=64)
    period_kind = models.CharField(max_length=8, default="day")
    segment_kind = models.CharField(max_length=32, blank=True)  # '': the whole workspace
    kind = models.CharField(max_length=12, choices=Kind.choices)
    low = models.FloatField(null=True, blank=True)
    high = models.FloatField(null=True, blank=True)
    k = models.FloatField(default=3.0)
    history = models.PositiveSmallIntegerField(default=28)
    min_history = models.PositiveSmallIntegerField(default=4)
    direction = models.CharField(max_length=8, choices=Direction.choices, default=Direction.BOTH)
    muted = models.BooleanField(default=False)  # evaluated, but fires nothing while muted
    created_by = models.ForeignKey("accounts.User", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    @property
    def is_social_spike(self) -> bool:
        """Whether this is the contract's social spike alert every workspace starts with."""
        return all(getattr(self, field) == value for field, value in SOCIAL_SPIKE.items())

    @property
    def kpi_label(self) -> str:
        from kpis.registry import KPIS  # the registry loads the KPI definitions, which read models

        kpi = KPIS.get(self.kpi)
        return kpi.label if kpi else self.kpi


class Alert(models.Model):
    """A rule broken in one period by one segment value: one row per (rule, period, segment)
    whatever the number of recomputes (idempotent). It clears when a recompute finds the
    value back within the rule, and fires again (``times`` + 1) if it breaks again."""

    rule = models.ForeignKey(AlertRule, on_delete=models.CASCADE, related_name="alerts")
    period_start = models.DateField()
    segment = models.CharField(max_length=255, blank=True)
    value = models.FloatField()
    expected_low = models.FloatField(null=True)
    expected_high = models.FloatField(null=True)
    message = models.TextField()
    fired_at = models.DateTimeField()
    cleared_at = models.DateTimeField(null=True, blank=True)
    times = models.PositiveSmallIntegerField(default=1)
    # How many of its firings were emailed: a firing is claimed (this set to ``times``) before
    # the email goes, so a task run twice, or re-delivered after a worker died, emails once.
    notified_times = models.PositiveSmallIntegerField(default=0)
    acknowledged_at = models.DateTimeField(null=True, blank=True)
    acknowledged_by = models.ForeignKey("accounts.User", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["rule", "period_start", "segment"], name="alert_rule_period_segment")]
        ordering = ["-fired_at"]

    @property
    def is_firing(self) -> bool:
        return self.cleared_at is None


# --- Scheduled digest emails (issue #12) -------------------------------------------------

# The cards a digest shows until a team lead chooses: the headline KPI of each area.
DIGEST_DEFAULT_KPIS = ("nps", "csat", "first_contact_resolution", "mean_time_to_resolution", "net_revenue_retention",
                       "customer_retention_rate")


def _digest_default_kpis() -> list[str]:
    return list(DIGEST_DEFAULT_KPIS)


def _digest_token() -> str:
    # 256 random bits: the token is the whole capability of the unsubscribe link.
    return secrets.token_urlsafe(32)


class DigestSettings(models.Model):
    """What the workspace's digest shows (one row, pk 1): the KPI cards a team lead chose,
    in their order (keys of kpis.registry)."""

    kpis = ArrayField(models.CharField(max_length=64), default=_digest_default_kpis)
    updated_at = models.DateTimeField(auto_now=True)

    @classmethod
    def load(cls) -> "DigestSettings":
        """The row, or the defaults while none was saved (a read never writes)."""
        return cls.objects.filter(pk=1).first() or cls(pk=1)


class DigestFrequency(models.TextChoices):
    WEEKLY = "weekly", "Weekly (Monday 08:00)"
    DAILY = "daily", "Daily (08:00)"
    MONTHLY = "monthly", "Monthly (the 1st, 08:00)"


class DigestSubscription(models.Model):
    """One member's digest: off until they opt in. ``subscribed_since`` is when they last
    opted in or changed frequency: only periods whose send time comes after it are sent
    (opting in on a Tuesday does not mail last week's digest at once)."""

    user = models.OneToOneField("accounts.User", on_delete=models.CASCADE, related_name="digest_subscription")
    active = models.BooleanField(default=False)
    frequency = models.CharField(max_length=8, choices=DigestFrequency.choices, default=DigestFrequency.WEEKLY)
    token = models.CharField(max_length=64, unique=True, default=_digest_token)
    subscribed_since = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        indexes = [models.Index(fields=["frequency"], name="digest_sub_active", condition=models.Q(active=True))]


class DigestDelivery(models.Model):
    """One digest of one subscription for one period: the unique key makes a period's
    digest claimed once whoever finds it due. ``pending`` → ``sending`` (committed before
    the email goes to the mail server) → ``sent``; a row left in ``sending`` belonged to a
    worker that died mid-send and is never sent again (``failed``, delivery uncertain)."""

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        SENDING = "sending", "Sending"
        SENT = "sent", "Sent"
        FAILED = "failed", "Failed"

    subscription = models.ForeignKey(DigestSubscription, on_delete=models.CASCADE, related_name="deliveries")
    frequency = models.CharField(max_length=8, choices=DigestFrequency.choices)
    period_start = models.DateField()
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    error = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    claimed_at = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["subscription", "frequency", "period_start"],
                                               name="digest_delivery_once")]
        # Plain, not partial: a partial IN (...) index prints back differently and breaks
        # the workspace template clone's exact copy (tenants.schema_clone).
        indexes = [models.Index(fields=["status", "created_at"], name="digest_delivery_status")]
