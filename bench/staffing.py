"""How long the staffing page's figures take on the demo's conversations: the three
history queries over 8 weeks, and the week's plan per channel (Erlang A or C per hour for
live channels, the backlog model for the rest), for the history's mean week and for next
week's forecast (a Poisson regression per channel).

    python3 pulse.py bench            # runs every bench/*.py
    .venv/bin/python bench/staffing.py [--scale 1.0]

Runs against a throw-away database ``pulse_bench_staffing`` on the configured server.
"""
import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _setup import bench_database, bench_database_drop  # noqa: E402

RUNS = 5


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--scale", type=float, default=1.0, help="world size (1.0: the demo's)")
    args, _ = parser.parse_known_args()

    bench_database("pulse_bench_staffing")
    from django_tenants.utils import tenant_context

    from ingestion.datasets import DATASETS
    from ingestion.generator import World
    from kpis.periods import local_today
    from kpis.staffing.planning import channel_plan
    from kpis.staffing.selectors import channel_histories, forecast_weeks, history_window, staffing_plans
    from tenants import demo
    from tenants.services import workspace_template_ensure

    workspace_template_ensure()
    workspace, _ = demo.demo_workspace_ensure()
    world = World.scaled(args.scale, time_zone=workspace.time_zone, currency=workspace.currency)
    with tenant_context(workspace):
        import zoneinfo

        demo._dataset_load(dataset=DATASETS["conversations"], world=world, tz=zoneinfo.ZoneInfo(workspace.time_zone),
                           currency=workspace.currency)
        today = local_today(workspace.time_zone)
        since, until = history_window(today=today)
        queries, plans, whole, forecast = [], [], [], []
        next_week = forecast_weeks(today)[1]
        for _ in range(RUNS):
            started = time.perf_counter()
            histories = channel_histories(since=since, until=until)
            queries.append(time.perf_counter() - started)
            found = staffing_plans(today=today)
            started = time.perf_counter()
            for history, plan in found.plans.values():
                channel_plan(rules=plan.rules, arrivals=history.arrivals, measured_handle_time=history.aht,
                             measured_patience=history.patience)
            plans.append(time.perf_counter() - started)
            started = time.perf_counter()
            staffing_plans(today=today)
            whole.append(time.perf_counter() - started)
            started = time.perf_counter()
            forecast_found = staffing_plans(today=today, week=next_week)
            forecast.append(time.perf_counter() - started)
    conversations = sum(h.conversations for h in histories.values())
    print(f"staffing at scale {args.scale:g}: {conversations:,} conversations in 8 weeks, {len(histories)} channels "
          f"(median of {RUNS} runs)")
    print(f"  history queries   {statistics.median(queries) * 1000:8.1f} ms")
    print(f"  plans, all hours  {statistics.median(plans) * 1000:8.1f} ms")
    print(f"  page figures      {statistics.median(whole) * 1000:8.1f} ms")
    print(f"  with a forecast   {statistics.median(forecast) * 1000:8.1f} ms (the week of {next_week})")
    for channel, (history, plan) in found.plans.items():
        print(f"  {channel:<10} {plan.method:<9} handle {plan.handle_time or 0:7.0f} s  patience "
              f"{plan.patience or 0:6.0f} s  peak {plan.peak:3d}  agent-hours {plan.agent_hours:5d}  "
              f"forecast {sum(forecast_found.plans[channel][1].arrivals):6.0f} vs mean {sum(plan.arrivals):6.0f} "
              f"conversations, agent-hours {forecast_found.plans[channel][1].agent_hours:5d}")
    bench_database_drop("pulse_bench_staffing")


if __name__ == "__main__":
    main()
