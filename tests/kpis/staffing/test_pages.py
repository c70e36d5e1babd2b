"""The staffing page on a hand-made fortnight (workspace time zone Europe/Paris, UTC+1 in
early March 2026; "today" is Wednesday 18 March, so 2 weeks read are 2–15 March)."""
from datetime import UTC, date, datetime, timedelta

import pytest
from django_tenants.utils import tenant_context

from ingestion.models import Conversation
from kpis.staffing.models import StaffingChannel
from tenants.accounts.models import Role
from tests.helpers import host_client

TODAY = date(2026, 3, 18)


def fortnight_rows() -> list[Conversation]:
    rows = []
    # Each Monday 09:00–10:00 Paris (08:00 UTC): 200 chats, answered after 5 s, handled in
    # 180 s, nobody hangs up — 10 erlangs, Call Centre Helper's worked example.
    for monday in (2, 9):
        start = datetime(2026, 3, monday, 8, tzinfo=UTC)
        for n in range(200):
            created = start + timedelta(seconds=18 * n)
            rows.append(Conversation(external_id=f"chat-{monday}-{n}", channel="chat", created_at=created,
                                     first_response_at=created + timedelta(seconds=5),
                                     resolved_at=created + timedelta(seconds=185), agent=f"agent-{n % 9}"))
    # Each Wednesday 11:00 Paris: one email (backlog: its handle time is assumed, 480 s).
    for wednesday in (4, 11):
        created = datetime(2026, 3, wednesday, 10, 15, tzinfo=UTC)
        rows.append(Conversation(external_id=f"email-{wednesday}", channel="email", created_at=created,
                                 first_response_at=created + timedelta(hours=3),
                                 resolved_at=created + timedelta(hours=3, minutes=10)))
    return rows


@pytest.fixture
def fortnight(workspace, monkeypatch):
    monkeypatch.setattr("kpis.periods.local_today", lambda tz: TODAY)
    with tenant_context(workspace):
        Conversation.objects.bulk_create(fortnight_rows())
    return workspace


def _page(client, **query):
    return client.get("/kpis/staffing/", {"weeks": 2, **query})


def test_every_member_sees_agents_needed_per_hour(fortnight, make_member):
    page = _page(host_client(fortnight, make_member(Role.VIEWER)))
    assert page.status_code == 200
    chat, email = page.context["plans"]["chat"][1], page.context["plans"]["email"][1]
    # Chat, Erlang C (nobody abandoned), 80% within 60 s: 12 agents give 76.9%, 13 give
    # 89.5% at 76.9% occupancy; 30% shrinkage: ⌈13 / 0.7⌉ = 19 to schedule, Monday 09:00 only.
    assert (chat.method, chat.handle_time, chat.on_floor[9], chat.scheduled[9], chat.peak, chat.agent_hours) == (
        "erlang_c", 180.0, 13, 19, 19, 19)
    assert round(chat.service_level[9], 4) == 0.8951  # 1 − 0.28527·e^(−(13 − 10)·60/180)
    # Email: one email a week at the assumed 480 s, 90% within 24 h: one agent-hour on the
    # floor in the hour it arrives, ⌈1 / 0.7⌉ = 2 to schedule.
    assert (email.method, email.on_floor[59], email.scheduled[59], email.agent_hours, email.answered_in_time) == (
        "backlog", 1, 2, 2, 1.0)
    html = page.content.decode()
    assert "Erlang C: 80% within 60 s" in html and "Backlog: 90% within 24 h" in html
    assert 'title="Mon 09:00 · 200.0 conversations · 13 on the floor · service level 89.5% · 9.0 seen answering"' in html
    assert "Save these rules" not in html  # a viewer changes nothing


def test_what_if_recalculates_without_saving(fortnight, make_member):
    client = host_client(fortnight, make_member(Role.AGENT))
    form = _page(client, channel="chat").context["form"]
    asked = {name: "" if value is None else value for name, value in form.initial.items()}
    page = _page(client, channel="chat", what_if=1, **{**asked, "within_seconds": 20})
    plan = page.context["plan"]
    # 80% within 20 s: 13 agents give 79.6%, 14 give 88.8% (the worked example): 20 to schedule.
    assert (plan.on_floor[9], plan.scheduled[9], round(plan.service_level[9], 4)) == (14, 20, 0.8884)
    with tenant_context(fortnight):
        assert not StaffingChannel.objects.exists()
    refused = _page(client, channel="chat", what_if=1, **{**asked, "target_percent": 150, "concurrency": 0})
    assert refused.status_code == 400
    assert refused.context["form"].errors == {"target_percent": ["Ensure this value is less than or equal to 100."],
                                              "concurrency": ["Ensure this value is greater than or equal to 1."]}
    assert refused.context["plan"].scheduled[9] == 19  # the rules in force, unchanged


def test_a_team_lead_saves_a_channels_rules_and_resets_them(fortnight, make_member):
    lead = host_client(fortnight, fortnight.lead)
    asked = {name: "" if value is None else value for name, value in _page(lead, channel="chat").context["form"].initial.items()}
    saved = lead.post("/kpis/staffing/rules/", {**asked, "channel": "chat", "within_seconds": 20, "concurrency": 2,
                                                "weeks": 2})
    assert saved.status_code == 302 and saved["Location"] == "/kpis/staffing/?channel=chat&weeks=2"
    with tenant_context(fortnight):
        row = StaffingChannel.objects.get()
        assert (row.channel, row.mode, row.within_seconds, row.concurrency, row.target_percent) == ("chat", "queue", 20, 2, 80.0)
    page = _page(lead, channel="chat")
    # 14 chat slots at 2 chats per agent: 7 agents on the floor, ⌈7 / 0.7⌉ = 10 to schedule.
    assert (page.context["plan"].on_floor[9], page.context["plan"].scheduled[9], page.context["saved"]) == (7, 10, True)
    assert "Erlang C: 80% within 20 s, 2 at once" in page.content.decode()
    bad = lead.post("/kpis/staffing/rules/", {**asked, "channel": "chat", "shrinkage_percent": 100})
    assert bad.status_code == 302
    followed = lead.get(bad["Location"]).content.decode()
    assert "Not saved: Shrinkage (%): Ensure this value is less than or equal to 95." in followed
    with tenant_context(fortnight):
        assert StaffingChannel.objects.get().shrinkage_percent == 30.0
    lead.post("/kpis/staffing/rules/", {"channel": "chat", "reset": "1"})
    with tenant_context(fortnight):
        assert not StaffingChannel.objects.exists()
    # Agents and viewers save nothing.
    for role in (Role.AGENT, Role.VIEWER):
        assert host_client(fortnight, make_member(role)).post(
            "/kpis/staffing/rules/", {**asked, "channel": "chat"}).status_code == 403


def test_a_forecast_week_plans_its_own_arrivals(fortnight, make_member):
    client = host_client(fortnight, make_member(Role.VIEWER))
    page = _page(client, week="2026-03-23")
    assert page.status_code == 200
    chat = page.context["plan"]
    # Two identical Mondays: the forecast Monday 09:00 is 200 again, the rest of the week 0.
    assert round(chat.arrivals[9], 6) == 200.0 and round(sum(chat.arrivals), 6) == 200.0
    assert (chat.on_floor[9], chat.scheduled[9]) == (13, 19)
    html = page.content.decode()
    assert "chat: agents to schedule, the week of 23 Mar 2026" in html
    assert '<option value="2026-03-23" selected>The week of 23 Mar 2026: forecast</option>' in html
    assert '<option value="2026-03-16">The week of 16 Mar 2026 (under way): forecast</option>' in html
    refused = _page(client, week="2026-03-24")
    assert refused.status_code == 400
    assert "Plan for: Select a valid choice. 2026-03-24 is not one of the available choices." in refused.content.decode()


def test_bad_weeks_and_an_empty_workspace(workspace, make_member, monkeypatch):
    monkeypatch.setattr("kpis.periods.local_today", lambda tz: TODAY)
    client = host_client(workspace, make_member(Role.VIEWER))
    page = _page(client, weeks=0)
    assert page.status_code == 400
    html = page.content.decode()
    assert "Weeks of history: Ensure this value is greater than or equal to 1." in html and "Showing 8 weeks, a typical week." in html
    assert "No conversations yet" in _page(client).content.decode()
