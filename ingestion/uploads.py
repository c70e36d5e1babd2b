"""A stored CSV upload of an import: where it is kept, reading it back, and judging one of
its rows. Shared by the mapping preview (a read) and the import run (a write)."""
import tempfile
import uuid
from typing import BinaryIO

from django.core.files import File
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import UploadedFile

from ingestion.csvfiles import CsvFormat, Record as CsvRecord, sniff, utf16_to_utf8
from ingestion.datasets import Dataset, row_parse
from ingestion.models import ImportJob


def upload_name(schema: str) -> str:
    return f"imports/{schema}/{uuid.uuid4().hex}.csv"


def upload_converted(upload: UploadedFile):
    """The upload as stored: UTF-16 files are converted to UTF-8, everything else is kept
    byte for byte (and moved rather than copied when Django spooled it to disk)."""
    upload.seek(0)
    converted = tempfile.TemporaryFile()
    if utf16_to_utf8(upload, converted):
        converted.seek(0)
        return File(converted, name="upload.csv")
    converted.close()
    upload.seek(0)
    return upload


def size_text(n: float) -> str:
    if n < 1024:
        return f"{n:,.0f} bytes"
    for unit in ("KB", "MB"):
        n /= 1024
        if n < 1024:
            return f"{n:,.1f} {unit}"
    return f"{n / 1024:,.1f} GB"


def upload_open(job: ImportJob) -> BinaryIO:
    # The storage's own file object: Django's File wrapper rewinds when iterated.
    if not job.file:
        raise FileNotFoundError(job.pk)
    return default_storage.open(job.file.name, "rb").file


def upload_format(job: ImportJob) -> CsvFormat:
    return CsvFormat(encoding=job.encoding, delimiter=job.delimiter, headers=job.headers, data_offset=0)


def upload_data_offset(job: ImportJob, file) -> int:
    """Byte offset of the first data row, found again by reading the header."""
    return sniff(file, size=job.file_size).data_offset


def record_errors(dataset: Dataset, headers: list[str], mapping: list[str], record: CsvRecord, tz):
    """(parsed row or None, [(field or '', message)]) for one CSV record."""
    if record.problem:
        return None, [("", record.problem)]
    values = record.values
    if len(values) != len(headers):
        return None, [("", f"the row has {len(values)} column{'s' if len(values) != 1 else ''}, the header has {len(headers)}")]
    raw = {name: value for name, value in zip(mapping, values) if name}
    extra = {header: value for header, name, value in zip(headers, mapping, values) if not name}
    row = row_parse(dataset, raw, tz=tz, extra=extra)
    return row, row.errors
