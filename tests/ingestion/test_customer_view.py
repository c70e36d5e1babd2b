"""The one-customer view (/customers/<external id>/) and the customer search (/customers/?q=),
on a hand-made customer whose every figure is worked out below (workspace time zone
Europe/Paris: UTC+1 in winter, UTC+2 from 29 March 2026)."""
import re
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from django_tenants.utils import tenant_context

from ingestion.links import customer_path
from ingestion.models import Event, Revenue
from ingestion.selectors import customers as selectors
from surveys.models import Response
from tenants.accounts.models import Role
from tests.helpers import host_client
from tests.ingestion.factories import ConversationFactory, CustomerFactory, RevenueFactory, SurveyResponseFactory
from tests.surveys.factories import ResponseFactory, survey_make

# An id with a slash, a space and a non-ASCII letter: it must survive links and routing.
CID = "acme/eu 1 ü"
PATH = "/customers/acme/eu%201%20%C3%BC/"


def utc(*args) -> datetime:
    return datetime(*args, tzinfo=UTC)


def make_customer(**overrides):
    fields = dict(external_id=CID, name="Renée Dupont-Lévêque", email="Renee.Dupont@Example.TEST", plan="pro",
                  country="FR", signed_up_at=utc(2025, 6, 10, 9, 0))
    return CustomerFactory(**{**fields, **overrides})


@pytest.fixture
def story(workspace):
    """The customer, their revenue, conversations, survey answers (imported and Pulse's)."""
    with tenant_context(workspace):
        customer = make_customer()
        for month, product, mrr in [(date(2026, 1, 1), "default", "49.00"), (date(2026, 1, 1), "addon", "10.00"),
                                    (date(2026, 2, 1), "default", "49.00"), (date(2026, 4, 1), "default", "99.00")]:
            RevenueFactory(customer_external_id=CID, month=month, product=product, mrr=Decimal(mrr))
        RevenueFactory(customer_external_id="someone-else", month=date(2026, 3, 1), mrr=Decimal("500.00"))
        ConversationFactory(external_id="c1", customer_external_id=CID, channel="email", agent="Ann", team="A",
                            created_at=utc(2026, 3, 2, 9, 0), first_response_at=utc(2026, 3, 2, 9, 30),
                            resolved_at=utc(2026, 3, 2, 13, 0), subject="Invoice twice")
        ConversationFactory(external_id="c2", customer_external_id=CID, channel="chat",
                            created_at=utc(2026, 3, 5, 10, 0), abandoned=True)
        ConversationFactory(external_id="c3", customer_external_id=CID, channel="phone", agent="Bob",
                            created_at=utc(2026, 3, 10, 8, 0), first_response_at=utc(2026, 3, 10, 8, 15))
        ConversationFactory(external_id="not-theirs", customer_external_id="someone-else")
        SurveyResponseFactory(external_id="r-det", customer_external_id=CID, kind="nps", score=3,
                              responded_at=utc(2026, 1, 15, 10, 0), comment="Too slow to answer")
        SurveyResponseFactory(external_id="r-pas", customer_external_id=CID, kind="nps", score=8,
                              responded_at=utc(2026, 4, 20, 10, 0))
        SurveyResponseFactory(external_id="r-csat", customer_external_id=CID, kind="csat", score=5,
                              responded_at=utc(2026, 3, 2, 14, 0), comment="Quick fix, thanks")
        survey = survey_make("nps", name="Q2 NPS")
        promoter = ResponseFactory(survey=survey, customer_external_id=CID, email="renee.dupont@example.test",
                                   score=10, score_kind="nps", comment="Love the new reports",
                                   responded_at=utc(2026, 6, 1, 8, 0))
        # Sent to a pasted address, without the customer id: found by the customer's email.
        by_email = ResponseFactory(survey=survey, email="renee.dupont@example.test", score=4, score_kind="nps",
                                   comment="Export broke again", responded_at=utc(2026, 5, 10, 8, 0),
                                   followup=Response.FollowUp.OPEN, followup_assignee=workspace.lead)
        # Held as a link scanner's: listed, marked, left out of the band history.
        ResponseFactory(survey=survey, customer_external_id=CID, score=2, score_kind="nps",
                        responded_at=utc(2026, 7, 1, 8, 0), review=Response.Review.PENDING)
    connection.set_schema_to_public()
    return {"customer": customer, "survey": survey, "promoter": promoter, "by_email": by_email}


def test_mrr_history_one_row_per_month_with_gaps_at_zero(workspace, story):
    with tenant_context(workspace):
        rows = selectors.customer_mrr_history(external_id=CID)
    assert [(row["month"], row["mrr"], row["products"], row["product_names"], row["change"]) for row in rows] == [
        (date(2026, 1, 1), Decimal("59.00"), 2, "addon, default", None),
        (date(2026, 2, 1), Decimal("49.00"), 1, "default", Decimal("-10.00")),
        (date(2026, 3, 1), Decimal("0"), 0, "", Decimal("-49.00")),
        (date(2026, 4, 1), Decimal("99.00"), 1, "default", Decimal("99.00")),
    ]
    assert {row["currency"] for row in rows} == {"EUR"}


def test_conversations_with_their_times_and_totals(workspace, story):
    with tenant_context(workspace):
        page = selectors.customer_conversations(external_id=CID)
    assert [row["external_id"] for row in page.rows] == ["c3", "c2", "c1"]
    c3, c2, c1 = page.rows
    assert c1["first_response_hours"] == Decimal("0.5") and c1["resolution_hours"] == Decimal("4")
    assert c3["first_response_hours"] == Decimal("0.25") and c3["resolution_hours"] is None
    assert c2["abandoned"] is True and c2["first_response_hours"] is None
    assert (page.total, page.open, page.abandoned, page.mean_resolution_hours) == (3, 1, 1, Decimal("4"))
    assert (page.first, page.last) == (utc(2026, 3, 2, 9, 0), utc(2026, 3, 10, 8, 0))


def test_survey_answers_and_nps_band_over_time(workspace, story):
    with tenant_context(workspace):
        answers = selectors.customer_survey_answers(external_id=CID, email=story["customer"].email)
    assert [(row["source"], row["kind"], row["score"], row["band"], row["counted"]) for row in answers] == [
        ("survey", "nps", 2, "detractor", False),  # held for review
        ("survey", "nps", 10, "promoter", True),
        ("survey", "nps", 4, "detractor", True),  # by email
        ("imported", "nps", 8, "passive", True),
        ("imported", "csat", 5, "positive", True),
        ("imported", "nps", 3, "detractor", True),
    ]
    assert answers[2]["followup"] == "open" and answers[2]["assignee"] == "Lee Lead"
    assert answers[2]["comment"] == "Export broke again" and answers[5]["comment"] == "Too slow to answer"
    history = selectors.nps_band_history(answers)
    assert [(row["responded_at"].date(), row["band"]) for row in history] == [
        (date(2026, 1, 15), "detractor"), (date(2026, 4, 20), "passive"), (date(2026, 5, 10), "detractor"),
        (date(2026, 6, 1), "promoter")]


def test_product_activity_in_local_days(workspace):
    """Today is 30 June 2026 (Paris, UTC+2): the last 30 days start on 1 June, the last 90 on 2 April."""
    with tenant_context(workspace):
        for n, (name, at) in enumerate([
            ("login", utc(2026, 6, 30, 21, 30)),  # 23:30 on the 30th in Paris
            ("login", utc(2026, 6, 29, 22, 30)),  # 00:30 on the 30th in Paris: the same local day
            ("export", utc(2026, 6, 10, 12, 0)),
            ("login", utc(2026, 5, 31, 21, 59)),  # 23:59 on 31 May: outside the last 30 days
            ("login", utc(2026, 4, 1, 12, 0)),  # outside the last 90 days
        ]):
            Event.objects.create(external_id=f"e{n}", user_external_id=CID, name=name, occurred_at=at)
        Event.objects.create(external_id="other", user_external_id="someone-else", name="login",
                             occurred_at=utc(2026, 6, 30, 8, 0))
        activity = selectors.customer_activity(external_id=CID, today=date(2026, 6, 30), time_zone="Europe/Paris")
    assert (activity.active_days_30, activity.events_30) == (2, 3)
    assert (activity.active_days_90, activity.events_90) == (3, 4)
    assert (activity.events, activity.last_seen, activity.first_seen) == (5, utc(2026, 6, 30, 21, 30), utc(2026, 4, 1, 12, 0))
    assert activity.top_events == [("login", 3), ("export", 1)]
    weeks = {row["week"]: (row["active_days"], row["events"]) for row in activity.weeks}
    assert len(weeks) == 12 and min(weeks) == date(2026, 4, 13) and max(weeks) == date(2026, 6, 29)
    assert {week: value for week, value in weeks.items() if value != (0, 0)} == {
        date(2026, 6, 29): (1, 2), date(2026, 6, 8): (1, 1), date(2026, 5, 25): (1, 1)}


def test_the_page_shows_every_section(workspace, lead, story):
    with tenant_context(workspace):
        Event.objects.create(external_id="now", user_external_id=CID, name="login",
                             occurred_at=timezone.now() - timedelta(hours=1))
    assert customer_path(CID) == PATH
    response = lead.get(PATH)
    assert response.status_code == 200
    page = response.content.decode()
    assert '<h1 class="customer-title">Renée Dupont-Lévêque</h1>' in page
    assert '<span class="mono">acme/eu 1 ü</span> · Renee.Dupont@Example.TEST' in page
    assert '<span class="status status-done">Active</span>' in page and "<dd>pro</dd>" in page
    assert '<dd class="current-mrr">99.00 EUR <span class="muted">(Apr 2026)</span></dd>' in page
    # MRR: the chart and the monthly rows, newest first.
    assert 'new Chartkick["LineChart"]' in page or "Chartkick" in page
    assert re.findall(r'<tr><th scope="row">(\d{4}-\d\d)</th><td class="num">([^<]*)</td>', page) == [
        ("2026-04", "99.00 EUR"), ("2026-03", "0.00 EUR"), ("2026-02", "49.00 EUR"), ("2026-01", "59.00 EUR")]
    # Conversations: local times (Paris, UTC+1 in March), hours, status; linked for a team lead.
    assert "3 conversations from 2 Mar 2026 to 10 Mar 2026 · 1 open · 1 abandoned · mean resolution 4.0 h" in page
    assert '<time datetime="2026-03-02T10:00:00+01:00">2026-03-02 10:00</time>' in page
    assert '<span class="muted resolution-hours">4.0 h</span>' in page and '<span class="band band-abandoned">abandoned</span>' in page
    assert "not-theirs" not in page and "/data/conversations/records/" in page
    # Answers with comments and follow-ups; the NPS band history and the latest band.
    assert "Too slow to answer" in page and "Export broke again" in page and "Love the new reports" in page
    assert '<span class="status status-failed">Open</span><br><span class="muted">Lee Lead</span>' in page
    assert f'href="/surveys/{story["survey"].pk}/responses/{story["promoter"].pk}/"' in page
    assert "held for review" in page
    assert re.findall(r'<span class="band band-(\w+)">\1 · (\d+)</span>', page) == [
        ("detractor", "3"), ("passive", "8"), ("detractor", "4"), ("promoter", "10")]
    assert 'NPS band</dt><dd><span class="band band-promoter">promoter</span>' in page
    # Activity: the event an hour ago is today's.
    assert '<dd class="active-30">1</dd>' in page and '<dd class="active-90">1</dd>' in page
    assert 'Active days per week, last 12 weeks' in page


def test_no_data_states_for_a_customer_without_records(workspace, lead):
    with tenant_context(workspace):
        make_customer()
    page = lead.get(PATH).content.decode()
    for text in ("No revenue rows for this customer.", "No conversations with this customer.",
                 "No survey answers from this customer.", "No NPS answers from this customer.",
                 "No product events from this customer."):
        assert text in page
    assert "Chartkick" not in page.split("</head>")[1]  # no chart drawn without data


def test_an_id_named_only_by_other_datasets_has_a_page(workspace, lead):
    with tenant_context(workspace):
        ConversationFactory(external_id="c9", customer_external_id="ghost-7")
    page = lead.get("/customers/ghost-7/").content.decode()
    assert "This id is not in the customers dataset (yet)" in page and ">c9</a>" in page


def test_unknown_customer_is_a_404_page(workspace, lead):
    response = lead.get("/customers/nobody/")
    assert response.status_code == 404 and "text/html" in response["Content-Type"]
    # NUL characters are refused before any view (tenants.middleware), in the path as in the query.
    assert lead.get("/customers/", {"id": "no\x00body"}).status_code == 400
    assert lead.get("/customers/no%00body/").status_code == 400


def test_another_workspaces_customer_with_the_same_id_is_not_visible(workspace, lead, other_workspace, story):
    with tenant_context(other_workspace):
        make_customer(name="Globex Person", email="globex@globex.test")
        ConversationFactory(external_id="globex-conv", customer_external_id=CID)
        RevenueFactory(customer_external_id=CID, month=date(2026, 5, 1), mrr=Decimal("1234.00"))
    connection.set_schema_to_public()
    page = lead.get(PATH).content.decode()
    assert "Renée Dupont-Lévêque" in page
    assert "Globex Person" not in page and "globex-conv" not in page and "1234.00" not in page
    # And their lead sees theirs only.
    other = host_client(other_workspace, other_workspace.lead).get(PATH).content.decode()
    assert "Globex Person" in other and "Renée" not in other and "Too slow" not in other
    assert host_client(other_workspace, other_workspace.lead).get("/customers/", {"q": "Renée"}).content.decode().count(
        "customer-link") == 0


def test_ids_with_dot_segments_or_line_breaks_link_by_query(workspace, lead):
    with tenant_context(workspace):
        make_customer(external_id="a/../b", name="Dots")
        make_customer(external_id="two\nlines", name="Lines", email="lines@example.test")
    assert customer_path("a/../b") == "/customers/?id=a%2F..%2Fb"
    assert "Dots" in lead.get(customer_path("a/../b")).content.decode()
    assert "Lines" in lead.get(customer_path("two\nlines")).content.decode()
    assert customer_path("50% off?#x") == "/customers/50%25%20off%3F%23x/"


def test_query_count_does_not_grow_with_the_records(workspace, lead, story):
    def queries(path) -> int:
        with CaptureQueriesContext(connection) as captured:
            assert lead.get(path).status_code == 200
        return len(captured)

    queries(PATH)  # the session's first request reads more (its user, the workspace settings)
    few = queries(PATH)
    with tenant_context(workspace):
        make_customer(external_id="big", email="big@example.test")
        ConversationFactory.create_batch(300, customer_external_id="big", agent="Ann",
                                         first_response_at=utc(2026, 3, 1, 12, 0))
        for month in range(60):
            RevenueFactory(customer_external_id="big", month=date(2021 + month // 12, month % 12 + 1, 1))
        Event.objects.bulk_create(Event(external_id=f"big-{n}", user_external_id="big", name=f"n{n % 7}",
                                        occurred_at=timezone.now() - timedelta(hours=7 * n)) for n in range(400))
        SurveyResponseFactory.create_batch(150, customer_external_id="big", comment="ok")
        ResponseFactory.create_batch(40, survey=story["survey"], customer_external_id="big", score=6,
                                     score_kind="nps", followup="open", followup_assignee=workspace.lead)
    connection.set_schema_to_public()
    many = queries("/customers/big/")
    assert many == few
    assert many <= 16  # session and user, then one per section (each after its search_path)
    page = lead.get("/customers/big/").content.decode()
    assert "1–25 shown" in page and 'href="?conversations=2#conversations"' in page
    assert "The newest 100 answers" in page
    page = lead.get("/customers/big/", {"conversations": "12"}).content.decode()
    assert "276–300 of 300" in page and "Older →" not in page
    # A bad or past-the-end page number shows the newest conversations.
    for number in ("nope", "13", "0"):
        assert "1–25 shown" in lead.get("/customers/big/", {"conversations": number}).content.decode()
    assert lead.get("/customers/nobody/", {"conversations": "2"}).status_code == 404


def search(client, q, **params) -> tuple[list[str], str]:
    page = client.get("/customers/", {"q": q, **params}).content.decode()
    return re.findall(r'<a class="customer-link" href="[^"]*">([^<]*)</a>', page), page


def test_search_by_id_email_and_name(workspace, lead):
    with tenant_context(workspace):
        make_customer()
        make_customer(external_id="acme/eu 10", name="Zoë Ångström", email="zoe@example.test")
        make_customer(external_id="acme", name="Bob", email="bob@acme.test")
        make_customer(external_id="x_1", name="Émile Zola", email="emile@example.test")
    # External id: exact first, then the ids it starts (case-sensitive, as keyed).
    assert search(lead, "acme")[0] == ["acme", "acme/eu 1 ü", "acme/eu 10"]
    assert search(lead, "acme/eu 1")[0] == ["acme/eu 1 ü", "acme/eu 10"]
    assert search(lead, "ACME/EU")[0] == []
    # Email, any part, ignoring case.
    assert search(lead, "RENEE.DUPONT@example.test")[0] == ["acme/eu 1 ü"]
    assert search(lead, "@ACME.")[0] == ["acme"]
    # Name, ignoring case and accents, both ways.
    assert search(lead, "rene")[0] == ["acme/eu 1 ü"]
    assert search(lead, "DUPONT-LEVEQUE")[0] == ["acme/eu 1 ü"]
    assert search(lead, "zoe angstrom")[0] == ["acme/eu 10"]
    assert search(lead, "émile")[0] == ["x_1"]
    # LIKE wildcards are plain characters.
    assert search(lead, "%")[0] == [] and search(lead, "x_")[0] == ["x_1"] and search(lead, "_")[0] == []
    ids, page = search(lead, "e")
    assert len(ids) == 4 and "4 customers match" in page


def test_search_prompt_pages_and_bad_input(workspace, lead):
    page = lead.get("/customers/").content.decode()
    assert "Search for a customer" in page and "customer-link" not in page
    with tenant_context(workspace):
        CustomerFactory.create_batch(30, name="Sam Same")
    ids, page = search(lead, "same")
    assert len(ids) == 25 and "30 customers match" in page and "1–25 shown" in page and "Page 1 of 2" in page
    assert 'href="?q=same&amp;page=2"' in page
    ids, page = search(lead, "same", page="2")
    assert len(ids) == 5
    response = lead.get("/customers/", {"q": "a\x00b"})
    assert response.status_code == 400 and "contains a NUL character" in response.content.decode()
    assert lead.get("/customers/", {"q": "x" * 256}).status_code == 400
    assert search(lead, "   ")[0] == [] and "Search for a customer" in search(lead, "   ")[1]


def test_roles(workspace, make_member, story):
    viewer = host_client(workspace, make_member(Role.VIEWER))
    agent = host_client(workspace, make_member(Role.AGENT))
    page = viewer.get(PATH).content.decode()
    # A viewer reads KPIs: the customer, MRR, conversations and activity, not survey answers.
    assert "Renée Dupont-Lévêque" in page and "3 conversations" in page
    assert "Survey answers and comments are shown to agents and team leads." in page
    assert "Too slow" not in page and "Love the new reports" not in page and "NPS band" not in page
    assert "/data/conversations/records/" not in page  # the data browser is for team leads
    assert search(viewer, "rene")[0] == ["acme/eu 1 ü"]
    page = agent.get(PATH).content.decode()
    assert "Too slow to answer" in page and "NPS band over time" in page
    assert "/data/" not in page.split('id="main"')[1]
    assert host_client(workspace).get(PATH).status_code == 302  # to sign in
    assert host_client(workspace).get("/customers/").status_code == 302


def test_records_link_to_the_customer_page(workspace, lead, story):
    with tenant_context(workspace):
        Event.objects.create(external_id="ev", user_external_id=CID, name="login", occurred_at=utc(2026, 3, 1))
    href = f'<a class="customer-link" href="{PATH}">{CID}</a>'
    for dataset in ("conversations", "events", "survey_responses"):
        assert href in lead.get(f"/data/{dataset}/records/").content.decode(), dataset
    # Revenue rows are keyed by the customer: their first cell opens the row, whose page links the customer.
    with tenant_context(workspace):
        revenue_pk = Revenue.objects.filter(customer_external_id=CID).values_list("pk", flat=True).first()
    assert href in lead.get(f"/data/revenue/records/{revenue_pk}/").content.decode()
    page = lead.get(f"/data/customers/records/{story['customer'].pk}/").content.decode()
    assert f'<a class="button" href="{PATH}">Customer page</a>' in page
    survey = story["survey"]
    assert href in lead.get(f"/surveys/{survey.pk}/responses/").content.decode()
    assert href in lead.get(f"/surveys/{survey.pk}/responses/{story['promoter'].pk}/").content.decode()
    # The KPI drill-down rows: March's resolved conversations are c1 only; the CSV keeps plain ids.
    query = {"period": "month", "date": "2026-03-15"}
    page = lead.get("/kpis/mean_time_to_resolution/", query).content.decode()
    assert ">c1</th>" in page and page.count(href) == 1
    csv = b"".join(lead.get("/kpis/mean_time_to_resolution/records.csv", query).streaming_content).decode()
    assert f"c1,2026-03-02 10:00:00,2026-03-02 14:00:00,4.00,email,Ann,A,{CID},Invoice twice" in csv
