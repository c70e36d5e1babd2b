"""The support efficiency, active users and social pages."""
from datetime import timedelta

from chartkick.django import BarChart, ColumnChart, LineChart
from django.shortcuts import render

from kpis.models import KpiSettings
from kpis.periods import period_start
from kpis.registry import KPIS
from kpis.selectors.active_users import active_users as active_users_figures, signup_cohorts
from kpis.selectors.social import social_page
from kpis.selectors.support import support_efficiency as support_figures
from kpis.views.common import form_status, local_today, page_context, trend_line
from tenants.accounts.decorators import member_required


@member_required
def support_efficiency(request):
    period, context = page_context(request)
    settings = KpiSettings.load()
    support = support_figures(period=period, settings=settings)
    by_agent = {row["agent"] or "(none)": row["conversations"] for row in support["agents"] if row["conversations"]}
    by_channel = {channel or "(none)": round(row["value"], 2) for channel, row in support["by_channel"].items()
                  if row["value"] is not None}
    return render(request, "kpis/support.html", {
        **context, "support": support, "kpis": KPIS, "sla_note": f"within {settings.sla_target_hours:g} h",
        "agents_chart": BarChart(by_agent, height=f"{max(160, 28 * len(by_agent))}px") if by_agent else None,
        "channel_chart": ColumnChart(by_channel, height="220px", suffix="%") if by_channel else None,
        "open_chart": _open_chart(support),
    }, status=form_status(context["form"]))


# The busiest agents only: more lines than this are unreadable in one chart.
OPEN_CHART_AGENTS = 6


def _open_chart(support: dict):
    """Daily peak of open conversations (hourly samples) of the agents with the most
    conversations in the period."""
    busiest = [row["agent"] for row in support["agents"] if row["open_peak"]][:OPEN_CHART_AGENTS]
    if not busiest:
        return None
    lines = [{"name": agent or "(none)", "data": [(day.isoformat(), peak) for day, peak in support["open_by_day"][agent]]}
             for agent in busiest]
    return LineChart(lines, height="240px", library={"plugins": {"legend": {"position": "bottom"}}})


@member_required
def active_users(request):
    period, context = page_context(request)
    figures = active_users_figures(period=period)
    series = figures["series"]
    users = {KPIS[key].label: series[key] for key in ("dau", "wau", "mau") if key in series}
    # Cohorts: sign-up weeks of the period, and at least the 12 weeks up to its end.
    last_week = period_start("week", period.end - timedelta(days=1))
    since = period_start("week", min(period.start, last_week - timedelta(weeks=11)))
    return render(request, "kpis/active_users.html", {
        **context, "figures": figures, "kpis": KPIS,
        "users_chart": trend_line(users) if users else None,
        "stickiness_chart": trend_line({"Stickiness": series["stickiness"]}, suffix="%") if "stickiness" in series else None,
        "cohorts": signup_cohorts(since=since, until=period.end, today=local_today(request)),
        "cohorts_since": since,
    }, status=form_status(context["form"]))


@member_required
def social(request):
    period, context = page_context(request)
    figures = social_page(period=period)
    spikes = {spike.day for spike in figures["spikes"]}
    lines = {"Own-brand mentions": figures["volume"]}
    if figures["chart_kind"] == "day" and spikes:
        lines["Spike alert"] = [row for row in figures["volume"] if row["period_start"] in spikes]
    return render(request, "kpis/social.html", {
        # A day without mentions had a volume of 0; a day without mentions has no sentiment.
        **context, "figures": figures, "kpis": KPIS, "volume_chart": trend_line(lines, missing=0, plain=("Spike alert",)),
        "sentiment_chart": trend_line({"Net sentiment": figures["sentiment"]}, library={"spanGaps": True}),
    }, status=form_status(context["form"]))

