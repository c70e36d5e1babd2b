"""Dataset rows written straight through the models: create them inside tenant_context(workspace)."""
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import factory

from ingestion.models import Conversation, Customer, ImportJob, Revenue, SurveyResponse

START = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)


class ConversationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Conversation

    external_id = factory.Sequence(lambda n: f"conv-{n:04d}")
    channel = "email"
    # One hour apart, in creation order: a later row is newer.
    created_at = factory.Sequence(lambda n: START + timedelta(hours=n))


class CustomerFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Customer

    external_id = factory.Sequence(lambda n: f"cust-{n:04d}")
    signed_up_at = factory.Sequence(lambda n: START + timedelta(days=n))


class SurveyResponseFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = SurveyResponse

    external_id = factory.Sequence(lambda n: f"resp-{n:04d}")
    kind = "nps"
    score = 9
    responded_at = factory.Sequence(lambda n: START + timedelta(hours=n))


class RevenueFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Revenue

    customer_external_id = factory.Sequence(lambda n: f"cust-{n:04d}")
    month = datetime(2026, 1, 1).date()
    mrr = Decimal("49.00")
    currency = "EUR"


class ImportJobFactory(factory.django.DjangoModelFactory):
    """A finished CSV import of conversations (no file kept: its report has been read)."""

    class Meta:
        model = ImportJob

    dataset = "conversations"
    status = ImportJob.Status.DONE
    file_name = factory.Sequence(lambda n: f"tickets-{n}.csv")
    file_size = 120
    encoding = "utf-8"
    delimiter = ","
    headers = ["external_id", "channel", "created_at"]
    mapping = ["external_id", "channel", "created_at"]
    total_rows = processed_rows = created_rows = 2
