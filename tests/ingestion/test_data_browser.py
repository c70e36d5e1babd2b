"""The data browser: /data/<key>/records/ (list, search, filters, pages) and a row's page."""
import re
from datetime import UTC, date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import factory
import pytest
from django.db import connection
from django_tenants.utils import tenant_context

from ingestion.selectors import records as selectors
from ingestion.datasets import DATASETS, TIME_FIELDS, row_parse
from ingestion.models import Conversation, Customer, Event
from ingestion.services.records import records_upsert
from tenants.accounts.models import Role
from tests.helpers import host_client
from tests.ingestion.factories import (ConversationFactory, CustomerFactory, RevenueFactory,
                                       SurveyResponseFactory)

RECORDS = "/data/conversations/records/"


def row_ids(response, status=200) -> list[str]:
    """The first column of each row of the records table (the row's id, linked)."""
    assert response.status_code == status, response.content.decode()[:2000]
    return re.findall(r'<th scope="row"><a href="[^"]*"[^>]*>([^<]*)</a></th>', response.content.decode())


def upsert(key: str, raw_rows: list[dict]):
    """Store rows the way an import does: parsed by the dataset's rules, then upserted."""
    dataset = DATASETS[key]
    parsed = [row_parse(dataset, raw, tz=ZoneInfo("Europe/Paris")) for raw in raw_rows]
    assert all(row.ok for row in parsed), [row.errors for row in parsed]
    records_upsert(dataset=dataset, rows=[(row.values, row.extra) for row in parsed], currency="EUR")


def link(response, rel: str) -> str | None:
    found = re.search(rf'rel="{rel}" href="([^"]*)"', response.content.decode())
    return found.group(1).replace("&amp;", "&") if found else None


def errors(response) -> list[str]:
    return re.findall(r'<p class="error" role="alert">([^<]*)</p>', response.content.decode())


def test_rows_are_listed_newest_first_with_times_in_the_workspace_zone(workspace, lead):
    with tenant_context(workspace):
        ConversationFactory(external_id="old", created_at=datetime(2026, 3, 1, 10, 0, tzinfo=UTC))
        ConversationFactory(external_id="new", created_at=datetime(2026, 3, 3, 23, 30, tzinfo=UTC),
                            subject="Refund for the annual plan, charged twice in March",
                            extra={"sla": "gold", "region": "emea", "vip": True}, tags=["billing", "refund"])
        ConversationFactory(external_id="mid", created_at=datetime(2026, 3, 2, 8, 0, tzinfo=UTC))
    response = lead.get(RECORDS)
    assert row_ids(response) == ["new", "mid", "old"]
    page = response.content.decode()
    assert '<strong class="row-count">3 rows stored</strong>' in page
    # Europe/Paris is UTC+1 in March: 23:30 UTC is the next day there.
    assert '<time datetime="2026-03-04T00:30:00+01:00">2026-03-04 00:30</time>' in page
    assert '<span title="Refund for the annual plan, charged twice in March">Refund for the annual plan, charged twi…</span>' in page
    assert "<td>billing; refund</td>" in page
    assert "<summary>3 more fields</summary>" in page
    assert "<dt>region</dt><dd>emea</dd>" in page


def test_search_matches_ids_from_the_start_and_text_anywhere(workspace, lead):
    with tenant_context(workspace):
        CustomerFactory(external_id="c-1", name="Ann Smith", email="ann@example.test")
        CustomerFactory(external_id="c-10", name="Bob Jones", email="bob@example.test")
        CustomerFactory(external_id="x-c-1", name="Cy", email="cy@joann.test")
    customers = "/data/customers/records/"
    assert row_ids(lead.get(customers, {"q": "c-1"})) == ["c-10", "c-1"]  # not x-c-1: ids match from the start
    assert row_ids(lead.get(customers, {"q": "ANN"})) == ["x-c-1", "c-1"]  # name or email, any case
    assert row_ids(lead.get(customers, {"q": "ann", "search_in": "email"})) == ["x-c-1", "c-1"]
    assert row_ids(lead.get(customers, {"q": "ann", "search_in": "name"})) == ["c-1"]
    assert row_ids(lead.get(customers, {"q": "100%"})) == []  # LIKE wildcards are literal
    bad = lead.get(customers, {"q": "ann", "search_in": "country"})
    assert bad.status_code == 400
    assert errors(bad) == ["Select a valid choice. country is not one of the available choices."]


def test_search_fields_and_filters_are_fields_of_their_dataset():
    for key, dataset in DATASETS.items():
        assert all(dataset.by_name[name].kind == "text" for name in selectors.SEARCH_FIELDS[key])
        assert all(dataset.by_name[name].kind in selectors.FILTERABLE_KINDS for name in selectors.BROWSE_FILTERS[key])
    assert set(selectors.SEARCH_FIELDS) == set(selectors.BROWSE_FILTERS) == set(DATASETS) == set(TIME_FIELDS)


def test_an_id_search_can_use_the_external_id_index(workspace):
    with tenant_context(workspace):
        ids = factory.Iterator([f"cust-{i:04d}" for i in range(2000)])
        Customer.objects.bulk_create(CustomerFactory.build_batch(2000, external_id=ids))
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE ingestion_customer")
        queryset = selectors.records_list(dataset_key="customers", filters={}, time_zone="UTC",
                                          search="cust-012", search_in="external_id")
        plan = queryset.explain()
        assert [c.external_id for c in queryset] == [f"cust-012{i}" for i in range(9, -1, -1)]
    assert "customer_key" in plan, plan  # the key's varchar_pattern_ops index


def test_filters_on_text_boolean_and_integer_fields(workspace, lead):
    with tenant_context(workspace):
        ConversationFactory(external_id="a", channel="email", agent="ann", csat_score=5)
        ConversationFactory(external_id="b", channel="phone", agent="bob", reopened=True, csat_score=2)
        ConversationFactory(external_id="c", channel="phone", agent="ann", abandoned=True)
    assert row_ids(lead.get(RECORDS, {"channel": "phone"})) == ["c", "b"]
    assert row_ids(lead.get(RECORDS, {"channel": "phone", "agent": "ann"})) == ["c"]
    assert row_ids(lead.get(RECORDS, {"reopened": "true"})) == ["b"]
    assert row_ids(lead.get(RECORDS, {"reopened": "false", "abandoned": "false"})) == ["a"]
    assert row_ids(lead.get(RECORDS, {"csat_score": "2"})) == ["b"]
    # Empty values, as a submitted form sends them, filter nothing.
    assert row_ids(lead.get(RECORDS, {"q": "", "channel": "", "reopened": "", "from": "", "to": ""})) == ["c", "b", "a"]
    assert '<strong class="row-count">2 rows matching</strong>' in lead.get(RECORDS, {"channel": "phone"}).content.decode()


def test_filter_on_a_choice_field(workspace, lead):
    with tenant_context(workspace):
        SurveyResponseFactory(external_id="n1", kind="nps", score=9)
        SurveyResponseFactory(external_id="c1", kind="csat", score=4)
    assert row_ids(lead.get("/data/survey_responses/records/", {"kind": "csat"})) == ["c1"]
    assert row_ids(lead.get("/data/survey_responses/records/", {"score": "9"})) == ["n1"]


def test_date_range_covers_whole_days_in_the_workspace_zone(workspace, lead):
    with tenant_context(workspace):
        # Europe/Paris is UTC+1: 2026-03-01 23:30 there is 22:30 UTC; 2026-03-02 00:30 there is 23:30 UTC.
        ConversationFactory(external_id="before", created_at=datetime(2026, 2, 28, 22, 59, tzinfo=UTC))
        ConversationFactory(external_id="first", created_at=datetime(2026, 2, 28, 23, 0, tzinfo=UTC))
        ConversationFactory(external_id="late", created_at=datetime(2026, 3, 1, 22, 30, tzinfo=UTC))
        ConversationFactory(external_id="next-day", created_at=datetime(2026, 3, 1, 23, 30, tzinfo=UTC))
    assert row_ids(lead.get(RECORDS, {"from": "2026-03-01", "to": "2026-03-01"})) == ["late", "first"]
    assert row_ids(lead.get(RECORDS, {"from": "2026-03-02"})) == ["next-day"]
    assert row_ids(lead.get(RECORDS, {"to": "2026-02-28"})) == ["before"]


def test_month_range_on_revenue(workspace, lead):
    with tenant_context(workspace):
        for month in (date(2026, 1, 1), date(2026, 2, 1), date(2026, 3, 1)):
            RevenueFactory(customer_external_id=f"cust-{month.month}", month=month, mrr=Decimal("10.50"))
    page = lead.get("/data/revenue/records/", {"from": "2026-02", "to": "2026-03"})
    assert row_ids(page) == ["cust-3", "cust-2"]
    assert '<input type="month" name="from" value="2026-02"' in page.content.decode()
    assert '<td class="num">10.50</td>' in page.content.decode()


def test_selects_offer_the_stored_values_and_a_text_box_past_the_limit(workspace, lead, monkeypatch):
    with tenant_context(workspace):
        for channel, agent in (("phone", "zoe"), ("email", "ann"), ("phone", ""), ("chat", "bob")):
            ConversationFactory(channel=channel, agent=agent, csat_score=4)
    page = lead.get(RECORDS).content.decode()
    channel_select = re.search(r'<select name="channel" id="id_channel">(.*?)</select>', page, re.S).group(1)
    assert re.findall(r'<option value="([^"]*)"', channel_select) == ["", "chat", "email", "phone"]
    agent_select = re.search(r'<select name="agent" id="id_agent">(.*?)</select>', page, re.S).group(1)
    assert re.findall(r'<option value="([^"]*)"', agent_select) == ["", "ann", "bob", "zoe"]
    assert '<select name="team"' not in page  # no team stored: no filter to offer
    assert '<select name="reopened" id="id_reopened">' in page  # booleans always: any / yes / no
    monkeypatch.setattr(selectors, "OPTION_LIMIT", 2)
    page = lead.get(RECORDS).content.decode()
    assert '<input type="text" name="agent" placeholder="exact value" id="id_agent">' in page
    assert '<select name="csat_score" id="id_csat_score">' in page  # one value: still a select


def test_invalid_filters_are_explained_not_a_server_error(workspace, lead):
    with tenant_context(workspace):
        ConversationFactory(external_id="a")
    cases = [
        ({"csat_score": "high"}, ["csat_score: &#x27;high&#x27; is not a whole number"]),
        ({"reopened": "maybe"}, ["Select a valid choice. maybe is not one of the available choices."]),
        ({"from": "2026-13-01"}, ["Enter a date as YYYY-MM-DD."]),
        ({"from": "2026-03-05", "to": "2026-03-01"}, ["The end of the range is before its start."]),
    ]
    for params, expected in cases:
        response = lead.get(RECORDS, params)
        assert row_ids(response, status=400) == []
        assert errors(response) == expected
        assert "Some filters are not valid" in response.content.decode()
    assert errors(lead.get("/data/revenue/records/", {"to": "March"})) == ["Enter a month as YYYY-MM."]
    broken = lead.get(RECORDS, {"after": "abc", "channel": "email"})
    assert broken.status_code == 400
    assert ('<p>This page link is not valid; start again from the newest rows. '
            '<a href="/data/conversations/records/?channel=email">Newest rows</a></p>') in broken.content.decode()


def test_page_links_keep_the_filters_and_walk_both_ways(workspace, lead):
    with tenant_context(workspace):
        ConversationFactory.create_batch(120, channel="phone")
        ConversationFactory.create_batch(5, channel="email")
        phone = list(Conversation.objects.filter(channel="phone").order_by("-created_at").values_list("external_id", flat=True))
    first = lead.get(RECORDS, {"channel": "phone", "q": ""})
    assert row_ids(first) == phone[:50]
    assert link(first, "prev") is None
    older = link(first, "next")
    assert re.fullmatch(r"\?channel=phone&after=\d+", older)
    second = lead.get(RECORDS + older)
    assert row_ids(second) == phone[50:100]
    third = lead.get(RECORDS + link(second, "next"))
    assert row_ids(third) == phone[100:]
    assert link(third, "next") is None
    back = lead.get(RECORDS + link(third, "prev"))
    assert row_ids(back) == phone[50:100]
    assert row_ids(lead.get(RECORDS + link(back, "prev"))) == phone[:50]
    assert '<a class="button button-small" href="/data/conversations/records/?channel=phone">« Newest</a>' in back.content.decode()


def test_pages_split_rows_with_the_same_time_by_id(workspace):
    with tenant_context(workspace):
        same = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
        ids = [ConversationFactory(created_at=same).pk for _ in range(5)]
        queryset = selectors.records_list(dataset_key="conversations", filters={}, time_zone="UTC")
        first = selectors.records_page(queryset=queryset, dataset_key="conversations", size=2)
        second = selectors.records_page(queryset=queryset, dataset_key="conversations", after=first.older, size=2)
        third = selectors.records_page(queryset=queryset, dataset_key="conversations", after=second.older, size=2)
        newer = selectors.records_page(queryset=queryset, dataset_key="conversations", before=third.newer, size=2)
    newest_first = ids[::-1]
    assert [r.pk for r in first.rows] == newest_first[0:2] and first.newer is None
    assert [r.pk for r in second.rows] == newest_first[2:4] and second.newer == newest_first[2]
    assert [r.pk for r in third.rows] == newest_first[4:] and third.older is None
    assert [r.pk for r in newer.rows] == newest_first[2:4] and newer.older == newest_first[3]


def test_rows_of_another_workspace_never_show(workspace, other_workspace, lead):
    with tenant_context(workspace):
        ConversationFactory(external_id="ours")
    with tenant_context(other_workspace):
        theirs = [ConversationFactory(external_id=f"theirs-{i}", channel="fax") for i in range(2)]
    assert row_ids(lead.get(RECORDS)) == ["ours"]
    assert row_ids(lead.get(RECORDS, {"q": "theirs"})) == []
    assert '<option value="fax">' not in lead.get(RECORDS).content.decode()
    assert lead.get(f"{RECORDS}{theirs[1].pk}/").status_code == 404  # pk 2 exists only over there
    assert "<strong>1 row</strong>" in lead.get("/data/").content.decode()
    theirs_page = host_client(other_workspace, other_workspace.lead).get(RECORDS)
    assert row_ids(theirs_page) == ["theirs-1", "theirs-0"]


@pytest.mark.parametrize("role", [Role.AGENT, Role.VIEWER])
def test_only_team_leads_browse_records(workspace, make_member, role):
    with tenant_context(workspace):
        pk = ConversationFactory().pk
    client = host_client(workspace, make_member(role))
    for url in (RECORDS, f"{RECORDS}{pk}/"):
        response = client.get(url)
        assert response.status_code == 403
        assert "conv-" not in response.content.decode()


def test_signed_out_visitors_are_sent_to_sign_in_and_unknown_datasets_are_404(workspace, lead):
    response = host_client(workspace).get(RECORDS)
    assert (response.status_code, response["Location"]) == (302, "/sign-in/?next=/data/conversations/records/")
    assert lead.get("/data/tickets/records/").status_code == 404
    assert lead.get(f"{RECORDS}999/").status_code == 404


def test_the_page_makes_the_same_few_queries_for_3_or_60_rows(workspace, lead, django_assert_max_num_queries):
    with tenant_context(workspace):
        ConversationFactory.create_batch(3, agent="ann", extra={"k": "v"})
    # Domain, session, user, one SELECT DISTINCT per filter (channel, agent, team,
    # csat_score), the page and the count: 9 queries, each after the SET search_path
    # django-tenants sends.
    with django_assert_max_num_queries(18):
        assert len(row_ids(lead.get(RECORDS))) == 3
    with tenant_context(workspace):
        ConversationFactory.create_batch(57, agent="bob", team="tier 1", tags=["a"], csat_score=4, extra={"k": "v"})
    with django_assert_max_num_queries(18):
        assert len(row_ids(lead.get(RECORDS))) == 50


def test_data_page_counts_rows_and_estimates_big_tables(workspace, lead, monkeypatch):
    with tenant_context(workspace):
        ConversationFactory.create_batch(3)
        CustomerFactory()
        upsert("survey_responses", [{"external_id": f"r{i}", "kind": "nps", "score": "8", "responded_at": "2026-03-01T10:00:00"}
                                    for i in range(12)])
    page = lead.get("/data/").content.decode()
    assert re.findall(r'<p class="dataset-rows"><strong>([^<]*)</strong> <a href="/data/(\w+)/records/">Browse records</a></p>', page) == [
        ("1 row", "customers"), ("No rows yet", "revenue"), ("3 rows", "conversations"), ("No rows yet", "events"),
        ("12 rows", "survey_responses"), ("No rows yet", "social_mentions")]
    monkeypatch.setattr(selectors, "EXACT_COUNT_LIMIT", 10)
    with tenant_context(workspace):
        assert str(selectors.dataset_row_counts()["survey_responses"]) == "more than 10 rows"  # not analyzed yet
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE ingestion_surveyresponse")
        assert str(selectors.dataset_row_counts()["survey_responses"]) == "about 12 rows"
    assert "<strong>about 12 rows</strong>" in lead.get("/data/").content.decode()
    filtered = lead.get("/data/survey_responses/records/", {"kind": "nps"}).content.decode()
    assert '<strong class="row-count">more than 10 rows matching</strong>' in filtered  # no estimate for a filter


def test_about_rounds_to_three_significant_digits():
    assert [selectors._about(n) for n in (499_987.0, 12.0, 123_456.0, 1_049.6)] == [500_000, 12, 123_000, 1_050]


def test_an_empty_dataset_points_to_its_documentation(workspace, lead):
    page = lead.get("/data/events/records/").content.decode()
    assert "<h2>No product events stored yet</h2>" in page
    assert '<a href="/data/events/">Product events fields and rules</a>' in page
    assert "<table" not in page
    docs = lead.get("/data/events/").content.decode()
    assert '<a class="button" href="/data/events/records/">Browse records</a>' in docs


def test_a_row_page_shows_every_field_and_the_whole_extra(workspace, lead):
    with tenant_context(workspace):
        upsert("events", [{"external_id": "e-1", "user_external_id": "u-1", "name": "purchase",
                           "occurred_at": "2026-03-01T10:00:05Z", "properties": {"plan": "pro", "amount": 49},
                           "utm_campaign": "spring", "nested": {"a": [1, 2]}}])
        pk = Event.objects.get(external_id="e-1").pk
    listing = lead.get("/data/events/records/", {"name": "purchase"})
    assert f'<a href="/data/events/records/{pk}/?name=purchase">e-1</a>' in listing.content.decode()
    page = lead.get(f"/data/events/records/{pk}/", {"name": "purchase"}).content.decode()
    assert '<h1 class="record-title">e-1</h1>' in page
    assert '<time datetime="2026-03-01T11:00:05+01:00">2026-03-01 11:00:05</time>' in page
    assert '<pre class="json">{\n  &quot;amount&quot;: 49,\n  &quot;plan&quot;: &quot;pro&quot;\n}</pre>' in page
    assert ('<pre class="json">{\n  &quot;nested&quot;: {\n    &quot;a&quot;: [\n      1,\n      2\n    ]\n  },\n'
            '  &quot;utm_campaign&quot;: &quot;spring&quot;\n}</pre>') in page
    assert '<th scope="row" class="mono">session_<wbr>id</th>\n      <td><span class="muted">—</span></td>' in page
    assert '<a href="/data/events/records/?name=purchase">‹ Back to the records</a>' in page
