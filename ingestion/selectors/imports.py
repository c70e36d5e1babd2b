"""Reads of imports: the history, a job's rejected rows, and the mapping step's preview of
the stored upload."""
import zoneinfo
from typing import Iterator

from django.db import connection
from django.db.models import QuerySet

from ingestion.csvfiles import csv_line, records_read
from ingestion.datasets import DATASETS
from ingestion.models import ImportJob
from ingestion.uploads import record_errors, upload_data_offset, upload_format, upload_open


def import_list() -> QuerySet:
    return ImportJob.objects.select_related("created_by").order_by("-created_at")


def import_rejections(*, job) -> QuerySet:
    return job.rejections.order_by("line")


def rejected_rows_csv(*, job) -> Iterator[str]:
    """The rejected rows of an import as CSV lines: the file's columns as read, plus an
    ``error`` column naming each problem, written like the upload (same delimiter, a BOM
    if it had one) so the same spreadsheet opens it. Streamed, for many rejections."""
    yield ("\ufeff" if job.bom else "") + csv_line([*job.headers, "error"], delimiter=job.delimiter)
    for values, errors in import_rejections(job=job).values_list("values", "errors").iterator(chunk_size=2000):
        message = "; ".join(e["error"] for e in errors)
        padded = list(values) + [""] * (len(job.headers) - len(values))
        yield csv_line([*padded, message], delimiter=job.delimiter)



def import_preview(*, job: ImportJob, mapping: list[str], limit: int = 10) -> list[dict]:
    """The first ``limit`` rows of the file as they would be imported with ``mapping``:
    each with its line, its cells (value and error, if any) and errors of the whole row."""
    dataset = DATASETS[job.dataset]
    tz = zoneinfo.ZoneInfo(connection.tenant.time_zone)
    fmt = upload_format(job)
    column_of = {name: index for index, name in enumerate(mapping) if name}
    rows = []
    with upload_open(job) as file:
        for record in records_read(file, fmt, offset=upload_data_offset(job, file), line=2):
            errors = record_errors(dataset, job.headers, mapping, record, tz)[1]
            cells = [{"value": value, "error": ""} for value in record.values]
            row_errors = []
            for name, message in errors:
                index = column_of.get(name)
                if index is not None and index < len(cells):
                    cells[index]["error"] = f"{cells[index]['error']}; {message}" if cells[index]["error"] else message
                else:
                    row_errors.append(message)
            rows.append({"line": record.line, "cells": cells, "row_errors": row_errors, "ok": not errors})
            if len(rows) >= limit:
                break
    return rows

