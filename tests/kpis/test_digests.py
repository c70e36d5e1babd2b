"""Digest emails (issue #12): the period and send-time maths across time zones, what a
digest says (values by hand), the pages (who may change what), unsubscribing (a GET never
writes), the due check and the claim that makes each digest go once.

The digest data: week 49 of 2026 (Mon Nov 30 – Sun Dec 6) against week 48 (Nov 23–29),
workspace time zone Europe/Paris."""
import base64
import re
import smtplib
import statistics
import time
from datetime import date, datetime, timedelta, timezone as dt_timezone
from email import message_from_bytes, policy
from zoneinfo import ZoneInfo

import pytest
from django.core.mail.backends.base import BaseEmailBackend
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django_tenants.utils import tenant_context

from kpis.digest_charts import digest_chart_png
from kpis.digests import digest_due_period, digest_last_period, digest_next_send_at, digest_send_at
from kpis.models import Alert, AlertRule, DigestDelivery, DigestSettings, DigestSubscription, KpiSettings
from kpis.periods import Period
from kpis.registry import KPIS
from kpis.selectors.digests import digest_build
from kpis.services.compute import kpis_compute
from kpis.services.digests import UNCERTAIN, digest_send, digest_subscription_update, digests_send_due
from surveys.models import OutboxEmail
from tenants.accounts.models import Role
from tests.helpers import host_client
from tests.kpis.helpers import csat_answers, social_mention
from tests.surveys.factories import ResponseFactory, survey_make

PARIS, UTC = ZoneInfo("Europe/Paris"), dt_timezone.utc
WEEK_49 = Period("week", date(2026, 11, 30), date(2026, 12, 7))
# Monday Dec 7, 08:00 in Paris (CET, UTC+1): week 49's send time.
SEND_49 = datetime(2026, 12, 7, 7, 0, tzinfo=UTC)


def utc(*args) -> datetime:
    return datetime(*args, tzinfo=UTC)


# --- periods and send times -----------------------------------------------------------------

def test_a_weekly_digest_covers_the_last_complete_week_and_goes_on_monday_at_8_local():
    # Sunday Dec 6, 23:30 in Paris (22:30 UTC): week 49 is still under way, week 48 is the
    # last complete one, and its send time (Monday Nov 30, 08:00) has passed.
    assert digest_last_period("weekly", utc(2026, 12, 6, 22, 30), "Europe/Paris") == Period(
        "week", date(2026, 11, 23), date(2026, 11, 30))
    # Monday 00:30 in Paris (Sunday 23:30 UTC): week 49 has ended, but is not due before 08:00.
    assert digest_last_period("weekly", utc(2026, 12, 6, 23, 30), "Europe/Paris") == WEEK_49
    assert digest_due_period("weekly", utc(2026, 12, 6, 23, 30), "Europe/Paris") is None
    assert digest_send_at(WEEK_49, "Europe/Paris") == SEND_49
    assert digest_due_period("weekly", SEND_49 - timedelta(seconds=1), "Europe/Paris") is None
    assert digest_due_period("weekly", SEND_49, "Europe/Paris") == WEEK_49
    # The same instant in Tokyo (UTC+9) is Monday 16:00: due since 23:00 UTC on Sunday.
    assert digest_send_at(WEEK_49, "Asia/Tokyo") == utc(2026, 12, 6, 23, 0)
    assert digest_due_period("weekly", utc(2026, 12, 6, 23, 30), "Asia/Tokyo") == WEEK_49
    # In Los Angeles (UTC−8) Monday 08:00 is 16:00 UTC.
    assert digest_due_period("weekly", utc(2026, 12, 7, 15, 59), "America/Los_Angeles") is None
    assert digest_due_period("weekly", utc(2026, 12, 7, 16, 0), "America/Los_Angeles") == WEEK_49


def test_a_dst_week_is_seven_local_days_and_08_00_stays_08_00():
    # Europe leaves summer time on Sunday Oct 25, 2026 (03:00 CEST → 02:00 CET): that week,
    # Mon Oct 19 – Sun Oct 25, lasts 169 hours. Its digest goes on Monday Oct 26 at 08:00
    # CET = 07:00 UTC; the week before's went at 08:00 CEST = 06:00 UTC.
    dst_week = Period("week", date(2026, 10, 19), date(2026, 10, 26))
    assert digest_send_at(dst_week, "Europe/Paris") == utc(2026, 10, 26, 7, 0)
    assert digest_send_at(dst_week.previous(), "Europe/Paris") == utc(2026, 10, 19, 6, 0)
    assert digest_due_period("weekly", utc(2026, 10, 26, 6, 30), "Europe/Paris") is None  # 07:30 CET
    assert digest_due_period("weekly", utc(2026, 10, 26, 7, 0), "Europe/Paris") == dst_week
    # New York changes a week later (Nov 1): 08:00 EST on Monday Nov 2 is 13:00 UTC.
    assert digest_send_at(Period("week", date(2026, 10, 26), date(2026, 11, 2)), "America/New_York") == utc(2026, 11, 2, 13)


def test_daily_and_monthly_digests():
    # Monday Dec 7, 09:00 in Paris: yesterday (Sunday Dec 6) is due; November is not (the 1st passed).
    now = utc(2026, 12, 7, 8, 0)
    assert digest_due_period("daily", now, "Europe/Paris") == Period("day", date(2026, 12, 6), date(2026, 12, 7))
    assert digest_due_period("monthly", now, "Europe/Paris") == Period("month", date(2026, 11, 1), date(2026, 12, 1))
    assert digest_send_at(Period("month", date(2026, 11, 1), date(2026, 12, 1)), "Europe/Paris") == utc(2026, 12, 1, 7)
    # Dec 1 at 07:59 Paris: October was the last month due (November waits for 08:00).
    assert digest_due_period("monthly", utc(2026, 12, 1, 6, 59), "Europe/Paris") is None
    # The member's page: the next send after now.
    assert digest_next_send_at("weekly", now, "Europe/Paris") == utc(2026, 12, 14, 7)
    assert digest_next_send_at("weekly", utc(2026, 12, 7, 6, 0), "Europe/Paris") == SEND_49
    assert digest_next_send_at("daily", now, "Europe/Paris") == utc(2026, 12, 8, 7)
    assert digest_next_send_at("monthly", now, "Europe/Paris") == utc(2027, 1, 1, 7)


# --- content -------------------------------------------------------------------------------

@pytest.fixture
def digest_data(workspace, load):
    """Week 49: CSAT 8 of 10 positive (80%), 9 own-brand mentions. Week 48: CSAT 4 of 10
    (40%), 6 mentions. CSAT target 75; minimum sample 10."""
    load("survey_responses", csat_answers("w49-", "2026-12-02", 8, 2) + csat_answers("w48-", "2026-11-25", 4, 6))
    load("social_mentions", [social_mention(f"m49-{i}", "2026-12-03T12:00") for i in range(9)]
         + [social_mention(f"m48-{i}", "2026-11-24T12:00") for i in range(6)])
    with tenant_context(workspace):
        KpiSettings.objects.update_or_create(pk=1, defaults={"min_sample_size": 10, "targets": {"csat": {"target": 75}}})
        kpis_compute(since=date(2026, 9, 1), until=date(2026, 12, 7))
        rule = AlertRule.objects.create(kpi="csat", kind="threshold", low=50.0)
        for day, fired_at in ((date(2026, 12, 1), datetime(2026, 12, 6, 23, 30, tzinfo=PARIS)),  # in week 49
                              (date(2026, 12, 2), datetime(2026, 12, 7, 0, 30, tzinfo=PARIS)),  # Monday: week 50
                              (date(2026, 11, 29), datetime(2026, 11, 29, 23, 59, tzinfo=PARIS))):  # week 48
            Alert.objects.create(rule=rule, period_start=day, value=40.0, message=f"CSAT {day} is 40 %.", fired_at=fired_at)
        survey = survey_make("nps", name="Q4 NPS")
        for i, score in enumerate((2, 5)):
            ResponseFactory(survey=survey, score=score, score_kind="nps", followup="open", comment=f"bad {i}",
                            responded_at=datetime(2026, 12, 1 + i, 10, tzinfo=PARIS))
        ResponseFactory(survey=survey, score=3, score_kind="nps", followup="done")
        ResponseFactory(survey=survey, score=1, score_kind="nps", followup="open", review="pending")  # held: not counted
    connection.set_schema_to_public()
    return workspace


def test_a_digest_says_what_the_dashboard_says_values_by_hand(digest_data):
    with tenant_context(digest_data):
        digest = digest_build(frequency="weekly", period=WEEK_49, keys=["csat", "social_mention_volume", "nps"])
    assert (digest.title, digest.comparison) == ("Week 49, 2026", "Week 49, 2026 vs Week 48, 2026")
    csat, mentions, nps = digest.cards
    # CSAT 80% vs 40%: +40 points. Wilson SEs (n = 10): 11.560 at 80%, 13.244 at 40%;
    # z = 40 / √(11.560² + 13.244²) = 2.275, p = 0.023 < 0.05: significant. 80 ≥ 75: on target.
    assert (csat["value"], csat["previous"], csat["change"], csat["change_significant"], csat["better"]) == (
        80.0, 40.0, 40.0, True, True)
    assert (csat["status"], csat["target"], csat["small_sample"], csat["n"]) == ("on_target", 75, False, 10)
    # 9 mentions vs 6: +3, a count has no sampling error to judge by.
    assert (mentions["value"], mentions["previous"], mentions["change"], mentions["change_significant"]) == (9, 6, 3, None)
    assert nps["value"] is None and nps["change"] is None
    # The 12 weeks up to week 49, oldest first: weeks 38 to 47 had no answers.
    assert [value for _, value in csat["trend"]] == [None] * 10 + [40.0, 80.0]
    assert csat["trend"][0][0] == "2026-09-14"  # Monday of week 38: Nov 30 − 11 weeks
    # Alerts fired between Monday 00:00 and Sunday 24:00 in Paris: the one at 23:30 on Sunday.
    assert (digest.alerts_total, [a.message for a in digest.alerts]) == (1, ["CSAT 2026-12-01 is 40 %."])
    # Open follow-ups, oldest first; the one done and the held answer are not.
    assert digest.followups_total == 2
    assert [(f["score"], f["survey"], f["comment"]) for f in digest.followups] == [(2, "Q4 NPS", "bad 0"), (5, "Q4 NPS", "bad 1")]


def test_building_a_digest_takes_the_same_few_queries_for_2_or_12_kpis(digest_data, django_assert_max_num_queries):
    keys = list(KPIS)[:12]
    with tenant_context(digest_data):
        DigestSettings.load()  # the schema's search path is set by the first query: not the digest's
        with CaptureQueriesContext(connection) as two:
            digest_build(frequency="weekly", period=WEEK_49, keys=["csat", "nps"])
        with django_assert_max_num_queries(6), CaptureQueriesContext(connection) as twelve:
            built = digest_build(frequency="weekly", period=WEEK_49, keys=keys)
    # The KPI settings, every KPI's snapshots of 13 weeks, the alerts' count and rows, the
    # follow-ups (their total by a window): 5.
    assert len(two) == len(twelve) == 5
    assert len(built.cards) == 12


def test_charts_are_small_pngs_drawn_fast():
    values = [12.0, 14.5, None, 13.0, 15.5, 17.0, 16.0, 18.5, 19.0, 18.0, 21.0, 22.5]
    digest_chart_png(values)  # matplotlib's first figure loads its fonts
    timings = []
    for _ in range(15):
        started = time.perf_counter()
        png = digest_chart_png(values)
        timings.append((time.perf_counter() - started) * 1000)
    median = statistics.median(timings)
    print(f"digest chart: median {median:.1f} ms, {len(png)} bytes")
    assert png.startswith(b"\x89PNG\r\n\x1a\n") and len(png) < 20_000
    assert median < 100
    assert digest_chart_png([None] * 12).startswith(b"\x89PNG")  # no data: an empty chart, no error


# --- subscriptions, the due check and sending ------------------------------------------------

@pytest.fixture
def delivered(settings):
    """Digest mail kept in the Outbox and delivered (to django.core.mail.outbox)."""
    settings.EMAIL_BACKEND = "surveys.mail.OutboxBackend"
    settings.EMAIL_DELIVERY_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    settings.EMAIL_OUTBOX = True


def _subscribe(workspace, user, frequency="weekly", since=SEND_49 - timedelta(days=3)):
    with tenant_context(workspace):
        return digest_subscription_update(user=user, active=True, frequency=frequency, now=since)


def test_due_digests_are_created_once_and_sent_once(digest_data, make_member, delivered, mailoutbox, settings):
    settings.DIGEST_REQUEUE_SECONDS = 600
    ann, bob, cid = make_member(Role.VIEWER, email="ann@acme.test"), make_member(Role.AGENT), make_member(Role.AGENT)
    _subscribe(digest_data, ann)
    _subscribe(digest_data, bob, since=SEND_49 + timedelta(minutes=1))  # opted in after the send time: next week
    _subscribe(digest_data, cid, frequency="daily")
    off = make_member(Role.AGENT)
    _subscribe(digest_data, off)
    with tenant_context(digest_data):
        digest_subscription_update(user=off, active=False, frequency="weekly")
        DigestSettings.objects.create(pk=1, kpis=["csat", "social_mention_volume"])
        # 07:59 in Paris: neither week 49 nor Sunday Dec 6 is due yet.
        assert digests_send_due(now=SEND_49 - timedelta(minutes=1)) == []
    with tenant_context(digest_data):
        queued = digests_send_due(now=SEND_49 + timedelta(minutes=5))
        deliveries = {d.subscription.user.email: d for d in DigestDelivery.objects.select_related("subscription__user")}
        assert set(deliveries) == {"ann@acme.test", cid.email}
        assert sorted(queued) == sorted(d.pk for d in deliveries.values())
        assert (deliveries["ann@acme.test"].frequency, deliveries["ann@acme.test"].period_start) == ("weekly", WEEK_49.start)
        assert (deliveries[cid.email].frequency, deliveries[cid.email].period_start) == ("daily", date(2026, 12, 6))
        # A second run in the same quarter-hour finds nothing new.
        assert digests_send_due(now=SEND_49 + timedelta(minutes=14)) == []
        assert digest_send(delivery_id=deliveries["ann@acme.test"].pk) is True
        assert digest_send(delivery_id=deliveries["ann@acme.test"].pk) is False  # claimed: never twice
        ann_delivery = DigestDelivery.objects.get(pk=deliveries["ann@acme.test"].pk)
        assert (ann_delivery.status, ann_delivery.error) == ("sent", "")
        kept = OutboxEmail.objects.get(category="digest")
    [email] = [m for m in mailoutbox if "ann@acme.test" in m.to[0]]
    raw = message_from_bytes(email.message().as_bytes(), policy=policy.default)
    assert raw["Subject"] == "[Acme] Weekly digest, Week 49, 2026"
    with tenant_context(digest_data):
        token = DigestSubscription.objects.get(user=ann).token
    # (Folded onto its own line by the generator: a long header; clients unfold it.)
    assert raw["List-Unsubscribe"].strip() == f"<{digest_data.url}/digest/unsubscribe/{token}/>"
    assert raw["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    images = [part for part in raw.walk() if part.get_content_type() == "image/png"]
    assert sorted(part["Content-ID"] for part in images) == [
        "<chart-csat-20261130@pulse.digest>", "<chart-social_mention_volume-20261130@pulse.digest>"]
    html = raw.get_body(preferencelist=("html",)).get_content()
    assert 'src="cid:chart-csat-20261130@pulse.digest"' in html and "http" not in html.split("<img")[1].split(">")[0]
    text = raw.get_body(preferencelist=("plain",)).get_content()
    assert "Customer satisfaction (CSAT): 80.0% (+40.0 pts vs 40.0%, better, significant change)\n" \
           "  on target (target 75.0%)\n" in text
    assert "Mention volume: 9 (+3 vs 6, better)\n" in text
    assert "ALERTS FIRED THIS WEEK: 1" in text and "OPEN FOLLOW-UPS: 2" in text
    # The Outbox copy keeps the charts, and its page shows them as data: URIs.
    assert set(kept.inline_images) == {"chart-csat-20261130@pulse.digest", "chart-social_mention_volume-20261130@pulse.digest"}
    page = host_client(digest_data, digest_data.lead).get(f"/outbox/{kept.pk}/html").content.decode()
    assert "cid:" not in page and page.count('src="data:image/png;base64,') == 2
    png = base64.b64decode(kept.inline_images["chart-csat-20261130@pulse.digest"]["data"])
    assert png.startswith(b"\x89PNG")


def test_a_delivery_left_sending_by_a_dead_worker_is_never_resent(digest_data, make_member, outbox_only, mailoutbox):
    ann = make_member(Role.VIEWER)
    _subscribe(digest_data, ann)
    with tenant_context(digest_data):
        [delivery_id] = digests_send_due(now=SEND_49)
        # A worker claimed it and died before marking it sent.
        DigestDelivery.objects.filter(pk=delivery_id).update(status="sending", claimed_at=SEND_49)
        assert digest_send(delivery_id=delivery_id) is False
        # The next due checks queue nothing for it; after 30 minutes it is failed, uncertain.
        assert digests_send_due(now=SEND_49 + timedelta(minutes=15)) == []
        assert DigestDelivery.objects.get(pk=delivery_id).status == "sending"
        assert digests_send_due(now=SEND_49 + timedelta(minutes=45)) == []
        delivery = DigestDelivery.objects.get(pk=delivery_id)
        assert (delivery.status, delivery.error) == ("failed", UNCERTAIN)
    assert mailoutbox == []


def test_a_pending_delivery_whose_message_was_lost_is_queued_again(digest_data, make_member, settings):
    settings.DIGEST_REQUEUE_SECONDS = 600  # production's 10 minutes (tests: 1 s)
    _subscribe(digest_data, make_member(Role.VIEWER))
    with tenant_context(digest_data):
        [delivery_id] = digests_send_due(now=SEND_49)
        assert digests_send_due(now=SEND_49 + timedelta(minutes=5)) == []
        assert digests_send_due(now=SEND_49 + timedelta(minutes=15)) == [delivery_id]


def test_a_member_who_unsubscribed_after_the_due_check_gets_nothing(digest_data, make_member, outbox_only, mailoutbox):
    ann = make_member(Role.VIEWER)
    _subscribe(digest_data, ann)
    with tenant_context(digest_data):
        [delivery_id] = digests_send_due(now=SEND_49)
        digest_subscription_update(user=ann, active=False)
        assert digest_send(delivery_id=delivery_id) is False
        assert DigestDelivery.objects.get(pk=delivery_id).status == "failed"
    assert mailoutbox == []


# --- pages ---------------------------------------------------------------------------------

@pytest.mark.parametrize("role", [Role.VIEWER, Role.AGENT])
def test_every_member_opts_in_and_out_on_their_own_page(workspace, make_member, role):
    member = make_member(role)
    client = host_client(workspace, member)
    page = client.get("/account/digest/")
    assert page.status_code == 200
    body = page.content.decode()
    assert "Europe/Paris" in body and "You get no digest" in body
    with tenant_context(workspace):
        assert not DigestSubscription.objects.exists()  # the GET wrote nothing
    response = client.post("/account/digest/", {"active": "on", "frequency": "monthly"}, follow=True)
    body = response.content.decode()
    assert "You will get the monthly digest by email." in body and "Next digest:" in body and "08:00" in body
    with tenant_context(workspace):
        subscription = DigestSubscription.objects.get(user=member)
        assert (subscription.active, subscription.frequency) == (True, "monthly")
    client.post("/account/digest/", {"frequency": "monthly"})
    with tenant_context(workspace):
        assert DigestSubscription.objects.get(user=member).active is False
    assert client.post("/account/digest/", {"active": "on", "frequency": "hourly"}).status_code == 400


def test_only_a_team_lead_chooses_the_cards(workspace, lead, make_member):
    for role in (Role.VIEWER, Role.AGENT):
        client = host_client(workspace, make_member(role))
        assert client.get("/settings/kpis/digest/").status_code == 403
        assert client.post("/settings/kpis/digest/", {"kpis": ["nps"]}).status_code == 403
        assert client.post("/settings/kpis/digest/preview/").status_code == 403
    with tenant_context(workspace):
        assert not DigestSettings.objects.exists()
    page = lead.get("/settings/kpis/digest/").content.decode()
    # The default cards are ticked and numbered in their order until a lead chooses.
    assert re.search(r'name="kpis" value="csat" id="id_kpis_\d+" checked', page)
    assert not re.search(r'name="kpis" value="dau" id="id_kpis_\d+" checked', page)
    assert 'name="position_csat" value="2"' in page
    response = lead.post("/settings/kpis/digest/", {"kpis": ["csat", "nps", "dau"], "position_nps": "1", "position_dau": "2"},
                         follow=True)
    assert "Digest saved: Net Promoter Score, Daily active users, Customer satisfaction (CSAT)." in response.content.decode()
    with tenant_context(workspace):
        assert DigestSettings.load().kpis == ["nps", "dau", "csat"]
    bad = lead.post("/settings/kpis/digest/", {"kpis": []})
    assert bad.status_code == 400 and "Choose at least one KPI" in bad.content.decode()
    assert lead.post("/settings/kpis/digest/", {"kpis": ["nope"]}).status_code == 400
    with tenant_context(workspace):
        assert DigestSettings.load().kpis == ["nps", "dau", "csat"]


def test_the_lead_page_lists_subscribers_and_sends_a_preview(digest_data, make_member, outbox_only, eager_tasks):
    ann = make_member(Role.VIEWER, email="ann@acme.test", full_name="Ann Viewer")
    _subscribe(digest_data, ann)
    lead = host_client(digest_data, digest_data.lead)
    page = lead.get("/settings/kpis/digest/").content.decode()
    assert "Subscribed (1)" in page and "Ann Viewer" in page and "ann@acme.test" in page
    with eager_tasks(execute=True):
        response = lead.post("/settings/kpis/digest/preview/", {"frequency": "weekly"}, follow=True)
    assert "Preview on its way to lead@acme.test" in response.content.decode()
    with tenant_context(digest_data):
        kept = OutboxEmail.objects.get(category="digest")
    assert kept.to == "Lee Lead <lead@acme.test>" and kept.subject.startswith("[Acme] Preview: Weekly digest, Week")
    assert "List-Unsubscribe" not in kept.headers  # the lead is not subscribed: nothing to unsubscribe from
    # One chart per card with data in its 12 weeks, each referenced by the HTML.
    assert kept.inline_images and all(f'src="cid:{cid}"' in kept.html for cid in kept.inline_images)


# --- unsubscribing -------------------------------------------------------------------------

@pytest.fixture
def subscribed(workspace, make_member):
    member = make_member(Role.AGENT, email="sub@acme.test")
    return _subscribe(workspace, member)


def _active(workspace, subscription) -> bool:
    with tenant_context(workspace):
        return DigestSubscription.objects.get(pk=subscription.pk).active


def test_the_unsubscribe_link_asks_first_a_get_changes_nothing(workspace, subscribed):
    client = Client(HTTP_HOST=workspace.domain_name)  # no session: the email's link
    url = f"/digest/unsubscribe/{subscribed.token}/"
    with tenant_context(workspace):
        before = DigestSubscription.objects.get(pk=subscribed.pk).updated_at
    for method in (client.get, client.head):
        assert method(url).status_code == 200
    page = client.get(url).content.decode()
    assert "Stop the digest email?" in page and "sub@acme.test" in page and '<form method="post">' in page
    with tenant_context(workspace):
        row = DigestSubscription.objects.get(pk=subscribed.pk)
        assert (row.active, row.updated_at) == (True, before)
    done = client.post(url)
    assert done.status_code == 200 and "You are unsubscribed" in done.content.decode()
    assert _active(workspace, subscribed) is False
    assert "You are unsubscribed" in client.get(url).content.decode()


def test_one_click_unsubscribe_needs_no_session_nor_csrf_token(workspace, subscribed):
    client = Client(HTTP_HOST=workspace.domain_name, enforce_csrf_checks=True)
    response = client.post(f"/digest/unsubscribe/{subscribed.token}/", {"List-Unsubscribe": "One-Click"})
    assert (response.status_code, response.content) == (200, b"Unsubscribed.\n")
    assert _active(workspace, subscribed) is False


def test_a_bad_token_changes_nothing_and_says_so(workspace, subscribed):
    client = Client(HTTP_HOST=workspace.domain_name, enforce_csrf_checks=True)
    for token in ("nope", subscribed.token[:-1], "x" * 200):
        for method in (client.get, client.post):
            response = method(f"/digest/unsubscribe/{token}/")
            assert response.status_code == 404
            assert "This unsubscribe link is not recognised" in response.content.decode()
    assert _active(workspace, subscribed) is True


def test_a_token_of_one_workspace_does_nothing_in_another(workspace, other_workspace, subscribed):
    response = Client(HTTP_HOST=other_workspace.domain_name).post(f"/digest/unsubscribe/{subscribed.token}/")
    assert response.status_code == 404
    assert _active(workspace, subscribed) is True


def test_the_send_time_of_the_due_period_uses_the_workspace_zone(digest_data, make_member):
    digest_data.time_zone = "Asia/Tokyo"  # this object only: the due check reads connection.tenant
    _subscribe(digest_data, make_member(Role.VIEWER), since=utc(2026, 12, 1))
    with tenant_context(digest_data):
        # Sunday 23:30 UTC is Monday 08:30 in Tokyo: week 49 is due there already.
        [delivery_id] = digests_send_due(now=utc(2026, 12, 6, 23, 30))
        assert DigestDelivery.objects.get(pk=delivery_id).period_start == WEEK_49.start
        # In Paris it is Monday 00:30: nothing due.
        digest_data.time_zone = "Europe/Paris"
        DigestDelivery.objects.all().delete()
        assert digests_send_due(now=utc(2026, 12, 6, 23, 30)) == []


# --- mail server failures ------------------------------------------------------------------

class _FailingBackend(BaseEmailBackend):
    """A mail server that fails as ``failure`` says: raised by ``open`` (unreachable) or
    by ``send_messages`` (a refusal, or a connection that breaks mid-send)."""

    failure: tuple[str, Exception] | None = None

    def open(self):
        if self.failure and self.failure[0] == "open":
            raise self.failure[1]

    def send_messages(self, messages):
        if self.failure and self.failure[0] == "send":
            raise self.failure[1]
        return len(messages)


@pytest.mark.parametrize("failure, status, attempts, error, retried", [
    (("open", ConnectionRefusedError(111, "Connection refused")), "pending", 1, "ConnectionRefusedError", True),
    (("send", smtplib.SMTPRecipientsRefused({"a@x.test": (450, b"mailbox busy")})), "pending", 1, "SMTPRecipientsRefused", True),
    (("send", smtplib.SMTPRecipientsRefused({"a@x.test": (550, b"no such user")})), "failed", 0, "Refused by the mail server", False),
    (("send", smtplib.SMTPServerDisconnected("Connection unexpectedly closed")), "failed", 0, UNCERTAIN, False),
])
def test_mail_server_failures(digest_data, make_member, settings, monkeypatch, failure, status, attempts, error, retried):
    settings.EMAIL_BACKEND = f"{__name__}._FailingBackend"
    monkeypatch.setattr(_FailingBackend, "failure", failure)
    _subscribe(digest_data, make_member(Role.VIEWER))
    with tenant_context(digest_data):
        [delivery_id] = digests_send_due(now=SEND_49)
        if retried:
            # Nothing reached anyone: back to pending, and the task's retry (autoretry_for OSError).
            with pytest.raises(OSError):
                digest_send(delivery_id=delivery_id)
        else:
            assert digest_send(delivery_id=delivery_id) is False
        delivery = DigestDelivery.objects.get(pk=delivery_id)
    assert (delivery.status, delivery.attempts) == (status, attempts)
    assert delivery.error.startswith(error)
