"""Writing dataset rows: validated rows go through a temporary staging table filled with
COPY, then one ``INSERT … ON CONFLICT DO UPDATE`` upserts them, updating only rows whose
values changed. Everything runs in PostgreSQL; Python only parses and streams the rows."""
from dataclasses import dataclass

from django.apps import apps
from django.db import connection, transaction
from psycopg.types.json import Jsonb

from ingestion.datasets import Dataset, header_match, row_parse

MAX_API_ROWS = 10_000

MODELS = {
    "customers": "ingestion.Customer",
    "revenue": "ingestion.Revenue",
    "conversations": "ingestion.Conversation",
    "events": "ingestion.Event",
    "survey_responses": "ingestion.SurveyResponse",
    "social_mentions": "ingestion.SocialMention",
}
JSON_FIELDS = {"extra", "properties"}


@dataclass(frozen=True)
class UpsertResult:
    created: int
    updated: int
    unchanged: int


def dataset_model(dataset: Dataset):
    return apps.get_model(MODELS[dataset.key])


def _prepare(dataset: Dataset, values: dict, *, currency: str) -> dict:
    if dataset.key == "revenue" and not values.get("currency"):
        values = {**values, "currency": currency}
    # Empty optional text is stored as '', not NULL, so equality checks stay simple.
    return {name: ("" if value is None and dataset.by_name[name].kind in ("text", "choice") else value)
            for name, value in values.items()}


@transaction.atomic
def records_upsert(*, dataset: Dataset, rows: list[tuple[dict, dict]], currency: str) -> UpsertResult:
    """Upsert ``rows`` — (clean values, extra) pairs from ``row_parse`` — into the dataset's
    table in the current workspace schema. A key repeated within ``rows`` keeps its last
    occurrence; the earlier ones count as updated."""
    if not rows:
        return UpsertResult(0, 0, 0)
    model = dataset_model(dataset)
    table = connection.ops.quote_name(model._meta.db_table)
    columns = [f.name for f in dataset.fields] + ["extra"]
    quoted = [connection.ops.quote_name(c) for c in columns]
    keys = ", ".join(connection.ops.quote_name(k) for k in dataset.key_fields)
    column_list = ", ".join(quoted)
    with connection.cursor() as cursor:
        cursor.execute(
            f"CREATE TEMP TABLE pulse_stage ON COMMIT DROP AS SELECT {column_list} FROM {table} WITH NO DATA; "
            "ALTER TABLE pulse_stage ADD COLUMN _ord integer"
        )
        with cursor.copy(f"COPY pulse_stage ({column_list}, _ord) FROM STDIN") as copy:
            for ordinal, (values, extra) in enumerate(rows):
                values = _prepare(dataset, values, currency=currency)
                record = [Jsonb(values[c]) if c in JSON_FIELDS else values[c] for c in columns[:-1]]
                copy.write_row((*record, Jsonb(extra), ordinal))
        changed = " OR ".join(f"t.{q} IS DISTINCT FROM EXCLUDED.{q}" for q in quoted)
        assignments = ", ".join(f"{q} = EXCLUDED.{q}" for q in quoted)
        cursor.execute(
            f"""
            WITH src AS (
                SELECT DISTINCT ON ({keys}) {column_list} FROM pulse_stage ORDER BY {keys}, _ord DESC
            ), written AS (
                INSERT INTO {table} AS t ({column_list}, imported_at)
                SELECT {column_list}, now() FROM src
                ON CONFLICT ({keys}) DO UPDATE SET {assignments}, imported_at = now()
                WHERE {changed}
                RETURNING (xmax = 0) AS inserted
            )
            SELECT count(*) FILTER (WHERE inserted), count(*) FILTER (WHERE NOT inserted),
                   (SELECT count(*) FROM src)
            FROM written
            """
        )
        created, updated, distinct = cursor.fetchone()
        cursor.execute("DROP TABLE pulse_stage")
    superseded = len(rows) - distinct
    return UpsertResult(created=created, updated=updated + superseded, unchanged=distinct - created - updated)


@dataclass(frozen=True)
class IngestResult:
    created: int
    updated: int
    unchanged: int
    rejected: list[dict]


def records_ingest(*, dataset: Dataset, items: list, workspace) -> IngestResult:
    """Validate JSON rows (field names matched case-insensitively), upsert the valid ones
    and report every rejected field of every rejected row by its index."""
    import zoneinfo

    tz = zoneinfo.ZoneInfo(workspace.time_zone)
    names = {key for item in items if isinstance(item, dict) for key in item}
    mapping = header_match(dataset, sorted(names))
    valid, rejected = [], []
    for index, item in enumerate(items):
        if not isinstance(item, dict):
            rejected.append({"index": index, "field": None, "error": "each row must be a JSON object"})
            continue
        row = row_parse(dataset, {(mapping.get(key) or key): value for key, value in item.items()}, tz=tz)
        if row.ok:
            valid.append((row.values, row.extra))
        else:
            rejected.extend({"index": index, "field": field, "error": message} for field, message in row.errors)
    result = records_upsert(dataset=dataset, rows=valid, currency=workspace.currency)
    return IngestResult(result.created, result.updated, result.unchanged, rejected)
