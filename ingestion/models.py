"""The six datasets a workspace imports (../shared/spec/datasets.md), one table each in the
workspace's schema. Rows are keyed by the sender's ``external_id`` (revenue: customer,
product and month), so re-sending a row updates it. References to customers are kept as
the customer's external id, so files can arrive in any order. Columns the dataset does not
define are kept in ``extra``, never dropped."""
import uuid

from django.contrib.postgres.fields import ArrayField
from django.contrib.postgres.indexes import BrinIndex
from django.db import models


class Record(models.Model):
    extra = models.JSONField(default=dict, blank=True)
    imported_at = models.DateTimeField(auto_now=True)

    class Meta:
        abstract = True


# Keys are unique constraints (not ``unique=True``) and indexes are declared in Meta (not
# ``db_index=True``): for text columns Django adds a second, varchar_pattern_ops index for
# LIKE queries that every imported row pays for. Instead the one unique index on
# external_id uses varchar_pattern_ops: it serves equality, ON CONFLICT and the data
# browser's prefix search.
def _key(model: str, *fields: str) -> models.UniqueConstraint:
    return models.UniqueConstraint(fields=list(fields), name=f"{model}_key", opclasses=["varchar_pattern_ops"] * len(fields))


class Customer(Record):
    external_id = models.CharField(max_length=255)
    signed_up_at = models.DateTimeField()
    name = models.CharField(max_length=255, blank=True)
    email = models.CharField(max_length=254, blank=True)
    plan = models.CharField(max_length=100, blank=True)
    churned_at = models.DateTimeField(null=True, blank=True)
    is_test = models.BooleanField(default=False)
    country = models.CharField(max_length=100, blank=True)

    class Meta:
        constraints = [_key("customer", "external_id")]
        indexes = [models.Index(fields=["signed_up_at"], name="customer_signed_up"),
                   models.Index(fields=["churned_at"], name="customer_churned"),
                   models.Index(fields=["plan"], name="customer_plan")]


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
    external_id = models.CharField(max_length=255)
    channel = models.CharField(max_length=50)
    created_at = models.DateTimeField()
    customer_external_id = models.CharField(max_length=255, blank=True)
    agent = models.CharField(max_length=255, blank=True)
    team = models.CharField(max_length=255, blank=True)
    first_response_at = models.DateTimeField(null=True, blank=True)
    resolved_at = models.DateTimeField(null=True, blank=True)
    contacts = models.PositiveIntegerField(default=1)
    reopened = models.BooleanField(default=False)
    abandoned = models.BooleanField(default=False)
    csat_score = models.PositiveSmallIntegerField(null=True, blank=True)
    tags = ArrayField(models.CharField(max_length=100), default=list, blank=True)
    subject = models.TextField(blank=True)

    class Meta:
        constraints = [_key("conversation", "external_id")]
        # Every index is paid for by every imported row (bench/ingest.py: a B-tree on
        # customer_external_id and one on resolved_at doubled the cost of loading 1M rows).
        # created_at keeps a B-tree (period filters, newest first); resolved_at, which
        # follows created_at on disk, gets a BRIN index at almost no cost; conversations of
        # one customer are read by window functions over a period, not by lookups.
        indexes = [models.Index(fields=["created_at"], name="conversation_created"),
                   BrinIndex(fields=["resolved_at"], name="conversation_resolved")]


class Event(Record):
    external_id = models.CharField(max_length=255)
    user_external_id = models.CharField(max_length=255)
    name = models.CharField(max_length=255)
    occurred_at = models.DateTimeField()
    properties = models.JSONField(default=dict, blank=True)
    session_id = models.CharField(max_length=255, blank=True)

    class Meta:
        constraints = [_key("event", "external_id")]
        indexes = [
            models.Index(fields=["name", "occurred_at"], name="event_name_time"),
            models.Index(fields=["user_external_id", "occurred_at"], name="event_user_time"),
        ]


class SurveyResponse(Record):
    class Kind(models.TextChoices):
        NPS = "nps", "NPS"
        CSAT = "csat", "CSAT"

    external_id = models.CharField(max_length=255)
    kind = models.CharField(max_length=4, choices=Kind.choices)
    score = models.PositiveSmallIntegerField()
    responded_at = models.DateTimeField()
    customer_external_id = models.CharField(max_length=255, blank=True)
    comment = models.TextField(blank=True)
    channel = models.CharField(max_length=50, blank=True)
    agent = models.CharField(max_length=255, blank=True)

    class Meta:
        constraints = [_key("surveyresponse", "external_id")]
        indexes = [models.Index(fields=["kind", "responded_at"], name="response_kind_time"),
                   models.Index(fields=["customer_external_id"], name="response_customer")]


class SocialMention(Record):
    class Sentiment(models.TextChoices):
        POSITIVE = "positive"
        NEUTRAL = "neutral"
        NEGATIVE = "negative"

    external_id = models.CharField(max_length=255)
    platform = models.CharField(max_length=50)
    posted_at = models.DateTimeField()
    text = models.TextField()
    author = models.CharField(max_length=255, blank=True)
    url = models.TextField(blank=True)
    followers = models.PositiveIntegerField(null=True, blank=True)
    # Empty: the workspace's own brand.
    brand = models.CharField(max_length=255, blank=True)
    sentiment = models.CharField(max_length=8, choices=Sentiment.choices, blank=True)
    # Set by the app, never by an import (they are not dataset fields, so the upsert neither
    # writes nor compares them): the sentiment of a mention imported without one, scored by
    # ``ingestion.sentiment``, the VADER compound score, and the md5 of the text scored, so a
    # changed text is scored again. Database defaults, because imports insert rows in SQL.
    scored_sentiment = models.CharField(max_length=8, choices=Sentiment.choices, blank=True, db_default="")
    sentiment_score = models.FloatField(null=True, blank=True)
    scored_text_md5 = models.CharField(max_length=32, null=True, blank=True)

    class Meta:
        constraints = [_key("socialmention", "external_id")]
        indexes = [models.Index(fields=["posted_at"], name="mention_posted")]


class TouchedDay(models.Model):
    """A local day whose data changed: every write to a dataset records the days of the
    rows it created or changed (old and new values), so the KPI engine can recompute just
    the periods containing them and then delete the rows it consumed."""

    dataset = models.CharField(max_length=32)
    day = models.DateField()
    recorded_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["dataset", "day"], name="touched_day_key")]


class ColumnMapping(models.Model):
    """The last mapping a team lead confirmed for a dataset: normalised file header → field
    name ('' keeps the column in ``extra``). Suggested first the next time."""

    dataset = models.CharField(max_length=32, unique=True)
    columns = models.JSONField(default=dict)
    updated_at = models.DateTimeField(auto_now=True)


class ImportJob(models.Model):
    """One CSV file imported into one dataset. The upload is kept on disk until the job is
    finished and its report has been read. Progress is committed chunk by chunk together
    with the rows, so a job interrupted anywhere resumes from its last checkpoint."""

    class Status(models.TextChoices):
        DRAFT = "draft", "Waiting for mapping"
        QUEUED = "queued", "Queued"
        RUNNING = "running", "Running"
        DONE = "done", "Done"
        FAILED = "failed", "Failed"

    class Mode(models.TextChoices):
        VALID_ROWS = "valid_rows", "Import the valid rows"
        ALL_OR_NOTHING = "all_or_nothing", "All or nothing"

    class Phase(models.TextChoices):
        VALIDATE = "validate", "Checking every row"
        LOAD = "load", "Importing"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    dataset = models.CharField(max_length=32)
    mode = models.CharField(max_length=16, choices=Mode.choices, default=Mode.VALID_ROWS)
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.DRAFT)
    source = models.CharField(max_length=8, default="web")  # web or api
    created_by = models.ForeignKey("accounts.User", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")

    file = models.FileField(upload_to="imports/", max_length=255, blank=True)
    file_name = models.CharField(max_length=255)
    file_size = models.BigIntegerField()
    encoding = models.CharField(max_length=16)
    delimiter = models.CharField(max_length=1)
    bom = models.BooleanField(default=False)  # the file started with a UTF-8 byte order mark
    headers = models.JSONField(default=list)
    # Aligned with ``headers``: the field each column feeds, or '' to keep it in ``extra``.
    mapping = models.JSONField(default=list)

    phase = models.CharField(max_length=8, choices=Phase.choices, default=Phase.LOAD)
    checkpoint_offset = models.BigIntegerField(default=0)  # byte offset after the last committed chunk
    checkpoint_line = models.IntegerField(default=1)  # file line of that offset (the header is line 1)
    total_rows = models.IntegerField(null=True, blank=True)  # estimated while running, exact when done
    processed_rows = models.IntegerField(default=0)
    created_rows = models.IntegerField(default=0)
    updated_rows = models.IntegerField(default=0)
    unchanged_rows = models.IntegerField(default=0)
    rejected_rows = models.IntegerField(default=0)
    skipped_rows = models.IntegerField(default=0)  # valid rows not imported (all or nothing)
    touched_from = models.DateField(null=True, blank=True)
    touched_until = models.DateField(null=True, blank=True)
    error = models.TextField(blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)

    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["status", "created_at"], name="import_status_time")]

    @property
    def is_finished(self) -> bool:
        return self.status in (self.Status.DONE, self.Status.FAILED)

    @property
    def imported_rows(self) -> int:
        return self.created_rows + self.updated_rows + self.unchanged_rows

    @property
    def progress(self) -> float:
        if self.status == self.Status.DONE:
            return 1.0
        if not self.file_size:
            return 0.0
        # All or nothing reads the file twice: checking, then importing.
        fraction = min(self.checkpoint_offset / self.file_size, 1.0)
        if self.mode == self.Mode.ALL_OR_NOTHING:
            fraction = fraction / 2 + (0.5 if self.phase == self.Phase.LOAD else 0)
        return round(fraction, 4)


class ImportRejection(models.Model):
    """A rejected row of an import: its line in the file, its values as read, and every
    problem found in it (column and reason)."""

    job = models.ForeignKey(ImportJob, on_delete=models.CASCADE, related_name="rejections")
    line = models.IntegerField()
    values = models.JSONField(default=list)
    errors = models.JSONField(default=list)  # [{"column": ..., "error": ...}]

    class Meta:
        constraints = [models.UniqueConstraint(fields=["job", "line"], name="import_rejection_line")]


# The table of each dataset (``ingestion.datasets.DATASETS`` keys).
MODELS = {
    "customers": Customer,
    "revenue": Revenue,
    "conversations": Conversation,
    "events": Event,
    "survey_responses": SurveyResponse,
    "social_mentions": SocialMention,
}


def dataset_model(dataset) -> type[Record]:
    """The model holding ``dataset``'s rows."""
    return MODELS[dataset.key]

