import zoneinfo
from typing import Iterator

from django.core.exceptions import ValidationError
from django.db.models import QuerySet

from ingestion.datasets import DATASETS, TIME_FIELDS, FieldError
from ingestion.services import dataset_model

FILTERABLE_KINDS = ("text", "choice", "boolean", "integer")


def records_list(*, dataset_key: str, filters: dict[str, str], time_zone: str) -> QuerySet:
    """Stored rows of a dataset, newest first, filtered by equality on simple fields and by
    ``since`` / ``until`` (inclusive / exclusive) on the dataset's time field."""
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
    if errors:
        raise ValidationError(errors)
    return queryset.order_by(f"-{time_field.name}", "-pk")


# ------------------------------------------------------------------------------ imports

def import_list() -> QuerySet:
    from ingestion.models import ImportJob

    return ImportJob.objects.select_related("created_by").order_by("-created_at")


def import_rejections(*, job) -> QuerySet:
    return job.rejections.order_by("line")


def rejected_rows_csv(*, job) -> Iterator[str]:
    """The rejected rows of an import as CSV lines: the file's columns as read, plus an
    ``error`` column naming each problem. Streamed, for imports with many rejections."""
    from ingestion.csvfiles import csv_line

    yield csv_line([*job.headers, "error"])
    for values, errors in import_rejections(job=job).values_list("values", "errors").iterator(chunk_size=2000):
        message = "; ".join(e["error"] for e in errors)
        padded = list(values) + [""] * (len(job.headers) - len(values))
        yield csv_line([*padded, message])
