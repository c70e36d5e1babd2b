"""The import contract of ../shared/spec/datasets.md as data: every dataset's fields, their
types and rules. The validator below, the upload page's mapping step and the generated
field documentation all read these definitions, so they cannot drift apart.

``row_parse`` turns one raw row (header → text, as read from a CSV or a JSON object) into
clean values or a list of errors, one per failing field, each with its own message.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import tzinfo
from decimal import Decimal
from typing import Any, Callable

from ingestion.fields import KNOWN_CHANNELS, Field, FieldError
from tenants.inputs import display_name, json_problem


def _not_before(later: str, earlier: str):
    def check(row: dict) -> tuple[str, str] | None:
        if row.get(later) is not None and row.get(earlier) is not None and row[later] < row[earlier]:
            return later, f"{later} is before {earlier}"
        return None

    check.rule = f"{later} may not be before {earlier}"
    check.fields = check.not_before = (later, earlier)
    return check


SCORE_RANGES = {"nps": (0, 10), "csat": (1, 5)}


def _score_in_range_for_kind(row: dict) -> tuple[str, str] | None:
    kind, score = row.get("kind"), row.get("score")
    if kind in SCORE_RANGES and score is not None:
        low, high = SCORE_RANGES[kind]
        if not low <= score <= high:
            return "score", f"score {score} is out of range for {kind} ({low}–{high})"
    return None


_score_in_range_for_kind.rule = "score is 0–10 for nps and 1–5 for csat"
_score_in_range_for_kind.fields = ("kind", "score")


@dataclass(frozen=True)
class Dataset:
    key: str
    label: str
    description: str
    fields: tuple[Field, ...]
    key_fields: tuple[str, ...] = ("external_id",)
    row_checks: tuple[Callable[[dict], tuple[str, str] | None], ...] = ()
    # Fields other datasets' KPIs read by joining to this one (a customer's plan is their
    # segment, is_test leaves their rows out): changing one on an existing row changes KPI
    # values on days that the row's own time fields (its TouchedDays) do not cover.
    joined_fields: tuple[str, ...] = ()
    by_name: dict[str, Field] = field(init=False, repr=False, compare=False)

    def __post_init__(self):
        object.__setattr__(self, "by_name", {f.name: f for f in self.fields})

    @property
    def required(self) -> list[str]:
        return [f.name for f in self.fields if f.required]

    @property
    def time_columns(self) -> list[tuple[str, str]]:
        """The fields placing a row on days, as (column, kind): the days KPI periods are
        built on, recorded as touched when a row changes (``ingestion.touched``)."""
        return [(f.name, f.kind) for f in self.fields if f.kind in ("timestamp", "month", "date")]

    @property
    def rules(self) -> list[str]:
        key = " + ".join(self.key_fields)
        return [f"rows are keyed by {key}: re-sending a row with the same key updates it",
                *(check.rule for check in self.row_checks),
                "columns that are not fields of the dataset are kept in extra"]


@dataclass
class ParsedRow:
    values: dict[str, Any]
    extra: dict[str, Any]
    errors: list[tuple[str, str]]  # (field, message)

    @property
    def ok(self) -> bool:
        return not self.errors


def row_parse(dataset: Dataset, raw: dict[str, Any], *, tz: tzinfo, extra: dict | None = None) -> ParsedRow:
    """Validate one row whose keys are already the dataset's field names (after mapping);
    keys that are not fields of the dataset go to ``extra`` (unless ``extra`` is given:
    a file's unmapped columns are extra even when named like a field)."""
    values, errors = {}, []
    for f in dataset.fields:
        try:
            values[f.name] = f.parse(raw.get(f.name), tz)
        except FieldError as exc:
            errors.append((f.name, str(exc)))
    if not errors:
        for check in dataset.row_checks:
            problem = check(values)
            if problem:
                errors.append(problem)
    if extra is None:
        extra = {k: v for k, v in raw.items() if k not in dataset.by_name and k is not None}
    # Extra columns are kept as they are (jsonb), so only what jsonb cannot hold is refused.
    problem = json_problem(extra)
    if problem:
        place, message = problem
        column = display_name(place.partition(".")[0].partition("[")[0])
        key_problem = message.removeprefix("the key ")
        errors.append((column, f"the name {place} {key_problem}" if key_problem != message else f"{place} {message}"))
    return ParsedRow(values=values, extra=extra, errors=errors)


def _ts(name, required=False, description=""):
    return Field(name, "timestamp", required=required, description=description)


DATASETS: dict[str, Dataset] = {
    d.key: d
    for d in (
        Dataset(
            "customers", "Customers", "Your customers, with sign-up and churn dates.",
            (
                Field("external_id", "text", required=True, max_length=255, description="Your id for the customer."),
                _ts("signed_up_at", required=True, description="When the customer signed up."),
                Field("name", "text", max_length=255, default=""),
                Field("email", "text", max_length=254, default=""),
                Field("plan", "text", max_length=100, default="", description="Plan or segment, for breakdowns."),
                _ts("churned_at", description="When the customer left; empty while active."),
                Field("is_test", "boolean", default=False, description="Test customers are left out of every KPI."),
                Field("country", "text", max_length=100, default=""),
            ),
            row_checks=(_not_before("churned_at", "signed_up_at"),),
            joined_fields=("plan", "is_test"),
        ),
        Dataset(
            "revenue", "Revenue", "Monthly recurring revenue per customer and product.",
            (
                Field("customer_external_id", "text", required=True, max_length=255),
                Field("month", "month", required=True),
                # At most numeric(14, 2): 12 digits before the point.
                Field("mrr", "decimal", required=True, minimum=Decimal(0), maximum=Decimal("999999999999.99"),
                      description="MRR of the month, ≥ 0."),
                Field("product", "text", max_length=255, default="default"),
                Field("currency", "text", max_length=3, default="", description="Default: the workspace currency."),
            ),
            key_fields=("customer_external_id", "product", "month"),
        ),
        Dataset(
            "conversations", "Conversations", "Support conversations on every channel.",
            (
                Field("external_id", "text", required=True, max_length=255),
                Field("channel", "text", required=True, max_length=50,
                      description=f"{', '.join(KNOWN_CHANNELS)} or a custom channel; phone is voice."),
                _ts("created_at", required=True),
                Field("customer_external_id", "text", max_length=255, default=""),
                Field("agent", "text", max_length=255, default=""),
                Field("team", "text", max_length=255, default=""),
                _ts("first_response_at"),
                _ts("resolved_at"),
                Field("contacts", "integer", minimum=1, default=1),
                Field("reopened", "boolean", default=False),
                Field("abandoned", "boolean", default=False),
                Field("csat_score", "integer", minimum=1, maximum=5),
                Field("tags", "list", default=[]),
                Field("subject", "text", default=""),
            ),
            row_checks=(_not_before("resolved_at", "created_at"), _not_before("first_response_at", "created_at")),
        ),
        Dataset(
            "events", "Product events", "What users do in your product: visits, purchases, activations.",
            (
                Field("external_id", "text", required=True, max_length=255),
                Field("user_external_id", "text", required=True, max_length=255),
                Field("name", "text", required=True, max_length=255),
                _ts("occurred_at", required=True),
                Field("properties", "json", default={}),
                Field("session_id", "text", max_length=255, default=""),
            ),
        ),
        Dataset(
            "survey_responses", "Survey responses", "NPS and CSAT answers collected elsewhere.",
            (
                Field("external_id", "text", required=True, max_length=255),
                Field("kind", "choice", required=True, choices=("nps", "csat")),
                Field("score", "integer", required=True, description="0–10 for nps, 1–5 for csat."),
                _ts("responded_at", required=True),
                Field("customer_external_id", "text", max_length=255, default=""),
                Field("comment", "text", default=""),
                Field("channel", "text", max_length=50, default=""),
                Field("agent", "text", max_length=255, default=""),
            ),
            row_checks=(_score_in_range_for_kind,),
        ),
        Dataset(
            "social_mentions", "Social mentions", "Posts that mention your brand or tracked brands.",
            (
                Field("external_id", "text", required=True, max_length=255),
                Field("platform", "text", required=True, max_length=50),
                _ts("posted_at", required=True),
                Field("text", "text", required=True),
                Field("author", "text", max_length=255, default=""),
                Field("url", "text", default=""),
                Field("followers", "integer", minimum=0),
                Field("brand", "text", max_length=255, default="", description="Default: your own brand."),
                Field("sentiment", "choice", choices=("positive", "neutral", "negative"), default=""),
            ),
        ),
    )
}


def header_match(dataset: Dataset, headers: list[str]) -> dict[str, str | None]:
    """Suggested mapping of file headers to fields: case-insensitive, ignoring spaces,
    dashes and a BOM. Headers that match no field map to None (kept in ``extra``)."""
    normalised = {re.sub(r"[\s\-]+", "_", f.name.lower()): f.name for f in dataset.fields}
    mapping = {}
    for header in headers:
        key = re.sub(r"[\s\-]+", "_", header.lstrip("\ufeff").strip().lower())
        mapping[header] = normalised.get(key)
    return mapping


# The timestamp (or month) that places a row in time, for filters and KPI periods.
TIME_FIELDS = {
    "customers": "signed_up_at",
    "revenue": "month",
    "conversations": "created_at",
    "events": "occurred_at",
    "survey_responses": "responded_at",
    "social_mentions": "posted_at",
}
