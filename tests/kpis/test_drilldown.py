"""The drill-down lists behind KPI values (issue #4, KPI pages) on the small fixture of
test_support_kpis (workspace time zone Europe/Paris), every row checked by hand: bands,
segment values, pagination, the CSV export (formula injection), roles and query counts."""
import csv
import io
from datetime import date, datetime
from decimal import Decimal

import pytest
from django_tenants.utils import tenant_context

from kpis.registry import KPIS, Kpi
from kpis.selectors.drilldown import kpi_drilldown
from tenants.accounts.models import Role
from tests.helpers import host_client
from tests.kpis.helpers import conv, load_support_data

MARCH = {"since": date(2026, 3, 1), "until": date(2026, 4, 1)}


@pytest.fixture
def drill(workspace, load):
    """Rows of a KPI's drill-down for March: (bands, [(band, id, …), …])."""
    load_support_data(workspace, load)

    def rows(key, **kwargs):
        with tenant_context(workspace):
            bands, found = kpi_drilldown(kpi=KPIS[key], **{**MARCH, **kwargs})
            return bands, found[0:500], found.columns
    return rows


def test_nps_responses_with_their_band(drill):
    bands, rows, columns = drill("nps")
    assert bands == {"detractor": 1, "passive": 1, "promoter": 3}  # the test customer's 0 is left out
    assert columns == ["Response", "Source", "Answered", "Score", "Customer", "Channel", "Agent", "Comment"]
    assert [(band, rid, score) for band, rid, _, _, score, *_ in rows] == [
        ("promoter", "n0", 10), ("promoter", "n1", 9), ("promoter", "n2", 9), ("passive", "n3", 8), ("detractor", "n4", 6)]
    assert rows[0][3] == datetime(2026, 3, 12, 10, 0)  # local wall-clock time
    bands, rows, _ = drill("nps", band="detractor")
    assert [row[1] for row in rows] == ["n4"] and bands["promoter"] == 3


def test_fcr_conversations_and_why_they_missed(drill):
    bands, rows, columns = drill("first_contact_resolution")
    assert bands == {"first contact": 3, "missed": 3}  # 3 of 6, as the KPI
    assert columns[2:7] == ["Resolved", "Contacts", "Reopened", "Next contact", "Why not"]
    by_id = {row[1]: dict(zip(["band", *columns], row)) for row in rows}
    assert sorted(by_id) == ["c1", "c2", "c4", "c5", "c6", "c8"]  # c3 abandoned, c7 a test customer's
    assert {k: (v["band"], v["Why not"]) for k, v in by_id.items()} == {
        "c1": ("first contact", ""), "c5": ("first contact", ""), "c8": ("first contact", ""),
        "c2": ("missed", "repeat contact"), "c4": ("missed", "2 contacts"), "c6": ("missed", "reopened")}
    assert by_id["c2"]["Next contact"] == datetime(2026, 3, 5, 10, 0)
    assert by_id["c1"]["Next contact"] == datetime(2026, 3, 31, 23, 30)  # outside the 7-day window


def test_resolution_time_sla_and_segment_value(drill):
    bands, rows, columns = drill("mean_time_to_resolution")
    hours = {row[1]: row[columns.index("Hours to resolve") + 1] for row in rows}
    assert hours == {"c1": Decimal("2.00"), "c2": Decimal("26.00"), "c5": Decimal("0.50"), "c6": Decimal("1.00"),
                     "c8": Decimal("0.50")}  # c4 was resolved on 1 April locally
    assert bands == {"over SLA": 1, "within SLA": 4}
    assert drill("sla_attainment", band="over SLA")[1][0][1] == "c2"
    _, rows, _ = drill("mean_time_to_resolution", segment="channel", value="email")
    assert [row[1] for row in rows] == ["c8", "c6", "c1"]  # newest resolution first
    _, rows, _ = drill("mean_time_to_resolution", segment="agent", value="bob")
    assert sorted(row[1] for row in rows) == ["c2", "c6"]


def test_abandonment_first_response_and_csat(drill):
    bands, rows, _ = drill("conversation_abandonment_rate")
    assert bands == {"abandoned": 1} and rows[0][1] == "c3"
    assert drill("conversation_abandonment_rate", segment="channel_kind", value="voice")[0] == {}
    _, rows, columns = drill("first_response_time")
    assert {row[1]: row[columns.index("Hours to first response") + 1] for row in rows} == {
        "c1": Decimal("0.50"), "c2": Decimal("0.10")}
    bands, rows, _ = drill("csat")
    assert bands == {"not positive": 2, "positive": 3}  # 3 of 5, as the KPI
    assert sorted((row[1], row[2], row[4]) for row in rows) == [
        ("c1", "conversation", 5), ("c2", "conversation", 3), ("c5", "conversation", 4),
        ("s1", "imported", 5), ("s2", "imported", 2)]


def test_social_mentions_and_share_of_voice(workspace, load):
    load("social_mentions", [
        {"external_id": "m1", "platform": "twitter", "posted_at": "2026-03-02T10:00", "text": "Love it", "sentiment": "positive",
         "followers": "10"},
        {"external_id": "m2", "platform": "instagram", "posted_at": "2026-03-03T10:00", "text": "Meh", "sentiment": "neutral"},
        {"external_id": "g1", "platform": "twitter", "posted_at": "2026-03-04T10:00", "text": "Globex!", "sentiment": "negative",
         "brand": "Globex"},
    ])
    with tenant_context(workspace):
        bands, rows = kpi_drilldown(kpi=KPIS["social_mention_volume"], **MARCH)
        assert bands == {"neutral": 1, "positive": 1}
        assert [(row[1], row[-3]) for row in rows[0:50]] == [("m2", "imported"), ("m1", "imported")]
        bands, rows = kpi_drilldown(kpi=KPIS["social_share_of_voice"], **MARCH)
        assert bands == {"competitor": 1, "own brand": 2}
        bands, _ = kpi_drilldown(kpi=KPIS["social_net_sentiment"], segment="platform", value="twitter", **MARCH)
        assert bands == {"positive": 1}


def test_kpi_page_lists_and_filters_the_records(workspace, load, make_member, django_assert_max_num_queries):
    load_support_data(workspace, load)
    client = host_client(workspace, make_member(Role.VIEWER))
    # Sign-in, settings, trend, two breakdowns, margin, computed-at, band counts, one page
    # of rows: a dozen queries, each after its schema's search_path; the same for any
    # number of rows.
    with django_assert_max_num_queries(24):
        page = client.get("/kpis/nps/", {"period": "month", "date": "2026-03-15"}).content.decode()
    assert "Records behind the number" in page and "5 records" in page
    assert 'class="band band-detractor">detractor' in page and ">n4</th>" in page
    assert "/kpis/nps/records.csv?period=month&amp;date=2026-03-15" in page
    page = client.get("/kpis/nps/", {"period": "month", "date": "2026-03-15", "band": "detractor"}).content.decode()
    assert "1 record." in page and ">n4</th>" in page and ">n0</th>" not in page
    # Breakdown rows link to the drill-down of their segment value.
    page = client.get("/kpis/mean_time_to_resolution/", {"period": "month", "date": "2026-03-15"}).content.decode()
    assert "?period=month&amp;date=2026-03-15&amp;segment=channel&amp;value=email#drilldown-title" in page
    page = client.get("/kpis/mean_time_to_resolution/", {"period": "month", "date": "2026-03-15", "segment": "channel",
                                                         "value": "email"}).content.decode()
    assert "Channel email" in page and "3 records" in page and ">c2</th>" not in page
    # An unknown segment is ignored (every record), a page without records says so.
    page = client.get("/kpis/mean_time_to_resolution/", {"period": "month", "date": "2026-03-15", "segment": "plan",
                                                         "value": "x"}).content.decode()
    assert "5 records" in page
    page = client.get("/kpis/nps/", {"period": "month", "date": "2026-02-15"}).content.decode()
    assert "No records for this period." in page


def test_drilldown_pages_of_fifty(workspace, load, make_member):
    load("conversations", [conv(f"x{i:02d}", "chat", f"2026-05-04T{8 + i // 10:02d}:{i % 10 * 5:02d}", abandoned="true")
                           for i in range(60)])
    client = host_client(workspace, make_member(Role.AGENT))
    query = {"period": "month", "date": "2026-05-04"}
    first = client.get("/kpis/conversation_abandonment_rate/", query).content.decode()
    assert "60 records, 1–50 shown" in first and "Page 1 of 2" in first
    assert first.count("<th scope=\"row\">x") == 50 and ">x59</th>" in first and ">x09</th>" not in first
    second = client.get("/kpis/conversation_abandonment_rate/", {**query, "page": 2}).content.decode()
    assert "51–60 shown" in second and second.count("<th scope=\"row\">x") == 10 and ">x00</th>" in second
    assert 'href="?period=month&amp;date=2026-05-04&amp;page=1"' in second


def test_csv_export_of_the_whole_list_is_formula_safe(workspace, load, make_member):
    load("conversations", [
        conv("x1", "email", "2026-05-04T09:00", abandoned="true") | {"subject": '=HYPERLINK("http://evil.test","click")'},
        conv("x2", "email", "2026-05-05T09:00", abandoned="true") | {"subject": "Refund, please"},
        conv("x3", "phone", "2026-05-06T09:00", abandoned="true", agent="-bob"),
    ])
    client = host_client(workspace, make_member(Role.VIEWER))
    response = client.get("/kpis/conversation_abandonment_rate/records.csv", {"period": "month", "date": "2026-05-04"})
    assert response.status_code == 200 and response.streaming
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"] == 'attachment; filename="conversation_abandonment_rate-2026-05-01.csv"'
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert rows == [
        ["Status", "Conversation", "Created", "Channel", "Agent", "Team", "Customer", "Subject"],
        ["abandoned", "x3", "2026-05-06 09:00:00", "phone", "'-bob", "A", "", ""],
        ["abandoned", "x2", "2026-05-05 09:00:00", "email", "ann", "A", "", "Refund, please"],
        ["abandoned", "x1", "2026-05-04 09:00:00", "email", "ann", "A", "", "'=HYPERLINK(\"http://evil.test\",\"click\")"],
    ]
    segment = client.get("/kpis/conversation_abandonment_rate/records.csv",
                         {"period": "month", "date": "2026-05-04", "segment": "channel", "value": "phone"})
    assert segment["Content-Disposition"].endswith('-2026-05-01-channel-phone.csv"')
    assert [row[1] for row in csv.reader(io.StringIO(b"".join(segment.streaming_content).decode()))] == ["Conversation", "x3"]


def test_drilldown_needs_a_member_and_a_kpi_with_records(workspace, load, monkeypatch):
    assert host_client(workspace).get("/kpis/nps/records.csv").status_code == 302  # to sign in
    assert host_client(workspace, workspace.lead).get("/kpis/happiness/records.csv").status_code == 404

    class Plain(Kpi):
        """A KPI without a drill-down."""
        key, label, unit, direction, dataset = "plain", "Plain", "%", "higher", "customers"

        def day_sql(self, segment):
            return "SELECT %(since)s::date, '', 0, 0 WHERE false"

    monkeypatch.setitem(KPIS, "plain", Plain())
    client = host_client(workspace, workspace.lead)
    assert client.get("/kpis/plain/records.csv").status_code == 404
    page = client.get("/kpis/plain/", {"period": "range", "start": "2026-03-01", "end": "2026-03-31"})
    assert page.status_code == 200 and "Records behind the number" not in page.content.decode()
