"""CSV import in a real browser (Debian's Chromium via Playwright) against a live server,
with the import run by a real Celery worker process: upload, mapping with preview, live
progress, report, rejected rows download, list of imports; without JavaScript on a phone."""
import re

import pytest
from django.db import connection
from playwright.sync_api import expect
from django_tenants.utils import tenant_context

from ingestion.models import Conversation, ImportJob
from tests.e2e.helpers import SCREENSHOTS, sign_in

pytestmark = [pytest.mark.e2e, pytest.mark.worker]

HEADER = ["Ticket ID", "Channel", "Opened at", "Agent", "Team", "CSAT", "Subject", "Priority"]
CHANNELS = ["email", "chat", "phone", "social", "messaging"]
SUBJECTS = ["Cannot sign in after the password reset, the app keeps sending me back to the sign-in screen",
            "Invoice", "Refund for a double charge on the March invoice", "Where is my order?"]
# Three invalid rows, by index (the file line is index + 2: the header is line 1).
BAD_TIME, BAD_CSAT, NO_CHANNEL = 3, 150, 271


def ticket(i: int, *, valid: bool = False) -> list[str]:
    values = [f"T-{i:05d}", CHANNELS[i % 5], f"2026-03-{1 + i % 28:02d} {8 + i % 10:02d}:{i % 60:02d}",
              "Zoë" if i % 7 == 0 else f"agent{i % 7}", f"team {i % 3}", str(1 + i % 5) if i % 4 else "",
              SUBJECTS[i % 4], "high" if i % 9 == 0 else "normal"]
    if not valid:
        if i == BAD_TIME:
            values[2] = "next tuesday"
        elif i == BAD_CSAT:
            values[5] = "7"
        elif i == NO_CHANNEL:
            values[1] = ""
    return values


def tickets_csv(rows: list[list[str]]) -> bytes:
    """Semicolon separated, CRLF, UTF-8 with a BOM, as a French spreadsheet exports it."""
    return "\r\n".join(";".join(values) for values in [HEADER, *rows]).encode("utf-8-sig") + b"\r\n"


MAPPING = {"Ticket ID": "external_id", "Opened at": "created_at", "CSAT": "csat_score"}


def upload(page, path, dataset="Conversations") -> None:
    page.get_by_label("Dataset", exact=True).select_option(label=dataset)
    page.get_by_label("CSV file").set_input_files(str(path))
    page.get_by_role("button", name="Upload and map columns").click()
    page.get_by_role("heading", name=re.compile("^Map the columns of")).wait_for()
    # The heading can be there before the rest of the page is parsed (the selects and
    # their options read next).
    page.wait_for_load_state()


def expect_report(page, counts: dict[str, str]) -> None:
    """The report lists exactly ``counts``, in order (waiting for the page to show them:
    all_inner_texts() reads at once, maybe a page still being parsed)."""
    report = page.locator("dl.report")
    expect(report.locator("dt")).to_have_text(list(counts), use_inner_text=True)
    expect(report.locator("dd")).to_have_text(list(counts.values()), use_inner_text=True)


def follow_the_import(page, heading: str, timeout: float) -> None:
    """The page follows the job and reloads itself into the report: wait for it, then for
    that page's whole document."""
    done = page.get_by_role("heading", name=re.compile("^Done"))
    expect(done).to_have_text(heading, use_inner_text=True, timeout=timeout)
    page.wait_for_load_state()


@pytest.fixture
def acme(committed_workspace, celery_worker, live_server):
    workspace = committed_workspace("acme")
    port = live_server.url.rsplit(":", 1)[1]
    workspace.base = f"http://acme.localhost:{port}"
    return workspace


def test_upload_map_follow_the_progress_and_read_the_report(acme, page, screenshot, tmp_path):
    rows = [ticket(i) for i in range(300)]
    small = tmp_path / "tickets-march.csv"
    small.write_bytes(tickets_csv(rows))
    sign_in(page, acme.base, acme.lead.email)

    page.get_by_role("navigation", name="Main").get_by_role("link", name="Data").click()
    page.get_by_role("link", name="Import a CSV file").click()
    page.get_by_role("heading", name="Import a CSV file").wait_for()
    screenshot("import-upload")
    upload(page, small)

    # What Pulse read of the file, and its suggestions: three columns matched by name.
    assert page.locator(".page-head .muted").inner_text() == (
        "Into Conversations · 28.5\xa0KB · UTF-8 with BOM · semicolon separated · 8 columns")
    suggested = {h: page.get_by_label(h, exact=True).input_value() for h in HEADER}
    assert suggested == {"Ticket ID": "", "Channel": "channel", "Opened at": "", "Agent": "agent", "Team": "team",
                         "CSAT": "", "Subject": "subject", "Priority": ""}
    assert page.get_by_role("alert").inner_text() == "No column is mapped to the required fields external_id, created_at."
    assert page.get_by_role("button", name="Start the import").is_disabled()

    for header, field_name in MAPPING.items():
        page.get_by_label(header, exact=True).select_option(field_name)
    # The mapping page already has the preview's heading: wait for the page the click
    # brings (same address), not for the heading.
    with page.expect_navigation():
        page.get_by_role("button", name="Update the preview").click()
    page.get_by_role("heading", name="Preview of the first rows").wait_for()
    assert page.get_by_role("alert").count() == 0
    # Line 5's unreadable date is highlighted in its cell; the other nine rows are fine.
    bad = page.locator("table.preview td.cell-error")
    assert bad.count() == 1
    assert bad.inner_text() == ("next tuesday\ncreated_at: 'next tuesday' is not an ISO 8601 timestamp "
                                "(e.g. 2026-03-01T14:30:00+01:00)")
    assert page.locator("table.preview tbody tr.row-error th").inner_text() == "5 error"
    assert page.locator("table.preview tbody tr").count() == 10
    screenshot("import-mapping")

    # The rest by keyboard: arrows move between the modes, Tab reaches the button.
    page.get_by_label("Import the valid rows").focus()
    page.keyboard.press("ArrowDown")
    expect(page.get_by_label("All or nothing")).to_be_checked()
    page.keyboard.press("ArrowUp")
    expect(page.get_by_label("Import the valid rows")).to_be_checked()
    page.keyboard.press("Tab")
    page.wait_for_function("() => document.activeElement.textContent === 'Start the import'")
    page.keyboard.press("Enter")
    # The page follows the job (queued, running) and reloads itself into the report.
    follow_the_import(page, "Done 300 rows read", timeout=120000)
    expect_report(page, {"Created": "297", "Updated": "0", "Unchanged": "0", "Rejected": "3"})
    rejected_table = page.locator("table.rejections tbody tr")
    assert [rejected_table.nth(i).locator("th, td").all_inner_texts() for i in range(rejected_table.count())] == [
        ["5", "Opened at → created_at", "created_at: 'next tuesday' is not an ISO 8601 timestamp (e.g. 2026-03-01T14:30:00+01:00)"],
        ["152", "CSAT → csat_score", "csat_score must be at most 5, got 7"],
        ["273", "Channel → channel", "channel is required"],
    ]
    screenshot("import-report")

    with page.expect_download() as download_info:
        page.get_by_role("link", name=re.compile("^Download the rejected rows")).click()
    download = download_info.value
    assert download.suggested_filename == "tickets-march-rejected.csv"
    with open(download.path(), encoding="utf-8", newline="") as downloaded:
        # Written like the upload (semicolon separated, with a BOM), so the same
        # spreadsheet opens it.
        assert downloaded.read() == (
            "\ufeffTicket ID;Channel;Opened at;Agent;Team;CSAT;Subject;Priority;error\r\n"
            "T-00003;social;next tuesday;agent3;team 0;4;Where is my order?;normal;"
            "created_at: 'next tuesday' is not an ISO 8601 timestamp (e.g. 2026-03-01T14:30:00+01:00)\r\n"
            "T-00150;email;2026-03-11 08:30;agent3;team 0;7;Refund for a double charge on the March invoice;normal;"
            "csat_score must be at most 5, got 7\r\n"
            "T-00271;;2026-03-20 09:31;agent5;team 1;2;Where is my order?;normal;channel is required\r\n"
        )

    with tenant_context(acme):
        assert Conversation.objects.count() == 297
        stored = Conversation.objects.get(external_id="T-00007")
        assert (stored.agent, stored.csat_score, stored.extra) == ("Zoë", 3, {"Priority": "normal"})
    connection.set_schema_to_public()

    # A second, bigger file of the same shape: the confirmed mapping is suggested, the
    # progress bar moves, and the report tells new, changed and unchanged rows apart.
    big_rows = [ticket(i, valid=True) for i in range(30_000)]
    big_rows[0][3] = "agent9"  # one stored row changes
    big = tmp_path / "tickets-q1.csv"
    big.write_bytes(tickets_csv(big_rows))
    page.goto(f"{acme.base}/data/import/?dataset=conversations")
    assert page.get_by_label("Dataset", exact=True).input_value() == "conversations"
    upload(page, big)
    assert {h: page.get_by_label(h, exact=True).input_value() for h in MAPPING} == MAPPING
    assert page.get_by_role("alert").count() == 0
    page.get_by_role("button", name="Start the import").click()
    progress = page.locator("#import-progress")
    try:
        progress.locator('[data-field="rate"]').filter(has_text=re.compile(r"\d")).wait_for(timeout=10000)
        screenshot("import-progress")
    except Exception:  # the worker was quicker than the page: nothing to catch
        pass
    follow_the_import(page, "Done 30,000 rows read", timeout=300000)
    expect_report(page, {"Created": "29,703", "Updated": "1", "Unchanged": "296", "Rejected": "0"})
    assert page.locator("table.rejections").count() == 0

    page.get_by_role("navigation", name="Main").get_by_role("link", name="Data").click()
    page.wait_for_url(f"{acme.base}/data/")
    page.get_by_role("link", name="Past imports").click()
    page.wait_for_url(f"{acme.base}/data/imports/")
    page.get_by_role("heading", name="Imports").wait_for()
    rows = page.locator("table tbody tr")
    assert [rows.nth(i).locator("th, td").all_inner_texts()[:8] for i in range(2)] == [
        ["tickets-q1.csv", "Conversations", "Done", "30,000", "29,703", "1", "296", "0"],
        ["tickets-march.csv", "Conversations", "Done", "300", "297", "0", "0", "3"],
    ]
    screenshot("imports-list")


def test_import_without_javascript_on_a_phone(acme, browser, tmp_path):
    small = tmp_path / "tickets.csv"
    small.write_bytes(tickets_csv([ticket(i) for i in range(20)]))
    context = browser.new_context(viewport={"width": 390, "height": 844}, java_script_enabled=False)
    page = context.new_page()
    page.set_default_timeout(30000)
    try:
        sign_in(page, acme.base, acme.lead.email)
        page.goto(f"{acme.base}/data/import/")
        upload(page, small)
        for header, field_name in MAPPING.items():
            page.get_by_label(header, exact=True).select_option(field_name)
        with page.expect_navigation():
            page.get_by_role("button", name="Update the preview").click()
        page.get_by_role("heading", name="Preview of the first rows").wait_for()
        assert page.locator("table.preview td.cell-error").count() == 1
        # Only the wide tables scroll sideways, inside their own box, never the page.
        assert page.evaluate("document.documentElement.scrollWidth") <= 390
        page.screenshot(path=str(SCREENSHOTS / "import-mapping-mobile.png"), full_page=True)

        page.get_by_label("All or nothing").check()
        page.get_by_role("button", name="Start the import").click()
        # No script polls: the progress page refreshes itself until the report is there.
        page.get_by_role("heading", name=re.compile("^Done")).wait_for(timeout=120000)
        page.wait_for_load_state()
        expect_report(page, {"Created": "0", "Updated": "0", "Unchanged": "0", "Rejected": "1",
                             "Valid, not imported": "19"})
        assert page.locator(".message-warning").inner_text() == (
            "All or nothing: 1 row is invalid, so no row was imported. Fix it and import the file again.")
        assert page.evaluate("document.documentElement.scrollWidth") <= 390
        page.screenshot(path=str(SCREENSHOTS / "import-report-mobile.png"), full_page=True)
    finally:
        context.close()
    with tenant_context(acme):
        assert Conversation.objects.count() == 0
        assert ImportJob.objects.get().status == ImportJob.Status.DONE
    connection.set_schema_to_public()
