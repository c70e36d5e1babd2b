"""The six datasets a workspace imports (../shared/spec/datasets.md), one table each in the
workspace's schema. Rows are keyed by the sender's ``external_id`` (revenue: customer,
product and month), so re-sending a row updates it. References to customers are kept as
the customer's external id, so files can arrive in any order. Columns the dataset does not
define are kept in ``extra``, never dropped."""
from django.contrib.postgres.fields import ArrayField
from django.db import models


class Record(models.Model):
    extra = models.JSONField(default=dict, blank=True)
    imported_at = models.DateTimeField(auto_now=True)

    class Meta:
        abstract = True


class Customer(Record):
    external_id = models.CharField(max_length=255, unique=True)
    signed_up_at = models.DateTimeField(db_index=True)
    name = models.CharField(max_length=255, blank=True)
    email = models.CharField(max_length=254, blank=True)
    plan = models.CharField(max_length=100, blank=True, db_index=True)
    churned_at = models.DateTimeField(null=True, blank=True, db_index=True)
    is_test = models.BooleanField(default=False)
    country = models.CharField(max_length=100, blank=True)


class Revenue(Record):
    customer_external_id = models.CharField(max_length=255)
    product = models.CharField(max_length=255, default="default")
    month = models.DateField(help_text="First day of the month")
    mrr = models.DecimalField(max_digits=14, decimal_places=2)
    currency = models.CharField(max_length=3)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["customer_external_id", "product", "month"], name="revenue_row_key")]
        indexes = [models.Index(fields=["month"], name="revenue_month")]


class Conversation(Record):
    external_id = models.CharField(max_length=255, unique=True)
    channel = models.CharField(max_length=50)
    created_at = models.DateTimeField(db_index=True)
    customer_external_id = models.CharField(max_length=255, blank=True, db_index=True)
    agent = models.CharField(max_length=255, blank=True)
    team = models.CharField(max_length=255, blank=True)
    first_response_at = models.DateTimeField(null=True, blank=True)
    resolved_at = models.DateTimeField(null=True, blank=True, db_index=True)
    contacts = models.PositiveIntegerField(default=1)
    reopened = models.BooleanField(default=False)
    abandoned = models.BooleanField(default=False)
    csat_score = models.PositiveSmallIntegerField(null=True, blank=True)
    tags = ArrayField(models.CharField(max_length=100), default=list, blank=True)
    subject = models.TextField(blank=True)


class Event(Record):
    external_id = models.CharField(max_length=255, unique=True)
    user_external_id = models.CharField(max_length=255)
    name = models.CharField(max_length=255)
    occurred_at = models.DateTimeField()
    properties = models.JSONField(default=dict, blank=True)
    session_id = models.CharField(max_length=255, blank=True)

    class Meta:
        indexes = [
            models.Index(fields=["name", "occurred_at"], name="event_name_time"),
            models.Index(fields=["user_external_id", "occurred_at"], name="event_user_time"),
        ]


class SurveyResponse(Record):
    class Kind(models.TextChoices):
        NPS = "nps", "NPS"
        CSAT = "csat", "CSAT"

    external_id = models.CharField(max_length=255, unique=True)
    kind = models.CharField(max_length=4, choices=Kind.choices)
    score = models.PositiveSmallIntegerField()
    responded_at = models.DateTimeField()
    customer_external_id = models.CharField(max_length=255, blank=True, db_index=True)
    comment = models.TextField(blank=True)
    channel = models.CharField(max_length=50, blank=True)
    agent = models.CharField(max_length=255, blank=True)

    class Meta:
        indexes = [models.Index(fields=["kind", "responded_at"], name="response_kind_time")]


class SocialMention(Record):
    class Sentiment(models.TextChoices):
        POSITIVE = "positive"
        NEUTRAL = "neutral"
        NEGATIVE = "negative"

    external_id = models.CharField(max_length=255, unique=True)
    platform = models.CharField(max_length=50)
    posted_at = models.DateTimeField(db_index=True)
    text = models.TextField()
    author = models.CharField(max_length=255, blank=True)
    url = models.TextField(blank=True)
    followers = models.PositiveIntegerField(null=True, blank=True)
    # Empty: the workspace's own brand.
    brand = models.CharField(max_length=255, blank=True)
    sentiment = models.CharField(max_length=8, choices=Sentiment.choices, blank=True)
