"""Write docs/kpis.md from the KPI registry, so the documentation is the definitions in
force: ``manage.py kpi_docs > docs/kpis.md`` (a test checks the file is current)."""
from django.core.management.base import BaseCommand

from kpis.registry import KPIS, SEGMENTS, Kpi, contract_order

HEADER = """# KPIs

Generated from the KPI registry (`kpis/definitions/`) by `manage.py kpi_docs`; do not edit
by hand. The contract is `../shared/spec/kpis.md`.

Rules for every KPI:

- Periods are half-open local-date ranges `[start, end)` in the workspace's time zone: day,
  ISO week (Monday), month, quarter, year, or a custom range (API `period=range`, computed
  live). Every value comes with the previous period's value, compared like for like (below).
- A period whose denominator is empty has **no value** (`null`, "no data"), never 0.
- Rows tied to a test customer (`is_test = true`) are left out: conversations, events,
  revenue and responses of that customer, and the customer itself.
- Survey answers a link scanner may have sent (`surveys/services/scanner.py`: submitted
  with a scanner's User-Agent, within 1.5 s of the page, within the scanner window of
  delivery, after a burst of score links or the email's hidden link) are **held for
  review**: kept, in no NPS, CSAT or response rate until a team lead accepts them
  (Surveys → Held responses); rejected ones never count. A score link opened (a GET) records
  nothing; the page's button sends the answer.
- Settings in force (Settings → KPIs) are shown beside every value on the KPI pages.

Like-for-like comparisons (`kpis/periods.py` `comparison_of`, `kpis/selectors/values.py`
`kpi_comparison`; dashboard, every KPI page, the support, active users and social pages,
the API series points):

- "Today" is the workspace's local date (its time zone). A period that has ended is
  compared with the **whole previous period** ("Nov 2025 vs Oct 2025").
- A period still under way is **period-to-date**: its k elapsed days (first day to today,
  included) are compared with the **same k days of the previous period**, capped at that
  period's end: on 5 December, Dec 1–5 vs Nov 1–5; on 30 March, Mar 1–30 vs Feb 1–28; a
  week, quarter, year or custom range alike. The pages say so ("Dec 1–5 vs Nov 1–5") and
  draw the period under way dashed on every trend, named "Dec 1–5 (to date)".
- API series points: `previous_value` is the value over `previous_start` – `previous_end`
  (included) — that like-for-like span; `period_complete` is false while the period runs;
  `comparison` is the label. A period not begun has nothing to compare (`previous_*` null).
- KPIs summed from day aggregates sum their day snapshots over the previous span; KPIs
  aggregated per period (states at its bounds) are computed live over it. KPIs of monthly
  figures (NRR, GRR: monthly MRR) count whole elapsed months: December to date compares
  with the whole of November.
- The interval and significance of the change (below) are judged on the same
  like-for-like figures.

Uncertainty (`kpis/stats.py`; cards, KPI pages and API series points):

- Every value drawn from a sample comes with its **95% confidence interval** (`ci_low`,
  `ci_high`) and the sample size `n` it rests on. NPS: the adjusted Wald interval of Rocks
  (2016, *The American Statistician* 70(4)): add ¾ to the promoters and to the detractors
  and 3 to n, p = (P + ¾)/(n + 3), d = (D + ¾)/(n + 3), centre 100·(p − d),
  SE = 100·√((p + d − (p − d)²)/(n + 3)), centre ± 1.96·SE clipped to [−100, 100]. Shares
  (CSAT and the other rates): the Wilson score interval. Means (hours): the Student t
  interval mean ± t(0.975, n − 1)·s/√n, from Σx and Σx² (kept in the snapshot, additive so
  it rolls up). A mean of a single value has no interval.
- A rate whose numerator is not a count of successes among the denominator (more
  conversions than visits, a negative retention) gets no interval.
- Counts (mention volume, active users), money ratios (NRR, GRR) and mixes (stickiness,
  share of voice, net sentiment) describe the whole population of the period, not a
  sample: no interval, and never "too few to judge".
- **Change significant** (`change_significant`): a two-sided z test of the difference on the
  two values' standard errors, z = |Δ|/√(SE₁² + SE₂²), significant when p < 0.05. The SE
  of a share is its Wilson half-width / 1.96 (not 0 at 0% or 100%). Null when either value
  has no interval, no spread, or too few.
- **Small samples:** below the workspace's minimum sample size (Settings → KPIs, default
  30, at least 1) a value is shown greyed with "n = 12, too few to judge"
  (`small_sample: true`): it gets no target status (targets do not fire on it) and no
  significance claim. The setting is judged when values are shown: changing it recomputes
  nothing.

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


def interval_doc(kpi: Kpi) -> str:
    """What docs/kpis.md says of a KPI's interval: the first sentence of its hook's docstring."""
    hook = type(kpi).interval
    if hook is Kpi.interval:
        return "none (the whole population of the period, not a sample)"
    return " ".join((hook.__doc__ or "").split()).split(". ")[0].rstrip(".").replace("``", "`")


def under_way_doc(kpi: Kpi) -> str:
    """How a KPI's period under way finds its like-for-like previous value."""
    if kpi.comparison_unit == "month":
        return "as many whole months of the previous period (monthly figures)"
    how = "its day snapshots summed" if kpi.rollup == "sum" else "computed live over that span"
    return f"the same elapsed days of the previous period ({how})"


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
            f"- Longer periods: {how}\n- A period under way compares with: {under_way_doc(kpi)}\n"
            f"- 95% interval: {interval_doc(kpi)}\n")
    parts.append(READINGS)
    return "\n".join(parts)


class Command(BaseCommand):
    help = "Print the KPI documentation (docs/kpis.md) generated from the registry."

    def handle(self, *args, **options):
        self.stdout.write(kpi_docs(), ending="")
