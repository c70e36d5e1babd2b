"""Reads of the stored dataset rows, for the records API and the data browser (/data/<key>/records/)."""
import zoneinfo
from datetime import date
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.db import connection
from django.db.models import Q, QuerySet, Subquery

from ingestion.datasets import DATASETS, TIME_FIELDS
from ingestion.fields import FieldError
from ingestion.models import dataset_model

FILTERABLE_KINDS = ("text", "choice", "boolean", "integer")

# The text fields the data browser's search box looks in. Identifiers (names ending in
# _id) match from the start, as typed: `LIKE 'abc%'` is answered by the varchar_pattern_ops
# index Django adds beside each indexed CharField (external_id, customer_external_id), so
# looking a row up by its id stays instant on 500k events. The other fields match
# anywhere, ignoring case, which scans the table (about 150 ms for 500k events): fine for
# an occasional check, and cheaper overall than trigram indexes that every import would
# have to maintain.
SEARCH_FIELDS = {
    "customers": ("external_id", "name", "email"),
    "revenue": ("customer_external_id", "product"),
    "conversations": ("external_id", "customer_external_id", "subject", "agent"),
    "events": ("external_id", "user_external_id", "name", "session_id"),
    "survey_responses": ("external_id", "customer_external_id", "comment", "agent"),
    "social_mentions": ("external_id", "text", "author"),
}

# Low-cardinality fields the data browser offers as equality filters. Booleans and choices
# have fixed options; the others offer the values that are stored.
BROWSE_FILTERS = {
    "customers": ("plan", "country", "is_test"),
    "revenue": ("product", "currency"),
    "conversations": ("channel", "agent", "team", "reopened", "abandoned", "csat_score"),
    "events": ("name",),
    "survey_responses": ("kind", "score", "channel", "agent"),
    "social_mentions": ("platform", "brand", "sentiment"),
}
FIXED_OPTION_KINDS = ("boolean", "choice")
# A filter with more distinct values than this gets a text box instead of a select.
OPTION_LIMIT = 100
PAGE_SIZE = 50
# Counting stops here: an exact count(*) reads every matching row, which takes seconds on
# tables of millions; past this number an estimate or a lower bound is shown.
EXACT_COUNT_LIMIT = 10_000


def records_list(*, dataset_key: str, filters: dict[str, str], time_zone: str,
                 search: str = "", search_in: str = "") -> QuerySet:
    """Stored rows of a dataset, newest first, filtered by equality on simple fields, by
    ``since`` / ``until`` (inclusive / exclusive) on the dataset's time field and, when
    ``search`` is given, by a match in one of its SEARCH_FIELDS (only ``search_in`` if set)."""
    dataset = DATASETS[dataset_key]
    tz = zoneinfo.ZoneInfo(time_zone)
    time_field = dataset.by_name[TIME_FIELDS[dataset_key]]
    queryset = dataset_model(dataset).objects.all()
    errors = {}
    for name, raw in filters.items():
        try:
            if name in ("since", "until"):
                value = time_field.parse(raw, tz)
                lookup = f"{time_field.name}__{'gte' if name == 'since' else 'lt'}"
                queryset = queryset.filter(**{lookup: value})
            elif name in dataset.by_name and dataset.by_name[name].kind in FILTERABLE_KINDS:
                queryset = queryset.filter(**{name: dataset.by_name[name].parse(raw, tz)})
        except FieldError as exc:
            errors[name] = [str(exc)]
    searched = SEARCH_FIELDS[dataset_key]
    if search_in and search_in not in searched:
        errors["search_in"] = [f"Search in one of: {', '.join(searched)}."]
    elif search:
        condition = Q()
        for name in (search_in,) if search_in else searched:
            lookup = "startswith" if name.endswith("_id") else "icontains"
            condition |= Q(**{f"{name}__{lookup}": search})
        queryset = queryset.filter(condition)
    if errors:
        raise ValidationError(errors)
    return queryset.order_by(f"-{time_field.name}", "-pk")


@dataclass(frozen=True)
class RecordsPage:
    rows: list
    newer: int | None  # pk of the first row, to ask for the page before it (?before=); None on the newest page
    older: int | None  # pk of the last row, to ask for the page after it (?after=); None on the oldest page


def records_page(*, queryset: QuerySet, dataset_key: str, after: int | None = None, before: int | None = None,
                 size: int = PAGE_SIZE) -> RecordsPage:
    """One page of ``records_list`` rows: the newest ``size`` rows, or those just older than
    row ``after`` / just newer than row ``before``.

    Keyset pagination rather than page numbers: OFFSET makes PostgreSQL read and discard
    every row before the page, so deep pages of 500k events get slower and slower, and
    pages shift under the reader while an import adds rows. A cursor names a row; its time
    comes from a subquery, so the cursor in the URL is just a pk. ``size + 1`` rows are
    read to know whether another page follows, so no count is needed."""
    time_name = TIME_FIELDS[dataset_key]
    if after is None and before is None:
        rows = list(queryset[: size + 1])
        more_newer, more_older = False, len(rows) > size
    else:
        anchor_pk = after if after is not None else before
        anchor_time = Subquery(queryset.model.objects.filter(pk=anchor_pk).values(time_name)[:1])
        if after is not None:
            # (time, pk) < anchor, written so the time index can serve `time <= anchor`.
            older = queryset.filter(**{f"{time_name}__lte": anchor_time}).exclude(**{time_name: anchor_time, "pk__gte": after})
            rows = list(older[: size + 1])
            more_newer, more_older = True, len(rows) > size
        else:
            newer = queryset.filter(**{f"{time_name}__gte": anchor_time}).exclude(**{time_name: anchor_time, "pk__lte": before})
            rows = list(newer.reverse()[: size + 1])  # the closest newer rows, oldest first
            more_newer, more_older = len(rows) > size, True
            rows = rows[:size][::-1]
    rows = rows[:size]
    return RecordsPage(rows=rows, newer=rows[0].pk if rows and more_newer else None,
                       older=rows[-1].pk if rows and more_older else None)


@dataclass(frozen=True)
class RowCount:
    value: int
    qualifier: str = ""  # "" (exact), "about" (PostgreSQL's estimate) or "more than" (lower bound)

    def __str__(self):
        return f"{self.qualifier} {self.value:,} row{'' if self.value == 1 else 's'}".lstrip()


def _about(estimate: float) -> int:
    """``estimate`` to three significant digits: 499,987 → 500,000."""
    digits = len(str(int(estimate)))
    return int(round(estimate, -max(digits - 3, 0)))


def row_counts(querysets: dict[str, QuerySet], *, estimate: bool) -> dict[str, RowCount]:
    """How many rows each queryset has, all in one query. Each count stops at
    EXACT_COUNT_LIMIT (count over a LIMITed subquery). Past it, ``estimate`` (for querysets
    that are whole tables) reports PostgreSQL's own row estimate, pg_class.reltuples, which
    autovacuum's ANALYZE keeps current; otherwise "more than 10,000"."""
    selects, params = [], []
    for key, queryset in querysets.items():
        capped, capped_params = queryset.order_by().values("pk")[: EXACT_COUNT_LIMIT + 1].query.sql_with_params()
        # to_regclass resolves the bare table name through the search_path: this workspace's schema.
        selects.append(f"SELECT %s::text, (SELECT count(*) FROM ({capped}) AS capped), "
                       f"(SELECT reltuples FROM pg_class WHERE oid = to_regclass(%s))")
        params += [key, *capped_params, queryset.model._meta.db_table]
    with connection.cursor() as cursor:
        cursor.execute(" UNION ALL ".join(selects), params)
        found = cursor.fetchall()
    counts = {}
    for key, count, reltuples in found:
        if count <= EXACT_COUNT_LIMIT:
            counts[key] = RowCount(count)
        elif estimate and reltuples is not None and reltuples > EXACT_COUNT_LIMIT:
            counts[key] = RowCount(_about(reltuples), "about")
        else:
            counts[key] = RowCount(EXACT_COUNT_LIMIT, "more than")
    return counts


def dataset_row_counts() -> dict[str, RowCount]:
    """Stored rows per dataset, for the Data page."""
    return row_counts({key: dataset_model(dataset).objects.all() for key, dataset in DATASETS.items()}, estimate=True)


def record_filter_options(*, dataset_key: str) -> dict[str, list | None]:
    """The stored values each BROWSE_FILTERS field of the dataset can be filtered on, sorted,
    for the fields whose options are not fixed by the definition (booleans and choices are).
    One SELECT DISTINCT … LIMIT per field; None for a field with more than OPTION_LIMIT values."""
    dataset = DATASETS[dataset_key]
    model = dataset_model(dataset)
    options = {}
    for name in BROWSE_FILTERS[dataset_key]:
        if dataset.by_name[name].kind in FIXED_OPTION_KINDS:
            continue
        empty = Q(**{f"{name}__isnull": True}) | (Q(**{name: ""}) if dataset.by_name[name].kind == "text" else Q())
        values = list(model.objects.exclude(empty).order_by(name).values_list(name, flat=True).distinct()[: OPTION_LIMIT + 1])
        options[name] = values if len(values) <= OPTION_LIMIT else None
    return options


def record_get(*, dataset_key: str, pk: int):
    """One stored row of the dataset, or None."""
    return dataset_model(DATASETS[dataset_key]).objects.filter(pk=pk).first()



def dataset_sample_csv(*, dataset_key: str, rows: int = 25) -> str:
    """The header and first ``rows`` rows of a small generated world, as CSV text."""
    import csv
    import io
    from itertools import islice

    from ingestion.generator import World, rows as generated

    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow([f.name for f in DATASETS[dataset_key].fields])
    for row in islice(generated(dataset_key, World.scaled(0.005, end=SAMPLE_END)), rows):
        writer.writerow(row.values())
    return buffer.getvalue()


# Samples are the same file every day (a fixed world), so documentation can quote them.
SAMPLE_END = date(2026, 1, 1)

