"""Workspace creation time as workspaces accumulate: Pulse's template copy
(tenants/schema_clone.py) versus django-tenants' clone_schema and versus running every
migration per workspace.

    python3 pulse.py bench            # runs every bench/*.py
    .venv/bin/python bench/workspaces.py [--workspaces 300]

Runs against a throw-away database ``pulse_bench`` on the configured server, so it never
touches the app's data.
"""
import argparse
import statistics
import sys
import time
from pathlib import Path
from unittest import mock

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench._database import database_throwaway  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--workspaces", type=int, default=300)
    parser.add_argument("--sample", type=int, default=10, help="workspaces timed at each end")
    parser.add_argument("--library-sample", type=int, default=3, help="django-tenants clones timed at the end (slow)")
    args = parser.parse_args()

    drop_database = database_throwaway("pulse_bench")
    from django.db import connection, transaction
    from django.test.utils import override_settings

    from tenants.models import Workspace
    from tenants.services import workspace_create, workspace_template_ensure

    def create(i: int) -> float:
        """Seconds to create one workspace's schema (the part that depends on the method;
        the service around it adds a fixed ~150 ms of Argon2 password hashing)."""
        started = time.perf_counter()
        with transaction.atomic():
            Workspace(schema_name=f"bench_{i}", slug=f"bench-{i}", name=f"Bench {i}").save(verbosity=0)
        connection.set_schema_to_public()
        return time.perf_counter() - started

    def service(i: int) -> float:
        started = time.perf_counter()
        workspace_create(name=f"Bench {i}", slug=f"svc-{i}", lead_email=f"lead{i}@bench.test",
                         lead_password="correct-horse-battery-9")
        connection.set_schema_to_public()
        return time.perf_counter() - started

    def create_with_library_clone(i: int) -> float:
        # django-tenants' own path: its clone_schema, then migrate --fake.
        with mock.patch("tenants.schema_clone.template_is_plain", return_value=False):
            return create(i)

    # Baseline: every migration run per workspace (django-tenants without a template).
    with override_settings(TENANT_CREATION_FAKES_MIGRATIONS=False):
        migrated = [create(10_000 + i) for i in range(args.sample)]
    workspace_template_ensure()  # built once; not timed
    library_first = [create_with_library_clone(20_000 + i) for i in range(args.library_sample)]
    first = [create(i) for i in range(1, args.sample + 1)]
    started = time.perf_counter()
    for i in range(args.sample + 1, args.workspaces - args.sample + 1):
        create(i)
    last = [create(i) for i in range(args.workspaces - args.sample + 1, args.workspaces + 1)]
    bulk_seconds = time.perf_counter() - started
    library_last = [create_with_library_clone(30_000 + i) for i in range(args.library_sample)]
    total = args.workspaces + args.sample + 2 * args.library_sample
    whole = [service(i) for i in range(args.sample)]

    def ms(values):
        return statistics.median(values) * 1000

    print(f"workspace schema creation (median ms; {total} workspaces exist at the end)")
    print(f"  running every migration, first {args.sample}:               {ms(migrated):9.1f}")
    print(f"  django-tenants clone_schema, first {args.library_sample}:            {ms(library_first):9.1f}")
    print(f"  django-tenants clone_schema, with ~{total} workspaces:  {ms(library_last):9.1f}")
    print(f"  Pulse template copy, first {args.sample}:                   {ms(first):9.1f}")
    print(f"  Pulse template copy, with ~{args.workspaces} workspaces:      {ms(last):9.1f}")
    print(f"  Pulse copy: {ms(migrated) / ms(first):.1f}x faster than migrating, "
          f"{ms(library_last) / ms(last):.1f}x faster than clone_schema with ~{total} workspaces")
    print(f"  Pulse copy drift from first to ~{args.workspaces}: {ms(last) / ms(first):.2f}x "
          f"(clone_schema drift: {ms(library_last) / ms(library_first):.2f}x)")
    print(f"  {args.workspaces - 2 * args.sample} schemas created in {bulk_seconds:.1f} s")
    print(f"  whole sign-up service (schema, domain, team lead with Argon2 hash, calendar): {ms(whole):.1f} ms")
    drop_database()


if __name__ == "__main__":
    main()
