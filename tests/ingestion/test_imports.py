"""CSV imports end to end through the services, the API and a real Celery worker."""
import os

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django_tenants.utils import tenant_context

from ingestion.csvfiles import ImportFileError
from ingestion.datasets import DATASETS
from ingestion.models import ColumnMapping, Conversation, Customer, ImportJob, ImportRejection, TouchedDay
from ingestion.services.import_run import import_job_run
from ingestion.services.imports import import_create, imports_resume
from tenants.accounts.models import Role
from tests.helpers import host_client, api_key_client, wait_until

HEADER = "external_id,channel,created_at,resolved_at,csat_score,priority\r\n"
GOOD = [
    "c-1,email,2026-03-01T10:00:00+01:00,2026-03-01T12:00:00+01:00,5,high",
    "c-2,phone,2026-03-31T23:30:00,,,low",  # no offset: Europe/Paris, still 31 March locally
    "c-3,chat,2026-04-02T08:00:00Z,2026-04-03T08:00:00Z,4,",
]
BAD = [
    "c-4,email,not a date,,,",  # line 5
    "c-5,,2026-03-01T10:00:00Z,2026-02-01T10:00:00Z,9,",  # line 6: three problems
    "c-6,email",  # line 7: too few columns
]


def csv_file(lines, name="conversations.csv", header=HEADER):
    return SimpleUploadedFile(name, (header + "\r\n".join(lines) + "\r\n").encode(), "text/csv")


def run(workspace, lines, mode="valid_rows", dataset="conversations", **kwargs):
    with tenant_context(workspace):
        job = import_create(dataset=DATASETS[dataset], upload=csv_file(lines, **kwargs), mode=mode, source="api", start=True)
        return import_job_run(job_id=str(job.pk))


def test_valid_rows_are_imported_and_each_bad_row_is_reported(workspace):
    job = run(workspace, GOOD + BAD)
    assert (job.status, job.total_rows, job.created_rows, job.updated_rows, job.unchanged_rows, job.rejected_rows) == (
        "done", 6, 3, 0, 0, 3)
    assert job.progress == 1.0
    with tenant_context(workspace):
        assert sorted(Conversation.objects.values_list("external_id", flat=True)) == ["c-1", "c-2", "c-3"]
        assert Conversation.objects.get(external_id="c-1").extra == {"priority": "high"}
        rejections = {r.line: r.errors for r in ImportRejection.objects.filter(job=job)}
    assert rejections == {
        5: [{"column": "created_at", "error": "created_at: 'not a date' is not an ISO 8601 timestamp (e.g. 2026-03-01T14:30:00+01:00)"}],
        6: [{"column": "channel", "error": "channel is required"},
            {"column": "csat_score", "error": "csat_score must be at most 5, got 9"}],
        7: [{"column": "", "error": "the row has 2 columns, the header has 6"}],
    }


def test_row_checks_run_once_fields_parse(workspace):
    job = run(workspace, ["c-9,email,2026-03-01T10:00:00Z,2026-02-01T10:00:00Z,,"])
    with tenant_context(workspace):
        assert ImportRejection.objects.get(job=job).errors == [{"column": "resolved_at", "error": "resolved_at is before created_at"}]


def test_reimport_is_unchanged_and_a_changed_row_is_updated(workspace):
    run(workspace, GOOD)
    again = run(workspace, GOOD)
    assert (again.created_rows, again.updated_rows, again.unchanged_rows, again.rejected_rows) == (0, 0, 3, 0)
    changed = run(workspace, [GOOD[0].replace("email", "chat")] + GOOD[1:])
    assert (changed.created_rows, changed.updated_rows, changed.unchanged_rows) == (0, 1, 2)
    with tenant_context(workspace):
        assert Conversation.objects.count() == 3
        assert Conversation.objects.get(external_id="c-1").channel == "chat"


def test_all_or_nothing_imports_nothing_when_a_row_is_bad(workspace):
    job = run(workspace, GOOD + BAD, mode="all_or_nothing")
    assert (job.status, job.total_rows, job.created_rows, job.rejected_rows, job.skipped_rows) == ("done", 6, 0, 3, 3)
    with tenant_context(workspace):
        assert Conversation.objects.count() == 0
    job = run(workspace, GOOD, mode="all_or_nothing")
    assert (job.status, job.total_rows, job.created_rows, job.rejected_rows, job.skipped_rows) == ("done", 3, 3, 0, 0)


def test_counts_add_up_over_many_chunks_with_repeated_keys(workspace, settings):
    settings.IMPORT_CHUNK_ROWS = 7
    lines = [f"k-{i % 40},chat,2026-05-{1 + i % 28:02d}T10:00:00Z,,,{i}" for i in range(100)] + BAD
    job = run(workspace, lines)
    # 40 distinct keys, each seen 2 or 3 times: the later sightings update it (their
    # priority differs), every row is counted once.
    assert (job.total_rows, job.created_rows, job.updated_rows, job.unchanged_rows, job.rejected_rows) == (103, 40, 60, 0, 3)
    assert job.created_rows + job.updated_rows + job.unchanged_rows + job.rejected_rows + job.skipped_rows == job.total_rows
    with tenant_context(workspace):
        assert Conversation.objects.count() == 40


def test_touched_days_are_recorded_in_the_workspace_time_zone(workspace):
    job = run(workspace, GOOD)
    with tenant_context(workspace):
        days = set(TouchedDay.objects.filter(dataset="conversations").values_list("day", flat=True))
    # created_at and resolved_at of every row, as local days in Europe/Paris (c-3's 08:00Z
    # is 10:00 local); c-2 at 23:30 local stays on 31 March.
    assert sorted(str(d) for d in days) == ["2026-03-01", "2026-03-31", "2026-04-02", "2026-04-03"]
    assert (str(job.touched_from), str(job.touched_until)) == ("2026-03-01", "2026-04-03")
    # Moving a conversation to another day touches both the old and the new day.
    with tenant_context(workspace):
        TouchedDay.objects.all().delete()
    run(workspace, ["c-1,email,2026-06-10T10:00:00+02:00,2026-06-10T12:00:00+02:00,5,high"])
    with tenant_context(workspace):
        days = sorted(str(d) for d in TouchedDay.objects.values_list("day", flat=True))
    assert days == ["2026-03-01", "2026-06-10"]


def test_an_interrupted_import_resumes_from_its_checkpoint_without_duplicates(workspace, settings, monkeypatch):
    settings.IMPORT_CHUNK_ROWS = 10
    lines = [f"r-{i},email,2026-05-01T10:00:00Z,,," for i in range(55)]
    from ingestion.services import import_run as services

    real_chunk, calls = services._import_chunk, []

    def crash_on_third_chunk(*args):  # (job, dataset, chunk, parser)
        calls.append(1)
        if len(calls) == 3:
            raise KeyboardInterrupt("worker killed")  # like a worker dying mid-chunk
        return real_chunk(*args)

    monkeypatch.setattr(services, "_import_chunk", crash_on_third_chunk)
    with tenant_context(workspace):
        job = import_create(dataset=DATASETS["conversations"], upload=csv_file(lines), source="api", start=True)
        with pytest.raises(KeyboardInterrupt):
            import_job_run(job_id=str(job.pk))
        job.refresh_from_db()
        assert (job.status, job.processed_rows, job.created_rows, job.checkpoint_line) == ("running", 20, 20, 22)
        job = import_job_run(job_id=str(job.pk))
        assert (job.status, job.total_rows, job.created_rows, job.attempts) == ("done", 55, 55, 2)
        assert Conversation.objects.count() == 55


def test_mapping_is_suggested_from_the_last_confirmed_one(workspace):
    with tenant_context(workspace):
        ColumnMapping.objects.create(dataset="customers", columns={"client_ref": "external_id", "joined": "signed_up_at"})
        job = import_create(dataset=DATASETS["customers"],
                            upload=csv_file(["a,2026-01-01,Ann"], header="Client Ref,Joined,Name\r\n"))
    assert job.mapping == ["external_id", "signed_up_at", "name"]


def test_a_file_for_another_dataset_is_refused_by_the_api_path(workspace):
    with tenant_context(workspace), pytest.raises(ImportFileError) as error:
        import_create(dataset=DATASETS["conversations"], upload=csv_file(["a,2026-01-01"], header="external_id,signed_up_at\r\n"),
                      source="api", start=True)
    assert str(error.value) == ("No column is mapped to the required fields channel, created_at. "
                                "The columns look like the customers dataset: is this the right dataset?")


def test_reading_a_report_writes_nothing_and_the_nightly_cleanup_deletes_the_upload_a_day_after(workspace):
    from datetime import timedelta

    from django.utils import timezone

    from ingestion.services.imports import imports_cleanup

    job = run(workspace, GOOD)
    path = job.file.path
    with tenant_context(workspace):
        before = ImportJob.objects.values().get(pk=job.pk)
    assert host_client(workspace, workspace.lead).get(f"/data/imports/{job.pk}/").status_code == 200
    assert api_client(workspace).get(f"/api/v1/imports/{job.pk}").status_code == 200
    with tenant_context(workspace):
        assert ImportJob.objects.values().get(pk=job.pk) == before  # a GET writes nothing
        assert os.path.exists(path) and imports_cleanup() == 0  # finished today: kept
        ImportJob.objects.filter(pk=job.pk).update(finished_at=timezone.now() - timedelta(days=1, minutes=1))
        assert imports_cleanup() == 1
        job.refresh_from_db()
    assert not os.path.exists(path) and job.file.name == "" and job.created_rows == 3


# ------------------------------------------------------------------------------ API

def api_client(workspace, role=Role.TEAM_LEAD):
    return api_key_client(workspace, role)


def test_api_refuses_bad_files_with_the_reason(workspace):
    client = api_client(workspace)
    cases = [
        ({"dataset": "conversations", "file": SimpleUploadedFile("x.csv", b"")}, "The file is empty."),
        ({"dataset": "conversations", "file": SimpleUploadedFile("x.pdf", b"%PDF-1.4")},
         "This is a PDF document, not a CSV file. Export or save it as CSV (comma or semicolon separated) and upload that."),
        ({"dataset": "conversations", "file": csv_file([], header="external_id,channel,created_at")},
         "The file has a header row but no data rows."),
        ({"dataset": "conversations", "file": csv_file(GOOD), "mode": "sometimes"}, None),
        ({"dataset": "tickets", "file": csv_file(GOOD)}, None),
    ]
    for data, message in cases:
        response = client.post("/api/v1/imports", data)
        assert response.status_code == 400, response.content
        if message:
            assert response.json()["errors"]["file"] == [message]
    assert client.post("/api/v1/imports", {"dataset": "conversations"}).json()["errors"]["file"] == ["No file was submitted."]
    agent = api_client(workspace, Role.AGENT)
    assert agent.post("/api/v1/imports", {"dataset": "conversations", "file": csv_file(GOOD)}).status_code == 403


def test_api_size_limit(workspace, settings):
    settings.IMPORT_MAX_BYTES = 100
    upload = csv_file(GOOD * 3)
    assert upload.size == 550
    response = api_client(workspace).post("/api/v1/imports", {"dataset": "conversations", "file": upload})
    assert response.status_code == 400
    assert response.json()["errors"]["file"] == ["The file is 550 bytes, over the 100 bytes limit. Split it into smaller files."]


def test_api_import_runs_in_the_worker_and_reports(committed_workspace, celery_worker):
    workspace = committed_workspace("impapi")
    other = committed_workspace("impother")
    client = api_client(workspace)
    response = client.post("/api/v1/imports", {"dataset": "conversations", "file": csv_file(GOOD + BAD)})
    assert response.status_code == 202, response.content
    body = response.json()
    assert body["status"] == "queued" and body["url"] == f"http://impapi.localhost/api/v1/imports/{body['id']}"

    def finished():
        state = client.get(f"/api/v1/imports/{body['id']}").json()
        return state if state["status"] in ("done", "failed") else None

    state = wait_until(finished, timeout=120)
    assert {k: state[k] for k in ("status", "total_rows", "imported_rows", "rejected_rows", "progress")} == {
        "status": "done", "total_rows": 6, "imported_rows": 3, "rejected_rows": 3, "progress": 1.0}
    assert state["rejected_rows_url"] == f"http://impapi.localhost/api/v1/imports/{body['id']}/rejected.csv"
    rejected = client.get(f"/api/v1/imports/{body['id']}/rejected.csv")
    lines = b"".join(rejected.streaming_content).decode().splitlines()
    assert lines[0] == "external_id,channel,created_at,resolved_at,csat_score,priority,error"
    assert lines[3] == 'c-6,email,,,,,"the row has 2 columns, the header has 6"'
    with tenant_context(workspace):
        assert Conversation.objects.count() == 3
    # Another workspace's key sees nothing of it, and nothing was written there.
    assert api_client(other).get(f"/api/v1/imports/{body['id']}").status_code == 404
    with tenant_context(other):
        assert Conversation.objects.count() == 0 and ImportJob.objects.count() == 0


def test_a_worker_killed_mid_import_is_resumed_by_the_next_worker(committed_workspace, celery_worker):
    workspace = committed_workspace("impkill")
    rows = 100_000  # 100 chunks of 1,000 in tests: long enough to kill the worker in the middle
    lines = [f"k-{i},chat,2026-05-{1 + i % 28:02d}T10:{i % 60:02d}:00Z,,{1 + i % 5}," for i in range(rows)]
    with tenant_context(workspace):
        job = import_create(dataset=DATASETS["conversations"], upload=csv_file(lines), source="api", start=True)
    connection.set_schema_to_public()

    def progress():
        with tenant_context(workspace):
            job.refresh_from_db()
        return job.processed_rows

    wait_until(lambda: progress() >= 3000, timeout=180, interval=0.02)
    celery_worker.kill()
    with tenant_context(workspace):
        job.refresh_from_db()
        assert job.status == "running" and 0 < job.processed_rows < rows
        interrupted_at = job.processed_rows
        assert Conversation.objects.count() == job.created_rows  # chunk and checkpoint commit together
    # The next worker to start re-queues the interrupted import (advisory lock free) and
    # finishes it from its checkpoint.
    celery_worker.start()
    wait_until(lambda: progress() and job.status == "done", timeout=300)
    with tenant_context(workspace):
        job.refresh_from_db()
        assert (job.total_rows, job.created_rows, job.updated_rows, job.rejected_rows) == (rows, rows, 0, 0)
        assert job.attempts == 2 and interrupted_at < rows
        assert Conversation.objects.count() == rows
        assert imports_resume() == 0  # nothing left to resume


@pytest.mark.parametrize("key", list(DATASETS))
def test_each_dataset_sample_downloads_and_imports_without_a_rejection(workspace, key):
    from tests.helpers import host_client

    response = host_client(workspace, workspace.lead).get(f"/data/{key}/sample.csv")
    assert response.status_code == 200
    assert response["Content-Disposition"] == f'attachment; filename="pulse-sample-{key}.csv"'
    text = response.content.decode()
    lines = text.splitlines()
    assert lines[0] == ",".join(f.name for f in DATASETS[key].fields)
    assert len(lines) == 26
    connection.set_schema_to_public()
    with tenant_context(workspace):
        job = import_create(dataset=DATASETS[key], upload=SimpleUploadedFile(f"{key}.csv", text.encode()),
                            source="api", start=True)
        job = import_job_run(job_id=str(job.pk))
    assert (job.status, job.total_rows, job.rejected_rows, job.imported_rows) == ("done", 25, 0, 25)


def test_rejected_rows_are_written_like_the_upload(workspace):
    from ingestion.selectors.imports import rejected_rows_csv

    upload = SimpleUploadedFile("fr.csv", "\ufeffexternal_id;channel;created_at\r\nc-1;email;hier\r\n".encode())
    with tenant_context(workspace):
        job = import_create(dataset=DATASETS["conversations"], upload=upload, source="api", start=True)
        job = import_job_run(job_id=str(job.pk))
        assert "".join(rejected_rows_csv(job=job)) == (
            "\ufeffexternal_id;channel;created_at;error\r\n"
            "c-1;email;hier;created_at: 'hier' is not an ISO 8601 timestamp (e.g. 2026-03-01T14:30:00+01:00)\r\n")


def test_cleanup_deletes_abandoned_drafts_and_old_unread_uploads(workspace):
    from datetime import timedelta

    from django.utils import timezone

    from ingestion.services.imports import imports_cleanup

    with tenant_context(workspace):
        draft = import_create(dataset=DATASETS["conversations"], upload=csv_file(GOOD))
        recent_draft = import_create(dataset=DATASETS["conversations"], upload=csv_file(GOOD))
        finished = import_job_run(job_id=str(
            import_create(dataset=DATASETS["conversations"], upload=csv_file(GOOD), source="api", start=True).pk))
        ImportJob.objects.filter(pk=draft.pk).update(created_at=timezone.now() - timedelta(days=3))
        ImportJob.objects.filter(pk=finished.pk).update(finished_at=timezone.now() - timedelta(days=31))
        paths = [draft.file.path, recent_draft.file.path, finished.file.path]
        assert imports_cleanup() == 2
        assert [os.path.exists(p) for p in paths] == [False, True, False]
        assert not ImportJob.objects.filter(pk=draft.pk).exists()
        finished.refresh_from_db()
        assert (finished.file.name, finished.created_rows) == ("", 3)  # the report stays


def test_rows_referencing_customers_not_yet_imported_are_kept_so_files_can_come_in_any_order(workspace):
    job = run(workspace, ["c-1,email,2026-03-01T10:00:00Z,,,", ], header="external_id,channel,created_at,x,y,z\r\n")
    later = run(workspace, ["cus-404,2026-01-01T00:00:00Z"], dataset="customers", header="external_id,signed_up_at\r\n")
    revenue = run(workspace, ["cus-999,2026-03,10.50"], dataset="revenue", header="customer_external_id,month,mrr\r\n")
    assert (job.rejected_rows, later.rejected_rows, revenue.rejected_rows, revenue.created_rows) == (0, 0, 0, 1)
    conversations = run(workspace, ["c-2,chat,2026-03-02T10:00:00Z,cus-777"], header="external_id,channel,created_at,customer_external_id\r\n")
    assert conversations.created_rows == 1
    with tenant_context(workspace):
        assert Conversation.objects.get(external_id="c-2").customer_external_id == "cus-777"
        assert not Customer.objects.filter(external_id="cus-777").exists()
