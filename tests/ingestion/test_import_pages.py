"""The import pages: upload, mapping with preview, start, progress, report."""
from datetime import timedelta
from html.parser import HTMLParser

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.utils import timezone
from django_tenants.utils import tenant_context

from ingestion.views.imports import duration_text
from ingestion.models import Conversation, ImportJob
from ingestion.services.import_run import import_job_run
from tenants.accounts.models import Role
from tests.helpers import host_client

CSV = (
    "Ticket ID;Channel;Opened;Agent;Priority\r\n"
    "t-1;email;2026-03-01T10:00:00+01:00;ann;high\r\n"
    "t-2;phone;yesterday;bob;low\r\n"
    "t-3;chat;2026-03-02 09:30;ann;low\r\n"
).encode("utf-8-sig")


MAPPING = {"col_0": "external_id", "col_1": "channel", "col_2": "created_at", "col_3": "agent", "col_4": ""}


def upload(client, data=CSV, name="tickets.csv", dataset="conversations"):
    return client.post("/data/import/", {"dataset": dataset, "file": SimpleUploadedFile(name, data, "text/csv")})


def newest_job(workspace) -> ImportJob:
    connection.set_schema_to_public()
    with tenant_context(workspace):
        return ImportJob.objects.order_by("-created_at").first()


def job_update(workspace, job, **fields) -> ImportJob:
    connection.set_schema_to_public()
    with tenant_context(workspace):
        ImportJob.objects.filter(pk=job.pk).update(**fields)
        job.refresh_from_db()
    return job


def uploaded_job(client, workspace, **kwargs) -> ImportJob:
    assert upload(client, **kwargs).status_code == 302
    return newest_job(workspace)


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

    mapping = {**MAPPING, "mode": "valid_rows"}
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
    # Written like the upload: semicolons and a BOM.
    assert b"".join(rejected.streaming_content).decode() == (
        "\ufeffTicket ID;Channel;Opened;Agent;Priority;error\r\n"
        "t-2;phone;yesterday;bob;low;created_at: 'yesterday' is not an ISO 8601 timestamp (e.g. 2026-03-01T14:30:00+01:00)\r\n"
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


def test_all_or_nothing_from_the_page_imports_nothing_and_says_so(workspace, django_capture_on_commit_callbacks):
    client = host_client(workspace, workspace.lead)
    job = uploaded_job(client, workspace)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        started = client.post(f"/data/imports/{job.pk}/", {**MAPPING, "mode": "all_or_nothing", "start": "1"})
    assert started.status_code == 302 and len(callbacks) == 1
    job = newest_job(workspace)
    assert (job.status, job.mode, job.phase) == ("queued", "all_or_nothing", "validate")
    with tenant_context(workspace):
        job = import_job_run(job_id=str(job.pk))
        assert Conversation.objects.count() == 0
    assert (job.status, job.total_rows, job.created_rows, job.rejected_rows, job.skipped_rows) == ("done", 3, 0, 1, 2)

    page = client.get(f"/data/imports/{job.pk}/")
    body = page.content.decode()
    assert page.status_code == 200
    assert "All or nothing: 1 row is invalid, so no row was imported. Fix it and import the file again." in body
    assert report_figures(body) == {"Created": "0", "Updated": "0", "Unchanged": "0", "Rejected": "1",
                                    "Valid, not imported": "2"}
    assert text_of(body, "rejections") == (
        "Line Column Reason 3 Opened → created_at created_at: 'yesterday' is not an ISO 8601 timestamp "
        "(e.g. 2026-03-01T14:30:00+01:00)")
    assert 'http-equiv="refresh"' not in body and "import-progress.js" not in body


def test_the_confirmed_mapping_is_suggested_on_the_next_file(workspace):
    client = host_client(workspace, workspace.lead)
    job = uploaded_job(client, workspace)
    # Preview only: nothing is remembered until the import is started.
    client.post(f"/data/imports/{job.pk}/", {**MAPPING, "mode": "valid_rows", "preview": "1"})
    assert uploaded_job(client, workspace).mapping == ["", "channel", "", "agent", ""]
    assert client.post(f"/data/imports/{job.pk}/", {**MAPPING, "mode": "valid_rows", "start": "1"}).status_code == 302

    # The next file names the same columns in another order and case, plus a new one.
    reordered = ("OPENED;ticket id;Notes;Channel\r\n2026-03-01 10:00;t-9;vip;chat\r\n").encode("utf-8-sig")
    job = uploaded_job(client, workspace, data=reordered, name="march.csv")
    page = client.get(f"/data/imports/{job.pk}/")
    assert page.status_code == 200
    form = page.context["form"]
    assert [form[f"col_{i}"].value() for i in range(4)] == ["created_at", "external_id", "", "channel"]
    body = page.content.decode()
    assert 'class="form-errors"' not in body
    assert 'name="start" class="button button-primary">Start the import' in body  # not disabled
    assert selected_options(body) == {"col_0": "created_at", "col_1": "external_id", "col_2": "", "col_3": "channel",
                                      "mode": "valid_rows"}


def test_progress_of_a_running_import(workspace):
    client = host_client(workspace, workspace.lead)
    job = uploaded_job(client, workspace)
    now = timezone.now()
    job = job_update(workspace, job, status="queued", mode="valid_rows", phase="load", file_size=10_000)
    assert client.get(f"/data/imports/{job.pk}/progress").json() == {
        # Queued at the first data row: byte 44 of 10,000 (BOM and header before it).
        "status": "queued", "status_label": "Queued", "phase": "Importing", "progress": 0.0044, "processed_rows": 0,
        "total_rows": None, "rejected_rows": 0, "rate": None, "seconds_left": None, "finished": False,
        "url": f"/data/imports/{job.pk}/"}

    job = job_update(workspace, job, status="running", checkpoint_offset=2_500, processed_rows=250, total_rows=1_000,
                     rejected_rows=4, started_at=now - timedelta(seconds=10), heartbeat_at=now - timedelta(seconds=5))
    assert client.get(f"/data/imports/{job.pk}/progress").json() == {
        "status": "running", "status_label": "Running", "phase": "Importing", "progress": 0.25, "processed_rows": 250,
        "total_rows": 1000, "rejected_rows": 4, "rate": 50, "seconds_left": 15, "finished": False,
        "url": f"/data/imports/{job.pk}/"}

    # The page shows the same state, polls it with a script and refreshes itself without one.
    page = client.get(f"/data/imports/{job.pk}/")
    body = page.content.decode()
    assert page.status_code == 200
    assert '<noscript><meta http-equiv="refresh" content="3"></noscript>' in body
    assert 'src="/static/js/import-progress.js"' in body
    assert f'data-url="/data/imports/{job.pk}/progress"' in body
    assert '<progress max="1" value="0.25" aria-labelledby="progress-title">25%</progress>' in body
    assert text_of(body, "progress-figures") == "250 of about 1,000 rows · 50 rows/s · 15 s left · 4 rejected so far"

    # All or nothing reads the file twice: checking every row is the first half.
    job = job_update(workspace, job, mode="all_or_nothing", phase="validate", checkpoint_offset=5_000)
    state = client.get(f"/data/imports/{job.pk}/progress").json()
    assert (state["phase"], state["progress"], state["seconds_left"]) == ("Checking every row", 0.25, 15)
    assert text_of(client.get(f"/data/imports/{job.pk}/").content.decode(), "progress-head") == (
        "Running · Checking every row 25%")
    # Then importing is the second half; the rate counts the rows checked as well.
    job = job_update(workspace, job, phase="load", checkpoint_offset=2_500)
    state = client.get(f"/data/imports/{job.pk}/progress").json()
    assert (state["phase"], state["progress"], state["rate"], state["seconds_left"]) == ("Importing", 0.625, 250, 3)


def test_a_failed_import_shows_why(workspace):
    client = host_client(workspace, workspace.lead)
    job = uploaded_job(client, workspace)
    job = job_update(workspace, job, status="failed", processed_rows=1_200, created_rows=1_000, updated_rows=50,
                     unchanged_rows=30, rejected_rows=120, started_at=timezone.now(), finished_at=timezone.now(),
                     error="The uploaded file is no longer stored; upload it again.")
    page = client.get(f"/data/imports/{job.pk}/")
    body = page.content.decode()
    assert page.status_code == 200
    assert '<section class="card" role="alert">' in body
    assert "<p>The uploaded file is no longer stored; upload it again.</p>" in body
    assert "Rows checked: 1,200 · imported so far: 1,080 · rejected: 120" in body
    assert 'href="/data/import/?dataset=conversations">Upload a file</a>' in body
    assert 'http-equiv="refresh"' not in body and "import-progress.js" not in body
    assert client.get(f"/data/imports/{job.pk}/progress").json()["finished"] is True
    assert client.get(f"/data/imports/{job.pk}/rejected.csv").status_code == 404
    assert '<span class="status status-failed">Failed</span>' in client.get("/data/imports/").content.decode()


def test_another_workspaces_import_is_not_found(workspace, other_workspace):
    job = uploaded_job(host_client(workspace, workspace.lead), workspace)
    job_update(workspace, job, status="done", finished_at=timezone.now())
    stranger = host_client(other_workspace, other_workspace.lead)
    for url in (f"/data/imports/{job.pk}/", f"/data/imports/{job.pk}/progress", f"/data/imports/{job.pk}/rejected.csv"):
        assert stranger.get(url).status_code == 404, url
    assert stranger.post(f"/data/imports/{job.pk}/", {**MAPPING, "mode": "valid_rows", "start": "1"}).status_code == 404
    assert "tickets.csv" not in stranger.get("/data/imports/").content.decode()
    with tenant_context(other_workspace):
        assert not ImportJob.objects.exists()
    assert newest_job(workspace).status == "done"


def test_a_file_over_the_size_limit_is_refused(workspace, settings):
    settings.IMPORT_MAX_BYTES = 1024
    client = host_client(workspace, workspace.lead)
    form = client.get("/data/import/").content.decode()
    assert "a header row first; up to 1.0\xa0KB." in form
    big = CSV + b"t-4;email;2026-03-03T10:00:00+01:00;ann;low\r\n" * 40
    response = upload(client, data=big)
    assert response.status_code == 400
    assert text_of(response.content.decode(), "error") == (
        f"The file is {len(big) / 1024:.1f} KB, over the 1.0 KB limit. Split it into smaller files.")
    assert newest_job(workspace) is None


def test_a_file_for_another_dataset_gets_a_hint(workspace):
    customers = b"external_id,signed_up_at,name,email\r\nc-1,2026-01-05T10:00:00+01:00,Ann,ann@example.test\r\n"
    client = host_client(workspace, workspace.lead)
    job = uploaded_job(client, workspace, data=customers, name="customers.csv")
    assert job.mapping == ["external_id", "", "", ""]
    page = client.get(f"/data/imports/{job.pk}/")
    body = page.content.decode()
    assert text_of(body, "form-errors") == (
        "No column is mapped to the required fields channel, created_at. "
        "The columns look like the customers dataset: is this the right dataset?")
    assert 'name="start" class="button button-primary" disabled>' in body
    # Starting anyway is refused with the same reason, and nothing is queued.
    refused = client.post(f"/data/imports/{job.pk}/", {"col_0": "external_id", "col_1": "", "col_2": "", "col_3": "",
                                                       "mode": "valid_rows", "start": "1"})
    assert refused.status_code == 200 and "is this the right dataset?" in refused.content.decode()
    assert newest_job(workspace).status == "draft"


def test_every_control_of_the_import_pages_has_a_label(workspace):
    client = host_client(workspace, workspace.lead)
    upload_page = Controls.of(client.get("/data/import/").content.decode())
    assert upload_page.unlabelled() == [] and upload_page.fields == ["dataset", "file"]
    job = uploaded_job(client, workspace)
    mapping_page = Controls.of(client.get(f"/data/imports/{job.pk}/").content.decode())
    assert mapping_page.unlabelled() == []
    assert mapping_page.fields == ["col_0", "col_1", "col_2", "col_3", "col_4", "mode", "mode"]
    # Each column's select is labelled with the column's name in the file.
    assert [mapping_page.labels[f"id_col_{i}"] for i in range(5)] == ["Ticket ID", "Channel", "Opened", "Agent", "Priority"]
    assert [mapping_page.labels[f"id_mode_{i}"] for i in range(2)] == ["Import the valid rows", "All or nothing"]
    assert mapping_page.buttons == ["Update the preview", "Start the import"]
    assert mapping_page.legends == ["If some rows are invalid"]


@pytest.mark.parametrize("seconds, text", [
    (None, "—"), (0, "under a second"), (0.4, "under a second"), (4.25, "4.2 s"), (4, "4 s"), (42.4, "42 s"),
    (185, "3 min 5 s"), (7_830, "2 h 10 min"),
])
def test_durations_read_like_the_progress_script_writes_them(seconds, text):
    assert duration_text(seconds) == text


# ---------------------------------------------------------------------------- helpers

class Controls(HTMLParser):
    """The form controls in a page's main content and the labels pointing at them."""

    def __init__(self):
        super().__init__()
        self.controls, self.fields, self.labels, self.buttons, self.legends = [], [], {}, [], []
        self._text_for, self._in_main = None, False

    @classmethod
    def of(cls, html: str) -> "Controls":
        parser = cls()
        parser.feed(html)
        return parser

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        self._in_main = self._in_main or tag == "main"
        if not self._in_main:
            return
        if tag in ("select", "textarea") or (tag == "input" and attrs.get("type") not in ("hidden", "submit")):
            self.controls.append(attrs.get("id"))
            self.fields.append(attrs.get("name"))
        elif tag == "label":
            self._text_for = ("label", attrs.get("for"))
            self.labels[attrs.get("for")] = ""
        elif tag in ("button", "legend"):
            self._text_for = (tag, None)
            (self.buttons if tag == "button" else self.legends).append("")

    def handle_data(self, data):
        if self._text_for:
            kind, target = self._text_for
            if kind == "label":
                self.labels[target] += data.strip()
            else:
                holder = self.buttons if kind == "button" else self.legends
                holder[-1] += data.strip()

    def handle_endtag(self, tag):
        if tag in ("label", "button", "legend"):
            self._text_for = None
        self._in_main = self._in_main and tag != "main"

    def unlabelled(self) -> list:
        return [control for control in self.controls if not control or not self.labels.get(control)]


def text_of(html: str, css_class: str) -> str:
    """The text of the first element with ``css_class``, whitespace collapsed."""
    class Finder(HTMLParser):
        depth, parts = 0, []

        def handle_starttag(self, tag, attrs):
            if self.depth:
                self.depth += 1
            elif css_class in (dict(attrs).get("class") or "").split():
                self.depth = 1

        def handle_endtag(self, tag):
            if self.depth:
                self.depth -= 1

        def handle_data(self, data):
            if self.depth:
                self.parts.append(data)

    finder = Finder()
    finder.parts = []
    finder.feed(html)
    return " ".join(" ".join(finder.parts).split())


def report_figures(html: str) -> dict[str, str]:
    """The report's figures: {term: value}."""
    class Report(HTMLParser):
        inside, current, figures = None, None, {}

        def handle_starttag(self, tag, attrs):
            if tag in ("dt", "dd"):
                self.inside = tag

        def handle_endtag(self, tag):
            self.inside = None

        def handle_data(self, data):
            if self.inside == "dt":
                self.current = data.strip()
            elif self.inside == "dd":
                self.figures[self.current] = data.strip()

    report = Report()
    report.figures = {}
    report.feed(html)
    return report.figures


def selected_options(html: str) -> dict[str, str]:
    """The value each select and radio group of a page submits as rendered."""
    class Selected(HTMLParser):
        select, chosen = None, {}

        def handle_starttag(self, tag, attrs):
            attrs = dict(attrs)
            if tag == "select":
                self.select = attrs["name"]
            elif tag == "option" and self.select and "selected" in attrs:
                self.chosen[self.select] = attrs["value"]
            elif tag == "input" and attrs.get("type") == "radio" and "checked" in attrs:
                self.chosen[attrs["name"]] = attrs["value"]

        def handle_endtag(self, tag):
            if tag == "select":
                self.select = None

    parser = Selected()
    parser.chosen = {}
    parser.feed(html)
    return parser.chosen
