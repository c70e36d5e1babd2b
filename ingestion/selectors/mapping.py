"""Reads of the column mapping step: which field each file column likely feeds, and why a
mapping cannot be used. The mapping a lead confirms is remembered by ``import_start``."""
import re

from ingestion.datasets import DATASETS, Dataset, header_match
from ingestion.models import ColumnMapping


def header_normalised(header: str) -> str:
    return re.sub(r"[\s\-]+", "_", header.lstrip("\ufeff").strip().lower())


def mapping_suggest(*, dataset: Dataset, headers: list[str]) -> list[str]:
    """For each header, the field it most likely feeds ('' = keep in ``extra``): the mapping
    last confirmed for this dataset first, then a case-insensitive name match. A field is
    suggested for one column only."""
    remembered = ColumnMapping.objects.filter(dataset=dataset.key).values_list("columns", flat=True).first() or {}
    matched = header_match(dataset, headers)
    suggestion, used = [], set()
    for header in headers:
        field_name = remembered.get(header_normalised(header), matched.get(header)) or ""
        if field_name not in dataset.by_name or field_name in used:
            field_name = ""
        used.add(field_name)
        suggestion.append(field_name)
    return suggestion


def mapping_problems(*, dataset: Dataset, headers: list[str], mapping: list[str]) -> list[str]:
    """Why ``mapping`` cannot be used: required fields without a column, a field fed twice."""
    problems = []
    mapped = [m for m in mapping if m]
    unknown = sorted({m for m in mapped if m not in dataset.by_name})
    if unknown:
        problems.append(f"{', '.join(unknown)} {'is not a field' if len(unknown) == 1 else 'are not fields'} of {dataset.key}.")
    twice = sorted({m for m in mapped if mapped.count(m) > 1})
    if twice:
        problems.append(f"Each field takes one column; more than one column is mapped to {', '.join(twice)}.")
    missing = [name for name in dataset.required if name not in mapped]
    if missing:
        problem = f"No column is mapped to the required field{'s' if len(missing) > 1 else ''} {', '.join(missing)}."
        likely = _likely_dataset(headers, other_than=dataset.key)
        if likely:
            problem += f" The columns look like the {likely.label.lower()} dataset: is this the right dataset?"
        problems.append(problem)
    return problems


def _likely_dataset(headers: list[str], *, other_than: str) -> Dataset | None:
    """The dataset whose required fields the headers all name, if any (wrong-dataset hint)."""
    names = {header_normalised(h) for h in headers}
    for candidate in DATASETS.values():
        if candidate.key != other_than and all(name in names for name in candidate.required):
            return candidate
    return None

