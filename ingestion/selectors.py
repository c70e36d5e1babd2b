import zoneinfo

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
