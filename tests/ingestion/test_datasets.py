"""Every validation rule of datasets.md with its own message. Pure: no database."""
from datetime import date, datetime, timezone
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from ingestion.datasets import DATASETS, header_match, row_parse

PARIS = ZoneInfo("Europe/Paris")


def parse(dataset, **raw):
    return row_parse(DATASETS[dataset], raw, tz=PARIS)


CONVERSATION = {"external_id": "c-1", "channel": "email", "created_at": "2026-03-01T10:00:00Z"}


def test_a_valid_conversation_is_parsed_with_defaults():
    row = parse("conversations", **CONVERSATION)
    assert row.ok
    assert row.values["created_at"] == datetime(2026, 3, 1, 10, tzinfo=timezone.utc)
    assert (row.values["contacts"], row.values["reopened"], row.values["abandoned"], row.values["tags"]) == (1, False, False, [])
    assert row.values["resolved_at"] is None and row.values["csat_score"] is None


def test_timestamp_without_offset_is_read_in_the_workspace_time_zone():
    row = parse("conversations", **{**CONVERSATION, "created_at": "2026-01-31T23:30:00"})
    assert row.values["created_at"] == datetime(2026, 1, 31, 23, 30, tzinfo=PARIS)
    assert row.values["created_at"].astimezone(timezone.utc) == datetime(2026, 1, 31, 22, 30, tzinfo=timezone.utc)


@pytest.mark.parametrize("dataset, missing", [
    ("customers", "external_id"), ("customers", "signed_up_at"),
    ("revenue", "customer_external_id"), ("revenue", "month"), ("revenue", "mrr"),
    ("conversations", "external_id"), ("conversations", "channel"), ("conversations", "created_at"),
    ("events", "external_id"), ("events", "user_external_id"), ("events", "name"), ("events", "occurred_at"),
    ("survey_responses", "external_id"), ("survey_responses", "kind"), ("survey_responses", "score"),
    ("survey_responses", "responded_at"),
    ("social_mentions", "external_id"), ("social_mentions", "platform"), ("social_mentions", "posted_at"),
    ("social_mentions", "text"),
])
def test_required_field_missing_or_empty(dataset, missing):
    assert DATASETS[dataset].by_name[missing].required
    assert (missing, f"{missing} is required") in parse(dataset, **{missing: "  "}).errors
    assert (missing, f"{missing} is required") in parse(dataset).errors


@pytest.mark.parametrize("field, value, message", [
    ("created_at", "yesterday", "created_at: 'yesterday' is not an ISO 8601 timestamp (e.g. 2026-03-01T14:30:00+01:00)"),
    ("contacts", "two", "contacts: 'two' is not a whole number"),
    ("contacts", "0", "contacts must be at least 1, got 0"),
    ("reopened", "maybe", "reopened: 'maybe' is not a boolean (use true or false)"),
    ("csat_score", "6", "csat_score must be at most 5, got 6"),
    ("csat_score", "0", "csat_score must be at least 1, got 0"),
    ("channel", "x" * 51, "channel is longer than 50 characters"),
])
def test_conversation_value_errors(field, value, message):
    assert parse("conversations", **{**CONVERSATION, field: value}).errors == [(field, message)]


def test_resolution_and_first_response_before_creation_are_refused():
    row = parse("conversations", **{**CONVERSATION, "resolved_at": "2026-03-01T09:59:59Z"})
    assert row.errors == [("resolved_at", "resolved_at is before created_at")]
    row = parse("conversations", **{**CONVERSATION, "first_response_at": "2026-03-01T10:59:00+01:00"})
    assert row.errors == [("first_response_at", "first_response_at is before created_at")]
    assert parse("conversations", **{**CONVERSATION, "resolved_at": "2026-03-01T10:00:00Z"}).ok


def test_custom_channels_tags_and_booleans():
    row = parse("conversations", **{**CONVERSATION, "channel": "whatsapp-business", "tags": "billing; vip ;",
                                    "reopened": "YES", "abandoned": "0"})
    assert row.ok
    assert (row.values["channel"], row.values["tags"], row.values["reopened"], row.values["abandoned"]) == (
        "whatsapp-business", ["billing", "vip"], True, False)


def test_churn_before_sign_up_is_refused():
    row = parse("customers", external_id="u1", signed_up_at="2026-02-01T00:00:00", churned_at="2026-01-01T00:00:00")
    assert row.errors == [("churned_at", "churned_at is before signed_up_at")]


def test_a_date_alone_is_a_timestamp_at_local_midnight():
    row = parse("customers", external_id="u1", signed_up_at="2026-02-01")
    assert row.ok and row.values["signed_up_at"] == datetime(2026, 2, 1, tzinfo=PARIS)


def test_customer_is_test_flag_and_unknown_columns_go_to_extra():
    row = parse("customers", external_id="u1", signed_up_at="2026-02-01T00:00:00Z", is_test="true", favourite_colour="teal")
    assert row.ok and row.values["is_test"] is True
    assert row.extra == {"favourite_colour": "teal"}


@pytest.mark.parametrize("mrr, error", [
    ("-0.01", ("mrr", "mrr must be at least 0, got -0.01")),
    ("ten", ("mrr", "mrr: 'ten' is not a number")),
    ("NaN", ("mrr", "mrr: 'NaN' is not a number")),
])
def test_negative_or_unparsable_mrr_is_refused(mrr, error):
    assert parse("revenue", customer_external_id="u1", month="2026-03", mrr=mrr).errors == [error]


def test_revenue_month_and_defaults():
    row = parse("revenue", customer_external_id="u1", month="2026-03", mrr="99.90")
    assert row.values == {"customer_external_id": "u1", "month": date(2026, 3, 1), "mrr": Decimal("99.90"),
                          "product": "default", "currency": ""}
    assert parse("revenue", customer_external_id="u1", month="2026-13", mrr="1").errors == [
        ("month", "month: '2026-13' is not a month (YYYY-MM)")]
    assert parse("revenue", customer_external_id="u1", month="March 2026", mrr="1").errors == [
        ("month", "month: 'March 2026' is not a month (YYYY-MM)")]


@pytest.mark.parametrize("kind, score, ok", [
    ("nps", "0", True), ("nps", "10", True), ("nps", "11", False),
    ("csat", "1", True), ("csat", "5", True), ("csat", "0", False), ("csat", "6", False),
])
def test_score_range_depends_on_the_survey_kind(kind, score, ok):
    row = parse("survey_responses", external_id="r1", kind=kind, score=score, responded_at="2026-03-01T10:00:00Z")
    assert row.ok is ok
    if not ok:
        low, high = (0, 10) if kind == "nps" else (1, 5)
        assert row.errors == [("score", f"score {score} is out of range for {kind} ({low}–{high})")]


def test_unknown_survey_kind_and_sentiment_are_refused():
    assert parse("survey_responses", external_id="r1", kind="ces", score="3", responded_at="2026-03-01T10:00:00Z").errors == [
        ("kind", "kind: 'ces' is not one of nps, csat")]
    row = parse("social_mentions", external_id="m1", platform="x", posted_at="2026-03-01T10:00:00Z", text="hi", sentiment="angry")
    assert row.errors == [("sentiment", "sentiment: 'angry' is not one of positive, neutral, negative")]


def test_event_properties_must_be_a_json_object():
    base = {"external_id": "e1", "user_external_id": "u1", "name": "visit", "occurred_at": "2026-03-01T10:00:00Z"}
    assert parse("events", **base, properties='{"plan": "pro"}').values["properties"] == {"plan": "pro"}
    assert parse("events", **base, properties="[1, 2]").errors == [("properties", "properties: must be a JSON object")]
    assert parse("events", **base, properties="{oops").errors == [("properties", "properties: not valid JSON")]


def test_json_api_values_of_native_types_are_accepted():
    row = row_parse(DATASETS["conversations"], {**CONVERSATION, "contacts": 2, "reopened": True, "tags": ["a", "b"]}, tz=PARIS)
    assert row.ok and (row.values["contacts"], row.values["reopened"], row.values["tags"]) == (2, True, ["a", "b"])
    assert row_parse(DATASETS["conversations"], {**CONVERSATION, "contacts": True}, tz=PARIS).errors == [
        ("contacts", "contacts: 'True' is not a whole number")]


def test_several_errors_in_one_row_are_all_reported():
    row = parse("conversations", external_id="", channel="email", created_at="nope", contacts="x")
    assert [field for field, _ in row.errors] == ["external_id", "created_at", "contacts"]


def test_headers_match_case_insensitively_and_unknown_headers_map_to_none():
    mapping = header_match(DATASETS["conversations"], ["\ufeffExternal_ID", "Channel", "Created At", "first-response-at", "Mood"])
    assert mapping == {"\ufeffExternal_ID": "external_id", "Channel": "channel", "Created At": "created_at",
                       "first-response-at": "first_response_at", "Mood": None}


def test_every_dataset_of_the_contract_is_defined_with_its_key():
    assert list(DATASETS) == ["customers", "revenue", "conversations", "events", "survey_responses", "social_mentions"]
    assert DATASETS["revenue"].key_fields == ("customer_external_id", "product", "month")
    assert all(d.key_fields == ("external_id",) for k, d in DATASETS.items() if k != "revenue")
