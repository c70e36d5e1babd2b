"""The one-customer view and the customer search (any member).

Who sees what: every role reads KPIs, and a customer's plan, revenue, conversations and
product activity are what the KPIs are made of, so every member gets the page. Survey
answers and comments are survey data, which the survey pages show to agents and team
leads only (``User.reads_surveys``): a viewer's page leaves out the answers and the NPS
band history (and their query), and says so. Links to a row's page in the data browser
are for team leads, who alone may open it."""
from urllib.parse import urlencode

from chartkick.django import ColumnChart, LineChart
from django.core.paginator import Paginator
from django.db import connection
from django.http import Http404
from django.shortcuts import render
from django.utils import timezone

from ingestion.forms import CustomerPageForm, CustomerSearchForm
from ingestion.selectors import customers as selectors
from tenants.accounts.decorators import member_required

SEARCH_PAGE_SIZE = 25


@member_required
def customer_search(request):
    if "id" in request.GET:
        return _customer_page(request, request.GET["id"])
    form = CustomerSearchForm(request.GET)
    page = None
    if form.is_valid() and form.cleaned_data["q"]:
        page = Paginator(selectors.customer_search(query=form.cleaned_data["q"]), SEARCH_PAGE_SIZE).get_page(
            request.GET.get("page"))
    query = form.cleaned_data["q"] if form.is_valid() else ""
    # The page links keep the search (pagination.html appends page=…).
    return render(request, "ingestion/customers.html",
                  {"form": form, "page": page, "q": query, "query": urlencode({"q": query}) if query else ""},
                  status=400 if form.errors else 200)


@member_required
def customer_detail(request, external_id):
    return _customer_page(request, external_id)


def _customer_page(request, external_id: str):
    time_zone = connection.tenant.time_zone
    page_form = CustomerPageForm(request.GET)
    number = (page_form.cleaned_data["conversations"] if page_form.is_valid() else None) or 1
    customer = selectors.customer_get(external_id=external_id)
    revenue = selectors.customer_mrr_history(external_id=external_id)
    conversations = selectors.customer_conversations(external_id=external_id, page=number)
    if not conversations.rows and number > 1:
        # A page past the end (an old link, a hand-edited number): the newest ones instead.
        conversations = selectors.customer_conversations(external_id=external_id, page=1)
    reads_surveys = request.user.reads_surveys
    answers = (selectors.customer_survey_answers(external_id=external_id, email=customer.email if customer else "")
               if reads_surveys else [])
    activity = selectors.customer_activity(external_id=external_id, today=timezone.localdate(), time_zone=time_zone)
    if customer is None and not (revenue or conversations.total or answers or activity.events):
        # No dataset names this id. (A viewer is not told whether survey answers do.)
        raise Http404("No customer with this id in this workspace")
    more_answers = len(answers) > selectors.ANSWERS_LIMIT
    answers = answers[:selectors.ANSWERS_LIMIT]
    nps_history = selectors.nps_band_history(answers)
    return render(request, "ingestion/customer.html", {
        "external_id": external_id, "customer": customer, "time_zone": time_zone,
        "revenue": revenue, "current_mrr": _current_mrr(revenue), "mrr_chart": _mrr_chart(revenue),
        "conversations": conversations, "reads_surveys": reads_surveys,
        "answers": answers, "more_answers": more_answers, "answers_limit": selectors.ANSWERS_LIMIT,
        "nps_history": nps_history, "nps_latest": nps_history[-1] if nps_history else None,
        "nps_chart": _nps_chart(nps_history),
        "activity": activity, "activity_chart": _activity_chart(activity),
        "links_to_records": request.user.is_team_lead,
    })


def _current_mrr(revenue: list[dict]) -> list[dict]:
    """The last month's rows (one per currency)."""
    if not revenue:
        return []
    last = revenue[-1]["month"]
    return [row for row in revenue if row["month"] == last]


def _mrr_chart(revenue: list[dict]):
    if not revenue:
        return None
    series: dict[str, dict[str, float]] = {}
    for row in revenue:
        series.setdefault(row["currency"], {})[row["month"].strftime("%Y-%m")] = float(row["mrr"])
    data = [{"name": f"MRR ({currency})", "data": points} for currency, points in series.items()]
    return LineChart(data, height="220px", min=0, curve=False,
                     library={"plugins": {"legend": {"display": len(data) > 1}}})


def _nps_chart(history: list[dict]):
    """Each NPS answer's score by when it was given, on the 0–10 scale."""
    if not history:
        return None
    points = {timezone.localtime(row["responded_at"]).strftime("%Y-%m-%d %H:%M"): row["score"] for row in history}
    return LineChart(points, height="200px", min=0, max=10, curve=False,
                     library={"plugins": {"legend": {"display": False}}})


def _activity_chart(activity):
    if not activity.events:
        return None
    return ColumnChart({row["week"].strftime("%Y-%m-%d"): row["active_days"] for row in activity.weeks},
                       height="180px", min=0, max=7, library={"plugins": {"legend": {"display": False}}})
