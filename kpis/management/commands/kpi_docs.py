"""Write docs/kpis.md from the KPI registry, so the documentation is the definitions in
force: ``manage.py kpi_docs > docs/kpis.md`` (a test checks the file is current)."""
from django.core.management.base import BaseCommand

from kpis.registry import KPIS, SEGMENTS, contract_order

HEADER = """# KPIs

Generated from the KPI registry (`kpis/definitions/`) by `manage.py kpi_docs`; do not edit
by hand. The contract is `../shared/spec/kpis.md`.

Rules for every KPI:

- Periods are half-open local-date ranges `[start, end)` in the workspace's time zone: day,
  ISO week (Monday), month, quarter, year, or a custom range (API `period=range`, computed
  live). Every value comes with the previous period of equal length.
- A period whose denominator is empty has **no value** (`null`, "no data"), never 0.
- Rows tied to a test customer (`is_test = true`) are left out: conversations, events,
  revenue and responses of that customer, and the customer itself.
- Settings in force (Settings → KPIs) are shown beside every value on the KPI pages.

"""

READINGS = """
## Readings of kpis.md

Where the contract leaves room, Pulse reads it this way:

- **NRR / GRR of a period still under way:** the end month is capped at the latest month
  of the revenue data, so the current quarter or year is measured to date rather than
  counting every customer as cancelled. Periods after the data have no value.
- **Active users over a period longer than a day:** the mean of the daily values over the
  days up to today on which the segment has at least one monthly active user.
- **Customer retention** follows ((E − N) / S) × 100 to the letter and can go below 0; a
  period that starts with no customers has no value.
- **Checkout abandonment** follows (1 − completed / initiated) × 100 to the letter and can
  go below 0 when purchases outnumber checkouts.
- **Activation window** is inclusive at both ends; events and revenue of customers not (yet)
  imported count, with plan `''`; a customer's plan is its current one.
- **FCR repeat contact:** "after" is strictly after (a conversation opened at the same
  instant is not a repeat); conversations without a customer skip the check.
- **CSAT from conversations** counts a `csat_score` at `resolved_at`, at `created_at` when
  unresolved.
- **Social net sentiment** uses the imported sentiment, or the one scored by VADER (compound
  ≥ 0.05 positive, ≤ −0.05 negative) when blank; a mention not scored yet counts in the
  denominator only.
- **Spike alert:** a day whose own-brand volume is strictly above the mean + 3 sample
  standard deviations of the 28 days before it, once 28 days of history exist.
"""


def kpi_docs() -> str:
    parts = [HEADER]
    for kpi in sorted(KPIS.values(), key=lambda kpi: contract_order(kpi.key)):
        inputs = ", ".join(f"`{d}`" for d in dict.fromkeys((kpi.dataset, *kpi.datasets)))
        segments = ", ".join(SEGMENTS[s].label.lower() for s in kpi.segments) or "none"
        periods = ", ".join(kpi.period_kinds)
        how = ("summed from day aggregates" if kpi.rollup == "sum" else "aggregated per period (states at its bounds)")
        parts.append(
            f"## {kpi.label} (`{kpi.key}`)\n\n{kpi.formula}\n\n"
            f"- Unit: {kpi.unit}; better when {kpi.direction}\n"
            f"- Inputs: {inputs}\n- Segments: {segments}\n- Periods: {periods}, and custom ranges\n"
            f"- Longer periods: {how}\n")
    parts.append(READINGS)
    return "\n".join(parts)


class Command(BaseCommand):
    help = "Print the KPI documentation (docs/kpis.md) generated from the registry."

    def handle(self, *args, **options):
        self.stdout.write(kpi_docs(), ending="")
