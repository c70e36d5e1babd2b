"""Alert rules (issue #12, step 1): the judgement of one value (pure), and the evaluation
over snapshots — per segment value, idempotent, cleared and fired again, never on a small
sample or a muted rule. Values worked by hand."""
from datetime import date, timedelta

import pytest
from django.utils import timezone
from django_tenants.utils import tenant_context

from kpis.alerting import anomaly_band, rule_judge
from kpis.models import Alert, AlertRule, KpiSnapshot
from kpis.services.alerts import alert_rule_create, alert_rule_mute, alerts_evaluate

KPI = "conversation_abandonment_rate"
TODAY = date(2026, 3, 30)  # the latest finished day is 29 March
FINISHED = date(2026, 3, 29)


def set_rules():
    """The rules the tests set: every workspace also starts with the social spike rule."""
    return AlertRule.objects.exclude(kpi="social_mention_volume")


def test_anomaly_band_is_mean_plus_minus_k_sample_deviations():
    # 28 values alternating 10 and 12: mean 11, sample sd sqrt(28/27) = 1.018350, so the band
    # is 11 ± 3.055050: 7.944950 to 14.055050.
    low, high = anomaly_band([10.0, 12.0] * 14, 3.0)
    assert (round(low, 6), round(high, 6)) == (7.94495, 14.05505)
    assert anomaly_band([10.0, 12.0, 11.0], 3.0) is None  # fewer than 4 periods: no usual range


def test_rule_judgements():
    assert rule_judge(kind="threshold", value=16, high=15).broken
    assert not rule_judge(kind="threshold", value=15, high=15).broken
    assert rule_judge(kind="threshold", value=4, low=5).broken
    assert rule_judge(kind="off_target", value=1, status="off_target").broken
    assert not rule_judge(kind="off_target", value=1, status=None).broken
    judged = rule_judge(kind="anomaly", value=20, history=[10, 12] * 14, k=3)
    assert judged.broken and round(judged.expected_high, 3) == 14.055
    assert not rule_judge(kind="anomaly", value=20, history=[10, 12], k=3).broken


def test_an_anomaly_rule_judges_one_side_and_waits_for_its_history():
    usual = [10.0, 12.0] * 14  # band 7.944950 to 14.055050, as above
    above = rule_judge(kind="anomaly", value=20, history=usual, k=3, direction="above")
    assert above.broken and above.expected_low is None and round(above.expected_high, 3) == 14.055
    assert not rule_judge(kind="anomaly", value=5, history=usual, k=3, direction="above").broken
    below = rule_judge(kind="anomaly", value=5, history=usual, k=3, direction="below")
    assert below.broken and round(below.expected_low, 3) == 7.945 and below.expected_high is None
    assert not rule_judge(kind="anomaly", value=20, history=usual, k=3, direction="below").broken
    # 27 periods are not the 28 this rule waits for; 28 are.
    assert not rule_judge(kind="anomaly", value=20, history=usual[:27], k=3, min_history=28).broken
    assert rule_judge(kind="anomaly", value=20, history=usual, k=3, min_history=28).broken


def _snapshot(day, value, segment_kind="", segment="", n=100.0):
    KpiSnapshot.objects.update_or_create(
        kpi=KPI, period_kind="day", period_start=day, segment_kind=segment_kind, segment=segment,
        defaults={"value": value, "numerator": value * n / 100, "denominator": n, "computed_at": timezone.now()})


@pytest.fixture
def history(workspace):
    with tenant_context(workspace):
        for offset in range(1, 29):  # 1–28 March
            day = FINISHED - timedelta(days=29 - offset)
            for channel in ("email", "chat", "phone"):
                _snapshot(day, 10.0 if offset % 2 else 12.0, "channel", channel)
        _snapshot(FINISHED, 20.0, "channel", "email")
        _snapshot(FINISHED, 11.0, "channel", "chat")
        _snapshot(FINISHED, 30.0, "channel", "phone", n=10)  # 10 conversations < min 30: too few
        _snapshot(FINISHED, 16.0)
        _snapshot(TODAY, 90.0)  # the day under way is never judged
        yield workspace


def test_an_anomaly_rule_fires_once_per_segment_clears_and_fires_again(history):
    with tenant_context(history):
        rule = alert_rule_create(kpi=KPI, kind="anomaly", segment_kind="channel", k=3, history=28)
        first = alerts_evaluate(today=TODAY)
        alert = Alert.objects.get()
        assert first == {"fired": [alert.pk], "cleared": []}
        assert (alert.rule_id, alert.period_start, alert.segment, alert.value, alert.times) == (rule.pk, FINISHED, "email", 20.0, 1)
        assert (round(alert.expected_low, 3), round(alert.expected_high, 3)) == (7.945, 14.055)
        assert alert.message == ("Conversation abandonment (channel email) is 20 %, outside its usual range "
                                 "(≥ 7.945 and ≤ 14.06).")
        assert alerts_evaluate(today=TODAY) == {"fired": [], "cleared": []}  # idempotent
        _snapshot(FINISHED, 11.0, "channel", "email")
        assert alerts_evaluate(today=TODAY) == {"fired": [], "cleared": [alert.pk]}
        _snapshot(FINISHED, 21.0, "channel", "email")
        assert alerts_evaluate(today=TODAY) == {"fired": [alert.pk], "cleared": []}
        alert.refresh_from_db()
        assert (Alert.objects.count(), alert.times, alert.value, alert.cleared_at) == (1, 2, 21.0, None)


def test_a_threshold_rule_on_the_workspace_and_a_muted_rule(history):
    with tenant_context(history):
        rule = alert_rule_create(kpi=KPI, kind="threshold", high=15.0)
        muted = alert_rule_mute(rule=alert_rule_create(kpi=KPI, kind="threshold", high=1.0), muted=True)
        result = alerts_evaluate(today=TODAY)
        alert = Alert.objects.get()
        assert result == {"fired": [alert.pk], "cleared": []} and alert.rule_id == rule.pk
        assert alert.message == "Conversation abandonment is 16 %, outside its bound (≤ 15)."
        assert not Alert.objects.filter(rule=muted).exists()
        AlertRule.objects.filter(pk=rule.pk).update(high=20.0)
        assert alerts_evaluate(today=TODAY) == {"fired": [], "cleared": [alert.pk]}


def test_a_team_lead_sets_a_rule_on_the_page_and_sees_the_alert(history, lead, make_member):
    from tenants.accounts.models import Role
    from tests.helpers import host_client

    response = lead.post("/alerts/", {"kpi": KPI, "kind": "anomaly", "period_kind": "day", "segment_kind": "channel",
                                      "k": "3", "history": "28"})
    assert response.status_code == 302
    with tenant_context(history):
        rule = set_rules().get()
        assert (rule.kind, rule.segment_kind, rule.k, rule.history) == ("anomaly", "channel", 3.0, 28)
        alerts_evaluate(today=TODAY)
        alert = Alert.objects.get()
    page = lead.get("/alerts/").content.decode()
    assert "Conversation abandonment (channel email) is 20 %, outside its usual range" in page and "Firing" in page
    assert lead.post(f"/alerts/{alert.pk}/acknowledge/").status_code == 302
    with tenant_context(history):
        alert.refresh_from_db()
        assert alert.acknowledged_by_id == history.lead.pk
    # An agent reads the alerts but sets nothing.
    agent = host_client(history, make_member(Role.AGENT))
    assert "Conversation abandonment (channel email)" in agent.get("/alerts/").content.decode()
    assert agent.post("/alerts/", {"kpi": KPI, "kind": "off_target", "period_kind": "day"}).status_code == 403
    assert agent.post(f"/alerts/rules/{rule.pk}/mute/", {"muted": "1"}).status_code == 403
    assert lead.post(f"/alerts/rules/{rule.pk}/mute/", {"muted": "1"}).status_code == 302
    with tenant_context(history):
        assert set_rules().get().muted is True


@pytest.mark.parametrize(("data", "field", "message"), [
    ({"kind": "threshold"}, "low", "Give a value to alert below, above, or both."),
    ({"kind": "threshold", "low": "20", "high": "10"}, "high", "Above (10) must be more than below (20): otherwise every value alerts."),
    ({"kind": "off_target", "segment_kind": "plan"}, "segment_kind",
     "Conversation abandonment is not split by plan; it is split by channel, agent, team, channel_kind."),
    ({"kind": "anomaly", "history": "2"}, "history", "Ensure this value is greater than or equal to 4."),
    ({"kind": "threshold", "low": "NaN"}, "low", "Enter a number."),
    ({"kind": "anomaly", "history": "10", "min_history": "20"}, "min_history",
     "Judge after at most the 10 previous periods the usual range is made of."),
    ({"kind": "anomaly", "direction": "sideways"}, "direction",
     "Select a valid choice. sideways is not one of the available choices."),
])
def test_impossible_rules_get_form_errors_and_save_nothing(workspace, lead, data, field, message):
    response = lead.post("/alerts/", {"kpi": KPI, "period_kind": "day", "k": "3", "history": "28", **data})
    assert response.status_code == 400
    assert response.context["form"].errors[field] == [message]
    with tenant_context(workspace):
        assert not set_rules().exists()


@pytest.mark.worker
def test_a_recompute_in_the_worker_judges_the_rules(committed_workspace, celery_worker, smtp_server):
    """The real path: a requested recompute runs in a Celery worker process, then queues
    the alert evaluation, which fires once and emails the team lead through a real SMTP
    server; a second recompute fires nothing new."""
    import zoneinfo
    from datetime import datetime

    from kpis.services.recomputes import kpi_recompute_request
    from tests.helpers import wait_until
    from tests.kpis.helpers import conv, load_into

    workspace = committed_workspace("alertsworker")
    yesterday = datetime.now(zoneinfo.ZoneInfo(workspace.time_zone)).date() - timedelta(days=1)
    rows = [conv(f"c{n}", "chat", f"{yesterday}T10:{n:02d}:00", abandoned="true" if n % 2 else "false") for n in range(40)]
    load_into(workspace, "conversations", rows)  # 20 of 40 abandoned: 50 %
    with tenant_context(workspace):
        alert_rule_create(kpi=KPI, kind="threshold", high=10.0)
        kpi_recompute_request()

    def fired():
        with tenant_context(workspace):
            return list(Alert.objects.values_list("period_start", "value", "times", "message"))

    assert wait_until(fired, timeout=120) == [
        (yesterday, 50.0, 1, "Conversation abandonment is 50 %, outside its bound (≤ 10).")]
    with tenant_context(workspace):
        kpi_recompute_request()
    # The sink is shared by the session's tests: this workspace's mail only.
    [email] = smtp_server.wait_for(lambda m: "[Alertsworker]" in m["Subject"], timeout=60)
    assert (email["To"], email["Subject"].strip()) == ("lead@alertsworker.test",
                                               "[Alertsworker] Conversation abandonment is 50 %, outside its bound (≤ 10).")
    wait_until(lambda: _all_done(workspace), timeout=120)
    assert fired() == [(yesterday, 50.0, 1, "Conversation abandonment is 50 %, outside its bound (≤ 10).")]


def _all_done(workspace):
    from kpis.models import KpiRecompute

    with tenant_context(workspace):
        return not KpiRecompute.objects.exclude(status=KpiRecompute.Status.DONE).exists()


def test_a_fired_alert_is_emailed_once_to_each_team_lead_as_alert_mail(history, make_member, mailoutbox):
    from kpis.services.alerts import alert_notify
    from tenants.accounts.models import Role
    from tenants.mail import mail_category

    with tenant_context(history):
        make_member(Role.TEAM_LEAD, email="second@acme.test")
        make_member(Role.AGENT, email="agent@acme.test")
        alert_rule_create(kpi=KPI, kind="threshold", high=15.0)
        [alert_id] = alerts_evaluate(today=TODAY)["fired"]
        assert alert_notify(alert_id=alert_id) == 2
        assert alert_notify(alert_id=alert_id) == 0  # run again (a re-delivered task): nothing more
    assert sorted(m.to[0] for m in mailoutbox) == ["lead@acme.test", "second@acme.test"]
    message = mailoutbox[0]
    assert message.subject == "[Acme] Conversation abandonment is 16 %, outside its bound (≤ 15)."
    assert message.body == ("Conversation abandonment is 16 %, outside its bound (≤ 15).\n\n"
                            "Period: the day of Mar 29, 2026.\nSee and acknowledge it: http://acme.localhost:8000/alerts/\n\n"
                            "You get this email as a team lead of Acme on Pulse.\n")
    assert mail_category(message) == "alert"
