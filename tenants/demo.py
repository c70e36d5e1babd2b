"""The demo workspace: the demo team (a lead, an agent and a viewer), its calendar and a
year of generated data in all six datasets (``ingestion.generator``)."""
import itertools
import time
import zoneinfo
from collections.abc import Callable
from dataclasses import dataclass

from django.db import connection, transaction
from django_tenants.utils import tenant_context

from ingestion.datasets import DATASETS, Dataset, row_parse
from ingestion.generator import World, rows
from ingestion.models import dataset_model
from ingestion.services.records import records_upsert
from tenants.accounts.models import Role, User
from tenants.models import Workspace
from tenants.services import workspace_create

DEMO_SLUG = "demo"
DEMO_EMAIL = "lead@demo.test"
DEMO_PASSWORD = "pulse-demo-2026"
DEMO_TEAM = [
    ("agent@demo.test", "Alex Agent", Role.AGENT),
    ("viewer@demo.test", "Vera Viewer", Role.VIEWER),
]


@transaction.atomic
def demo_workspace_ensure() -> tuple[Workspace, bool]:
    workspace = Workspace.objects.filter(slug=DEMO_SLUG).first()
    created = workspace is None
    if created:
        workspace = workspace_create(
            name="Demo Co", slug=DEMO_SLUG, lead_email=DEMO_EMAIL, lead_password=DEMO_PASSWORD,
            lead_name="Dana Lead", time_zone="Europe/Paris", currency="EUR",
        ).workspace
    with tenant_context(workspace):
        lead, _ = User.objects.get_or_create(email=DEMO_EMAIL, defaults={"full_name": "Dana Lead"})
        # Refreshing restores the documented sign-in even if someone changed it.
        lead.role, lead.is_active = Role.TEAM_LEAD, True
        lead.set_password(DEMO_PASSWORD)
        lead.save()
        for email, name, role in DEMO_TEAM:
            member, _ = User.objects.get_or_create(email=email, defaults={"full_name": name, "role": role})
            member.set_password(DEMO_PASSWORD)
            member.save()
    return workspace, created


# Rows per records_upsert call: large enough that COPY and the upsert dominate, small
# enough to keep a chunk's parsed rows (a few tens of MB at most) in memory.
CHUNK_ROWS = 20_000


@dataclass(frozen=True)
class DatasetLoad:
    dataset: str
    rows: int
    created: int
    updated: int
    unchanged: int
    removed: int
    seconds: float


def demo_kpis_compute(*, workspace: Workspace) -> tuple[int, int]:
    """Score the demo's mentions without a sentiment and compute every KPI snapshot, so the
    dashboard is full on first sign-in. Returns (mentions scored, snapshot rows)."""
    from ingestion.sentiment import mentions_score_sentiment
    from ingestion.touched import touched_days_clear
    from kpis.services.compute import kpis_recompute_all

    with tenant_context(workspace):
        scored = mentions_score_sentiment()
        written = kpis_recompute_all()
        touched_days_clear()  # all computed already
    return scored, written


def demo_data_load(*, workspace: Workspace, world: World,
                   progress: Callable[[DatasetLoad], None] | None = None) -> list[DatasetLoad]:
    """Make the workspace's six datasets hold exactly ``world``'s data. Rows go through the
    same validator (``row_parse``) and COPY + upsert path as imports, so loading the same
    world again writes nothing; rows the world does not produce (left by another scale or
    another day's world) are removed, so the data stays internally consistent."""
    tz = zoneinfo.ZoneInfo(workspace.time_zone)
    loads = []
    with tenant_context(workspace):
        for dataset in DATASETS.values():
            load = _dataset_load(dataset=dataset, world=world, tz=tz, currency=workspace.currency)
            loads.append(load)
            if progress:
                progress(load)
    return loads


@transaction.atomic
def _dataset_load(*, dataset: Dataset, world: World, tz: zoneinfo.ZoneInfo, currency: str) -> DatasetLoad:
    started = time.monotonic()
    table = connection.ops.quote_name(dataset_model(dataset)._meta.db_table)
    keys = [connection.ops.quote_name(k) for k in dataset.key_fields]
    key_list = ", ".join(keys)
    total = created = updated = unchanged = 0
    with connection.cursor() as cursor:
        # The keys written, to find the stale rows in SQL at the end.
        cursor.execute(f"CREATE TEMP TABLE pulse_demo_keys ON COMMIT DROP AS SELECT {key_list} FROM {table} "
                       "WITH NO DATA")
        generated = rows(dataset.key, world)
        while chunk := list(itertools.islice(generated, CHUNK_ROWS)):
            parsed = []
            for number, raw in enumerate(chunk, start=total + 1):
                row = row_parse(dataset, raw, tz=tz)
                if not row.ok:
                    # The generator must only produce valid rows: stop loudly if it does not.
                    raise ValueError(f"generated {dataset.key} row {number} is invalid: {row.errors}")
                parsed.append((row.values, row.extra))
            result = records_upsert(dataset=dataset, rows=parsed, currency=currency)
            created, updated, unchanged = (created + result.created, updated + result.updated,
                                           unchanged + result.unchanged)
            total += len(chunk)
            with cursor.copy(f"COPY pulse_demo_keys ({key_list}) FROM STDIN") as copy:
                # One block of COPY text: write_row adapts value by value, which took about
                # two seconds of a full-size seed for these keys alone.
                copy.write("".join("\t".join(_copy_text(values[k]) for k in dataset.key_fields) + "\n"
                                   for values, _ in parsed))
        cursor.execute("ANALYZE pulse_demo_keys")
        matches = " AND ".join(f"k.{k} = t.{k}" for k in keys)
        cursor.execute(f"DELETE FROM {table} t WHERE NOT EXISTS (SELECT 1 FROM pulse_demo_keys k WHERE {matches})")
        removed = cursor.rowcount
        cursor.execute("DROP TABLE pulse_demo_keys")
    return DatasetLoad(dataset.key, total, created, updated, unchanged, removed, time.monotonic() - started)


def _copy_text(value: object) -> str:
    """A key value (text or date) in COPY's text format."""
    return str(value).replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n").replace("\r", "\\r")
