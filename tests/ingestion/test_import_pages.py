"""The import pages: upload, mapping with preview, start, progress, report."""
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django_tenants.utils import tenant_context

from ingestion.models import Conversation, ImportJob
from ingestion.services import import_job_run
from tenants.accounts.models import Role
from tests.helpers import host_client

CSV = (
    "Ticket ID;Channel;Opened;Agent;Priority\r\n"
    "t-1;email;2026-03-01T10:00:00+01:00;ann;high\r\n"
    "t-2;phone;yesterday;bob;low\r\n"
    "t-3;chat;2026-03-02 09:30;ann;low\r\n"
).encode("utf-8-sig")


def upload(client, data=CSV, name="tickets.csv", dataset="conversations"):
    return client.post("/data/import/", {"dataset": dataset, "file": SimpleUploadedFile(name, data, "text/csv")})


def test_upload_map_preview_start_and_report(workspace, django_capture_on_commit_callbacks):
    client = host_client(workspace, workspace.lead)
    response = upload(client)
    assert response.status_code == 302
    connection.set_schema_to_public()
    with tenant_context(workspace):
        job = ImportJob.objects.get()
    assert response["Location"] == f"/data/imports/{job.pk}/"
    assert (job.encoding, job.delimiter, job.headers) == ("utf-8", ";", ["Ticket ID", "Channel", "Opened", "Agent", "Priority"])
    # Channel and Agent match by name; the others need mapping.
    assert job.mapping == ["", "channel", "", "agent", ""]

    page = client.get(response["Location"])
    assert page.status_code == 200
    body = page.content.decode()
    assert "No column is mapped to the required fields external_id, created_at." in body
    assert "disabled" in body

    mapping = {"col_0": "external_id", "col_1": "channel", "col_2": "created_at", "col_3": "agent", "col_4": "",
               "mode": "valid_rows"}
    preview = client.post(response["Location"], {**mapping, "preview": "1"})
    body = preview.content.decode()
    assert preview.status_code == 200
    assert "created_at: &#x27;yesterday&#x27; is not an ISO 8601 timestamp" in body
    assert 'class="cell-error"' in body

    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        started = client.post(response["Location"], {**mapping, "start": "1"})
    assert started.status_code == 302
    assert len(callbacks) == 1  # the import task, sent on commit
    connection.set_schema_to_public()
    with tenant_context(workspace):
        job.refresh_from_db()
        assert job.status == ImportJob.Status.QUEUED
        assert job.mapping == ["external_id", "channel", "created_at", "agent", ""]
        job = import_job_run(job_id=str(job.pk))
        assert (job.status, job.created_rows, job.rejected_rows, job.total_rows) == ("done", 2, 1, 3)
        assert Conversation.objects.get(external_id="t-1").extra == {"Priority": "high"}
    connection.set_schema_to_public()

    report = client.get(f"/data/imports/{job.pk}/").content.decode()
    assert "Rejected rows" in report and "created_at: &#x27;yesterday&#x27;" in report
    rejected = client.get(f"/data/imports/{job.pk}/rejected.csv")
    assert b"".join(rejected.streaming_content).decode() == (
        "Ticket ID,Channel,Opened,Agent,Priority,error\r\n"
        "t-2,phone,yesterday,bob,low,created_at: 'yesterday' is not an ISO 8601 timestamp (e.g. 2026-03-01T14:30:00+01:00)\r\n"
    )
    history = client.get("/data/imports/").content.decode()
    assert "tickets.csv" in history

    # The mapping is remembered for the next file of this dataset.
    second = upload(client, name="more.csv")
    connection.set_schema_to_public()
    with tenant_context(workspace):
        newest = ImportJob.objects.order_by("-created_at").first()
    assert second.status_code == 302 and newest.mapping == ["external_id", "channel", "created_at", "agent", ""]


def test_bad_files_are_refused_with_the_reason(workspace):
    client = host_client(workspace, workspace.lead)
    cases = [
        (b"", "The file is empty."),
        (b"%PDF-1.7 ...", "This is a PDF document, not a CSV file."),
        (b"external_id,channel,created_at\r\n", "The file has a header row but no data rows."),
    ]
    for data, message in cases:
        response = upload(client, data=data)
        assert response.status_code == 400
        assert message in response.content.decode()


def test_import_pages_are_for_team_leads(workspace, make_member):
    agent = make_member(Role.AGENT)
    client = host_client(workspace, agent)
    assert client.get("/data/import/").status_code == 403
    assert client.get("/data/imports/").status_code == 403
