"""How long the demo data takes: generating each dataset (ingestion/generator.py), then
seeding it into a demo workspace through the import validator and the COPY + upsert path
(tenants.demo.demo_data_load), first into empty tables, then again (nothing changes).

    python3 pulse.py bench            # runs every bench/*.py
    .venv/bin/python bench/demo_data.py [--scale 1.0]

Runs against a throw-away database ``pulse_bench_data`` on the configured server, so it
never touches the app's data.
"""
import argparse
import collections
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _setup import bench_database, bench_database_drop  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--scale", type=float, default=1.0, help="world size (1.0: the demo's, 20,000 customers)")
    args, _ = parser.parse_known_args()  # pulse.py bench passes its arguments to every script

    bench_database("pulse_bench_data")
    from ingestion.datasets import DATASETS
    from ingestion.generator import World, rows
    from tenants.demo import demo_data_load, demo_workspace_ensure
    from tenants.services import workspace_template_ensure

    workspace_template_ensure()
    workspace, _ = demo_workspace_ensure()
    world = World.scaled(args.scale, time_zone=workspace.time_zone, currency=workspace.currency)
    generated = {}
    for key in DATASETS:
        started = time.perf_counter()
        collections.deque(rows(key, world), maxlen=0)
        generated[key] = time.perf_counter() - started
    fresh = demo_data_load(workspace=workspace, world=world)
    again = demo_data_load(workspace=workspace, world=world)

    print(f"demo data at scale {args.scale:g} (seconds; load = generate + validate + upsert)")
    print(f"  {'dataset':<18}{'rows':>10}{'generate':>10}{'load':>8}{'rows/s':>10}{'reload':>8}")
    for first, second in zip(fresh, again):
        print(f"  {first.dataset:<18}{first.rows:>10,}{generated[first.dataset]:>10.1f}{first.seconds:>8.1f}"
              f"{first.rows / first.seconds:>10,.0f}{second.seconds:>8.1f}")
    total_rows = sum(load.rows for load in fresh)
    print(f"  {'all':<18}{total_rows:>10,}{sum(generated.values()):>10.1f}{sum(f.seconds for f in fresh):>8.1f}"
          f"{total_rows / sum(f.seconds for f in fresh):>10,.0f}{sum(a.seconds for a in again):>8.1f}")
    bench_database_drop("pulse_bench_data")


if __name__ == "__main__":
    main()
