"""CSV import throughput (issue #3). Generates N ``conversations`` rows as CSV with the demo
generator and measures, in one run on the same database and table:

  (a) raw COPY of the same rows (already in COPY format) into the table: the floor;
  (b) Pulse's CSV import end to end: store the upload, then the job (parse, validate,
      load, upsert) until done, in a child process whose peak memory is reported;
  (c) Django bulk_create(update_conflicts=True) in batches of 5,000, after the same CSV
      reading and row_parse validation;
  (d) a re-import of the same file with Pulse (every row unchanged);
  (e) the JSON records API (POST /api/v1/datasets/conversations/records, 10,000-row
      batches) through Django's request handling.

    python3 pulse.py bench                      # every benchmark
    .venv/bin/python bench/ingest.py [--rows 1000000] [--bulk-rows N] [--api-rows N]

Targets on the 2-core machine: b >= 100,000 rows/s, b/a >= 0.4, b/c >= 4, peak memory of
b <= 300 MB, API >= 20,000 rows/s. Runs on a throw-away database ``pulse_bench_ingest``.
"""
import argparse
import csv
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _setup import ROOT, bench_database, bench_database_drop  # noqa: E402

DATABASE = "pulse_bench_ingest"
SLUG = "bench-ingest"
CACHE = ROOT / "var" / "bench"


def generate(rows: int) -> Path:
    """The CSV of ``rows`` conversations (cached under var/bench: generation is not timed)."""
    from datetime import date

    from ingestion.generator import World, csv_write

    path = CACHE / f"conversations-{rows}.csv"
    if not path.exists():
        CACHE.mkdir(parents=True, exist_ok=True)
        world = World(conversations=rows, customers=max(1000, rows // 10), end=date(2026, 11, 1))
        partial = path.with_suffix(".part")
        with open(partial, "w", newline="", encoding="utf-8") as file:
            csv_write("conversations", world, file)
        partial.rename(path)
    return path


def copy_file(csv_path: Path, workspace) -> Path:
    """The same rows in COPY text format, for (a). Not timed."""
    import zoneinfo

    from ingestion.copyformat import row_converter
    from ingestion.datasets import DATASETS

    path = csv_path.with_suffix(".copy")
    if not path.exists():
        with open(csv_path, newline="", encoding="utf-8") as source, open(path, "w", encoding="utf-8") as target:
            reader = csv.reader(source)
            headers = next(reader)
            convert = row_converter(DATASETS["conversations"], headers, headers, tz=zoneinfo.ZoneInfo(workspace.time_zone))
            for row in reader:
                target.write(convert(row))
    return path


def truncate() -> None:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("TRUNCATE ingestion_conversation, ingestion_touchedday")
        cursor.execute("CHECKPOINT")  # every run starts with the same amount of dirty pages


def raw_copy(copy_path: Path) -> float:
    from django.db import connection, transaction

    from ingestion.datasets import DATASETS

    columns = ", ".join([f.name for f in DATASETS["conversations"].fields] + ["extra"])
    started = time.perf_counter()
    with transaction.atomic(), connection.cursor() as cursor:
        with cursor.copy(f"COPY ingestion_conversation ({columns}, imported_at) FROM STDIN") as copy:
            with open(copy_path, "rb") as file:
                # imported_at has no database default: append it to each line.
                for line in file:
                    copy.write(line[:-1] + b"\t2026-11-01T00:00:00Z\n")
    return time.perf_counter() - started


def pulse_import_child(csv_path: Path) -> dict:
    """Runs in a child process: one Pulse import of the file, timed, with its peak memory."""
    from django.core.files import File
    from django_tenants.utils import tenant_context

    from ingestion.datasets import DATASETS
    from ingestion.services.import_run import import_job_run
    from ingestion.services.imports import import_create
    from tenants.models import Workspace

    workspace = Workspace.objects.get(slug=SLUG)
    with tenant_context(workspace), open(csv_path, "rb") as source:
        upload = File(source, name=csv_path.name)
        upload.size = csv_path.stat().st_size
        started = time.perf_counter()
        # The task is run here, in this process, rather than sent to a worker: the same
        # code a worker runs, timed without queue latency.
        from unittest import mock

        with mock.patch("ingestion.services.imports.enqueue"):
            job = import_create(dataset=DATASETS["conversations"], upload=upload, source="api", start=True)
        stored = time.perf_counter()
        job = import_job_run(job_id=str(job.pk))
        done = time.perf_counter()
    return {
        "seconds": done - started, "job_seconds": done - stored, "status": job.status, "rows": job.processed_rows,
        "created": job.created_rows, "updated": job.updated_rows, "unchanged": job.unchanged_rows,
        "rejected": job.rejected_rows, "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }


def pulse_import(csv_path: Path) -> dict:
    out = subprocess.run([sys.executable, __file__, "--child", str(csv_path)], cwd=ROOT, env=os.environ,
                         capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def bulk_create(csv_path: Path, rows: int, workspace) -> float:
    import zoneinfo
    from itertools import islice

    from ingestion.datasets import DATASETS, row_parse
    from ingestion.models import Conversation

    dataset = DATASETS["conversations"]
    tz = zoneinfo.ZoneInfo(workspace.time_zone)
    fields = [f.name for f in dataset.fields] + ["extra", "imported_at"]
    started = time.perf_counter()
    with open(csv_path, newline="", encoding="utf-8") as file:
        reader = csv.DictReader(file)
        batch = []
        for raw in islice(reader, rows):
            parsed = row_parse(dataset, raw, tz=tz)
            values = {k: ("" if v is None and dataset.by_name[k].kind in ("text", "choice") else v)
                      for k, v in parsed.values.items()}
            batch.append(Conversation(**values, extra=parsed.extra))
            if len(batch) == 5000:
                Conversation.objects.bulk_create(batch, update_conflicts=True, unique_fields=["external_id"],
                                                  update_fields=[f for f in fields if f != "external_id"])
                batch = []
        if batch:
            Conversation.objects.bulk_create(batch, update_conflicts=True, unique_fields=["external_id"],
                                              update_fields=[f for f in fields if f != "external_id"])
    return time.perf_counter() - started


def api(csv_path: Path, rows: int, workspace) -> float:
    from itertools import islice

    from django.db import connection
    from django.test import Client
    from django_tenants.utils import tenant_context

    from tenants.accounts.models import Role
    from tenants.accounts.services import api_key_create

    with tenant_context(workspace):
        key = api_key_create(name="bench", role=Role.TEAM_LEAD).raw
    connection.set_schema_to_public()
    client = Client(HTTP_HOST=workspace.domain_name, HTTP_AUTHORIZATION=f"Bearer {key}")
    with open(csv_path, newline="", encoding="utf-8") as file:
        items = [{k: v for k, v in row.items() if v != ""} for row in islice(csv.DictReader(file), rows)]
    bodies = [json.dumps(items[i:i + 10_000]) for i in range(0, len(items), 10_000)]
    started = time.perf_counter()
    for body in bodies:
        response = client.post("/api/v1/datasets/conversations/records", body, content_type="application/json")
        assert response.status_code == 200, response.content[:500]
        assert not response.json()["rejected"], response.json()["rejected"][:3]
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=int(os.environ.get("BENCH_INGEST_ROWS", 1_000_000)))
    parser.add_argument("--bulk-rows", type=int, default=200_000,
                        help="rows for (c), which is ~25x slower than (b): its rows/s is what is compared")
    parser.add_argument("--api-rows", type=int, default=100_000)
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args, _ = parser.parse_known_args()

    if args.child:
        bench_database(DATABASE, fresh=False)
        print(json.dumps(pulse_import_child(Path(args.child))))
        return

    bench_database(DATABASE)
    from tenants.services import workspace_create

    workspace = workspace_create(name="Bench", slug=SLUG, lead_email="lead@bench.test",
                                 lead_password="correct-horse-battery-9").workspace
    n = args.rows
    print(f"Generating {n:,} conversations (cached in var/bench) …", flush=True)
    csv_path = generate(n)
    copy_path = copy_file(csv_path, workspace)
    print(f"  {csv_path.stat().st_size / 1e6:,.0f} MB CSV")

    from django_tenants.utils import tenant_context

    def rate(rows, seconds):
        return rows / seconds

    with tenant_context(workspace):
        truncate()
        a = raw_copy(copy_path)
    print(f"(a) raw COPY:                 {a:7.2f} s  {rate(n, a):>9,.0f} rows/s", flush=True)

    with tenant_context(workspace):
        truncate()
    b = pulse_import(csv_path)
    assert b["status"] == "done" and b["created"] == n, b
    print(f"(b) Pulse CSV import:         {b['seconds']:7.2f} s  {rate(n, b['seconds']):>9,.0f} rows/s"
          f"  (job {b['job_seconds']:.2f} s; peak memory {b['peak_rss_mb']:.0f} MB)", flush=True)

    bulk_rows = min(args.bulk_rows or n, n)
    with tenant_context(workspace):
        truncate()
        c = bulk_create(csv_path, bulk_rows, workspace)
    print(f"(c) Django bulk_create:       {c:7.2f} s  {rate(bulk_rows, c):>9,.0f} rows/s  ({bulk_rows:,} rows)", flush=True)
    if bulk_rows < n:  # (d) needs the whole file stored
        with tenant_context(workspace):
            truncate()
            raw_copy(copy_path)

    d = pulse_import(csv_path)
    assert d["status"] == "done" and d["unchanged"] == n, d
    print(f"(d) Pulse re-import (same):   {d['seconds']:7.2f} s  {rate(n, d['seconds']):>9,.0f} rows/s"
          f"  (all {d['unchanged']:,} unchanged; peak memory {d['peak_rss_mb']:.0f} MB)", flush=True)

    api_rows = min(args.api_rows, n)
    with tenant_context(workspace):
        truncate()
    e = api(csv_path, api_rows, workspace)
    print(f"(e) JSON records API:         {e:7.2f} s  {rate(api_rows, e):>9,.0f} rows/s  ({api_rows:,} rows, 10,000 a request)")

    rb, ra, rc = rate(n, b["seconds"]), rate(n, a), rate(bulk_rows, c)
    print()
    print(f"b = {rb:,.0f} rows/s (target >= 100,000) · b/a = {rb / ra:.2f} (target >= 0.4) · "
          f"b/c = {rb / rc:.1f} (target >= 4) · peak memory {b['peak_rss_mb']:.0f} MB (target <= 300) · "
          f"API {rate(api_rows, e):,.0f} rows/s (target >= 20,000)")
    bench_database_drop(DATABASE)


if __name__ == "__main__":
    main()
