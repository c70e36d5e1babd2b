"""A workspace's staffing rules per channel (kpis.staffing.planning.ChannelRules, stored).
A channel without a row gets ``default_rules``."""
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models

from kpis.staffing.planning import BACKLOG, ERLANG_A, ERLANG_C, QUEUE, ChannelRules


class StaffingChannel(models.Model):
    class Mode(models.TextChoices):
        QUEUE = QUEUE, "Live queue (phone, chat): answered within seconds"
        BACKLOG = BACKLOG, "Backlog (email, social): answered within hours"

    class Method(models.TextChoices):
        ERLANG_A = ERLANG_A, "Erlang A (customers hang up: measured patience)"
        ERLANG_C = ERLANG_C, "Erlang C (nobody hangs up)"

    channel = models.CharField(max_length=50, unique=True)
    mode = models.CharField(max_length=8, choices=Mode.choices)
    method = models.CharField(max_length=9, choices=Method.choices, default=ERLANG_A)
    target_percent = models.FloatField(validators=[MinValueValidator(1), MaxValueValidator(100)])
    within_seconds = models.PositiveIntegerField(default=60, validators=[MinValueValidator(1)])
    within_hours = models.PositiveIntegerField(default=24, validators=[MinValueValidator(1), MaxValueValidator(168)])
    # Blank: measured from the conversations (resolved − first response; patience from waits).
    handle_time_seconds = models.PositiveIntegerField(null=True, blank=True, validators=[MinValueValidator(1)])
    patience_seconds = models.PositiveIntegerField(null=True, blank=True, validators=[MinValueValidator(1)])
    concurrency = models.PositiveSmallIntegerField(default=1, validators=[MinValueValidator(1), MaxValueValidator(20)])
    max_occupancy_percent = models.FloatField(default=85, validators=[MinValueValidator(1), MaxValueValidator(100)])
    shrinkage_percent = models.FloatField(default=30, validators=[MinValueValidator(0), MaxValueValidator(95)])
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self):
        return f"Staffing rules of {self.channel}"

    def as_rules(self) -> ChannelRules:
        return ChannelRules(channel=self.channel, mode=self.mode, method=self.method, target=self.target_percent / 100,
                            within_seconds=self.within_seconds, within_hours=self.within_hours,
                            handle_time=self.handle_time_seconds, patience=self.patience_seconds,
                            concurrency=self.concurrency, max_occupancy=self.max_occupancy_percent / 100,
                            shrinkage=self.shrinkage_percent / 100)
