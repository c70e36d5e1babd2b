"""CSV file responses shared by the pages and the API (one owner, so both send the same
file under the same name)."""
from django.http import HttpResponse, StreamingHttpResponse

from ingestion.datasets import Dataset
from ingestion.models import ImportJob
from ingestion.selectors.imports import rejected_rows_csv
from ingestion.selectors.records import dataset_sample_csv


def rejected_rows_response(job: ImportJob) -> StreamingHttpResponse:
    """The rejected rows of ``job`` as a streamed CSV download, named after the upload."""
    response = StreamingHttpResponse(rejected_rows_csv(job=job), content_type="text/csv; charset=utf-8")
    stem = job.file_name.rsplit(".", 1)[0] or "import"
    response["Content-Disposition"] = f'attachment; filename="{stem}-rejected.csv"'
    return response


def dataset_sample_response(dataset: Dataset) -> HttpResponse:
    """A sample CSV of ``dataset`` as a download."""
    response = HttpResponse(dataset_sample_csv(dataset_key=dataset.key), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="pulse-sample-{dataset.key}.csv"'
    return response
