"""KPI settings: validation by ``kpi_settings_update``, which KPIs each setting affects, the
recompute of just those, and business-hours mean time to resolution, every expected value
computed by hand (workspace time zone Europe/Paris, open Monday–Friday 09:00–17:00)."""
from datetime import date

import pytest
from django.core.exceptions import ValidationError
from django_tenants.utils import tenant_context

from kpis.models import KpiRecompute, KpiSettings
from kpis.registry import KPIS, LOWER, Kpi
from kpis.services.compute import kpis_compute
from kpis.services.recomputes import kpi_recompute_run
from kpis.services.settings import kpi_settings_update
from kpis.settings_uses import SETTING_LABELS, kpi_setting_names, kpis_affected, settings_in_force
from tenants.workspace.models import BusinessHours, Holiday
from tests.kpis.helpers import CONVERSATIONS, CUSTOMERS, conv, snapshot_get

CONVERSATION_KPIS = [key for key, kpi in KPIS.items() if "channel_kind" in kpi.segments]


def errors_of(**changes) -> dict:
    with pytest.raises(ValidationError) as raised:
        kpi_settings_update(settings=KpiSettings.load(), **changes)
    return raised.value.message_dict


# ------------------------------------------------------------------ validation

def test_bad_values_are_refused_with_a_message_each_and_nothing_is_saved(workspace):
    with tenant_context(workspace):
        assert errors_of(visit_events=" , ", conversion_events=[], sla_target_hours=0, activation_window_days=0,
                         repeat_contact_window_days=91, targets={"csat": {"target": 120}}) == {
            "visit_events": ["Visit events: give at least one event name."],
            "conversion_events": ["Conversion events: give at least one event name."],
            "sla_target_hours": ["The SLA target must be between 0.25 hours (15 minutes) and 720 hours (30 days)."],
            "activation_window_days": ["The activation window must be between 1 and 365 days."],
            "repeat_contact_window_days": ["The repeat-contact window must be between 1 and 90 days."],
            "target_csat": ["Customer satisfaction (CSAT): the target must be a number between 0 and 100 (%)."],
        }
        assert errors_of(sla_target_hours=721, activation_window_days=2.5) == {
            "sla_target_hours": ["The SLA target must be between 0.25 hours (15 minutes) and 720 hours (30 days)."],
            "activation_window_days": ["The activation window must be between 1 and 365 days."],
        }
        assert errors_of(targets={"nps": {"target": -101}, "mean_time_to_resolution": {"target": -1},
                                  "first_response_time": {"target": 2, "direction": "sideways"},
                                  "happiness": {"target": 1}}) == {
            "target_nps": ["Net Promoter Score: the target must be a number between -100 and 100 (score)."],
            "target_mean_time_to_resolution": ["Mean time to resolution: the target must be a number 0 or more (hours)."],
            "target_first_response_time": ["First response time: better when higher or lower, not 'sideways'."],
            "target_happiness": ["Unknown KPI 'happiness'."],
        }
        assert errors_of(checkout_events=["x" * 256]) == {
            "checkout_events": ["Checkout start events: a name is at most 255 characters."]}
        with pytest.raises(TypeError, match="Unknown KPI settings: colour"):
            kpi_settings_update(settings=KpiSettings.load(), colour="blue")
        settings = KpiSettings.load()
        assert (settings.visit_events, settings.sla_target_hours, settings.targets) == (["visit"], 24, {})
        assert not KpiRecompute.objects.exists()


def test_business_hours_mode_needs_business_hours(workspace):
    with tenant_context(workspace):
        BusinessHours.objects.all().delete()
        assert errors_of(business_hours_mttr=True) == {"business_hours_mttr": [
            "The workspace has no business hours yet: set them in Workspace settings first, or every resolution "
            "would take 0 hours."]}


def test_values_are_normalised_and_saved(workspace):
    with tenant_context(workspace):
        update = kpi_settings_update(
            settings=KpiSettings.load(), visit_events="visit, page_view , visit,", voice_channels=["phone", " voip", "phone"],
            sla_target_hours="8", activation_window_days="14",
            targets={"csat": {"target": "85", "direction": "higher"}, "nps": {"target": None},
                     "first_response_time": {"target": 0.5}})
        settings = KpiSettings.objects.get()
        assert settings.visit_events == ["visit", "page_view"]
        assert settings.voice_channels == ["phone", "voip"]
        assert (settings.sla_target_hours, settings.activation_window_days) == (8.0, 14)
        assert settings.targets == {"csat": {"target": 85.0, "direction": "higher"},
                                    "first_response_time": {"target": 0.5, "direction": LOWER}}
        assert update.settings == settings


# ------------------------------------------------------------------ which KPIs a setting affects

def test_each_setting_affects_the_kpis_whose_sql_reads_it():
    affected = {name: set(keys) for name, keys in kpis_affected(SETTING_LABELS).items()}
    assert affected["sla_target_hours"] == {"sla_attainment"}
    assert affected["business_hours_mttr"] == {"mean_time_to_resolution"}
    assert affected["repeat_contact_window_days"] == affected["fcr_include_abandoned"] == {"first_contact_resolution"}
    # Every conversation KPI, through its channel-kind segment.
    assert affected["voice_channels"] == set(CONVERSATION_KPIS) >= {
        "conversation_abandonment_rate", "mean_time_to_resolution", "first_response_time", "sla_attainment",
        "first_contact_resolution"}
    # The event KPIs, those of them registered in this build.
    events = {"visit_events": {"conversion_rate"}, "conversion_events": {"conversion_rate", "checkout_abandonment_rate"},
              "checkout_events": {"checkout_abandonment_rate"}, "activation_events": {"activation_rate"},
              "activation_window_days": {"activation_rate"}}
    for name, keys in events.items():
        assert affected[name] == keys & set(KPIS)
    assert kpis_affected(["targets"]) == {"targets": []}
    assert set(SETTING_LABELS) == {field.name for field in KpiSettings._meta.fields} - {
        "id", "targets", "updated_at", "min_sample_size"}  # the last, like targets, is judged when shown


def test_a_kpi_reading_event_names_is_found_from_its_sql(monkeypatch):
    class Purchases(Kpi):
        key, label, unit, direction, dataset, segments = "test_purchases", "Purchases", "count", "higher", "events", ("plan",)

        def day_sql(self, segment):
            plan = "'x'" if segment else "''"
            return f"SELECT day, {plan}, count(*) FILTER (WHERE name = ANY(%(conversion_events)s)), 1 FROM e"

    monkeypatch.setitem(KPIS, "test_purchases", Purchases())
    assert kpi_setting_names("test_purchases") == ("conversion_events",)
    assert "test_purchases" in kpis_affected(["conversion_events"])["conversion_events"]


def test_definition_in_force_lists_the_settings_a_kpi_reads():
    params = {**KpiSettings(**KpiSettings.DEFAULTS, sla_target_hours=1).as_params(), "business_hours_mttr": True}
    assert settings_in_force(KPIS["sla_attainment"], params) == [("SLA target", "1 hour"), ("Voice channels", "phone")]
    assert settings_in_force(KPIS["mean_time_to_resolution"], params) == [
        ("Resolution time counts", "business hours only (the workspace's opening hours, holidays excluded)"),
        ("Voice channels", "phone")]
    assert settings_in_force(KPIS["first_contact_resolution"], params) == [
        ("Repeat-contact window", "7 days"), ("Abandoned conversations", "left out"), ("Voice channels", "phone")]
    assert settings_in_force(KPIS["nps"], params) == []


# ------------------------------------------------------------------ recomputing the affected KPIs

@pytest.fixture
def computed(workspace, load):
    load("customers", CUSTOMERS)
    load("conversations", CONVERSATIONS)
    with tenant_context(workspace):
        kpis_compute(since=date(2026, 2, 1), until=date(2026, 5, 1))
        yield workspace


def run(update) -> KpiRecompute:
    """Run the queued recompute here (a db test commits nothing, so no worker sees it)."""
    kpi_recompute_run(recompute_id=str(update.recompute.pk))
    return KpiRecompute.objects.get(pk=update.recompute.pk)


def test_a_shorter_sla_target_recomputes_sla_attainment_only(computed):
    march = date(2026, 3, 1)
    assert snapshot_get("sla_attainment", "month", march).value == 80.0  # 4 of 5 within 24 h (c2 took 26 h)
    mttr_before = snapshot_get("mean_time_to_resolution", "month", march).computed_at
    update = kpi_settings_update(settings=KpiSettings.load(), sla_target_hours=1)
    assert update.affected == {"sla_target_hours": ["sla_attainment"]} and update.keys == ["sla_attainment"]
    assert update.recompute.keys == ["sla_attainment"] and update.recompute.status == "queued"
    job = run(update)
    assert (job.status, job.kpis_done, job.kpis_total, job.progress) == ("done", 1, 1, 1.0)
    # Within 1 hour: c5 (0.5 h), c6 (1 h), c8 (0.5 h); not c1 (2 h) or c2 (26 h).
    assert snapshot_get("sla_attainment", "month", march).value == 60.0
    assert snapshot_get("sla_attainment", "month", march, "channel", "email").value == pytest.approx(200 / 3)  # c6 c8 of c1 c6 c8
    assert snapshot_get("mean_time_to_resolution", "month", march).computed_at == mttr_before  # not recomputed


def test_voice_channels_move_a_channel_between_text_and_voice(computed):
    march = date(2026, 3, 1)
    # Phone only: voice = c2 (0 abandoned of 1); text = c1 c3 c4 c5 c6 c8 (c3 abandoned).
    assert snapshot_get("conversation_abandonment_rate", "month", march, "channel_kind", "voice").value == 0.0
    assert snapshot_get("conversation_abandonment_rate", "month", march, "channel_kind", "text").value == pytest.approx(100 / 6)
    update = kpi_settings_update(settings=KpiSettings.load(), voice_channels=["phone", "chat"])
    assert update.keys == CONVERSATION_KPIS
    run(update)
    # Chat is voice now: voice = c2 c3 c5 (c3 abandoned); text = c1 c4 c6 c8.
    assert snapshot_get("conversation_abandonment_rate", "month", march, "channel_kind", "voice").value == pytest.approx(100 / 3)
    assert snapshot_get("conversation_abandonment_rate", "month", march, "channel_kind", "text").value == 0.0
    voice = snapshot_get("mean_time_to_resolution", "month", march, "channel_kind", "voice")
    assert (voice.numerator, voice.denominator) == (26.5, 2)  # c2 26 h, c5 0.5 h


def test_targets_change_no_snapshot(computed):
    update = kpi_settings_update(settings=KpiSettings.load(), targets={"sla_attainment": {"target": 90}})
    assert (update.affected, update.keys, update.recompute) == ({"targets": []}, [], None)
    assert not KpiRecompute.objects.exists()
    unchanged = kpi_settings_update(settings=KpiSettings.load(), sla_target_hours=24, targets={"sla_attainment": {"target": 90}})
    assert (unchanged.affected, unchanged.recompute) == ({}, None)


# ------------------------------------------------------------------ business-hours MTTR

BUSINESS_HOURS_CONVERSATIONS = [
    # Friday 16:00 → Monday 10:00 across a weekend: Friday 16–17 + Monday 9–10 = 2 h (66 h on the clock).
    conv("m1", "phone", "2026-03-06T16:00", resolved="2026-03-09T10:00"),
    # Tuesday 15:00 → Thursday 11:00 across Wednesday's holiday: 2 h + 2 h = 4 h (44 h).
    conv("m2", "email", "2026-03-10T15:00", resolved="2026-03-12T11:00"),
    # On a Saturday: 0 business hours (2 h).
    conv("m3", "chat", "2026-03-14T10:00", resolved="2026-03-14T12:00"),
    # Inside one working day: 1.5 h (1.5 h).
    conv("m4", "email", "2026-03-16T09:30", resolved="2026-03-16T11:00"),
    # Monday 07:00 → Tuesday 20:00, before opening to after closing: 8 h + 8 h = 16 h (37 h).
    conv("m5", "email", "2026-03-23T07:00", resolved="2026-03-24T20:00"),
    # Friday 16:00 → Monday 10:00 across the switch to summer time (29 March): 2 h (65 h).
    conv("m6", "chat", "2026-03-27T16:00", resolved="2026-03-30T10:00"),
]


@pytest.fixture
def calendar_workspace(workspace, load):
    load("conversations", BUSINESS_HOURS_CONVERSATIONS)
    with tenant_context(workspace):
        Holiday.objects.create(date=date(2026, 3, 11), name="Founders' Day")
        kpis_compute(since=date(2026, 3, 1), until=date(2026, 4, 1), keys=["mean_time_to_resolution"])
        yield workspace


def test_mttr_counts_every_hour_by_default(calendar_workspace):
    march = snapshot_get("mean_time_to_resolution", "month", date(2026, 3, 1))
    assert (march.numerator, march.denominator) == (66 + 44 + 2 + 1.5 + 37 + 65, 6)


def test_business_hours_mttr_counts_only_opening_hours_outside_holidays(calendar_workspace):
    update = kpi_settings_update(settings=KpiSettings.load(), business_hours_mttr=True)
    assert update.keys == ["mean_time_to_resolution"]
    run(update)
    march = snapshot_get("mean_time_to_resolution", "month", date(2026, 3, 1))
    assert (march.numerator, march.denominator, march.value) == (2 + 4 + 0 + 1.5 + 16 + 2, 6, 25.5 / 6)
    assert snapshot_get("mean_time_to_resolution", "day", date(2026, 3, 9)).value == 2.0  # the weekend left out
    assert snapshot_get("mean_time_to_resolution", "day", date(2026, 3, 12)).value == 4.0  # the holiday left out
    assert snapshot_get("mean_time_to_resolution", "day", date(2026, 3, 14)).value == 0.0
    assert snapshot_get("mean_time_to_resolution", "day", date(2026, 3, 30)).value == 2.0  # summer time: still 2 h
    week = snapshot_get("mean_time_to_resolution", "week", date(2026, 3, 9))  # m1 m2 m3
    assert (week.numerator, week.denominator) == (6, 3)
    assert snapshot_get("mean_time_to_resolution", "month", date(2026, 3, 1), "channel_kind", "voice").value == 2.0  # m1


def test_business_hours_follow_each_weekdays_own_hours(calendar_workspace):
    # Open Saturday 10:00–11:00 too, and Friday only until 16:30.
    BusinessHours.objects.create(weekday=6, opens_at="10:00", closes_at="11:00")
    BusinessHours.objects.filter(weekday=5).update(closes_at="16:30")
    KpiSettings.objects.update(business_hours_mttr=True)
    kpis_compute(since=date(2026, 3, 1), until=date(2026, 4, 1), keys=["mean_time_to_resolution"])
    # m1 and m6: Friday 16–16:30 + Saturday 10–11 + Monday 9–10; m3: Saturday 10–11 of 10–12.
    assert snapshot_get("mean_time_to_resolution", "day", date(2026, 3, 9)).value == 2.5
    assert snapshot_get("mean_time_to_resolution", "day", date(2026, 3, 14)).value == 1.0
    assert snapshot_get("mean_time_to_resolution", "day", date(2026, 3, 30)).value == 2.5


def test_changing_the_calendar_recomputes_business_hours_mttr_only_in_that_mode(calendar_workspace):
    from datetime import time

    from tenants.workspace.services import business_hours_set, holiday_add, holiday_remove

    holiday_add(day=date(2026, 3, 13), name="Off")
    assert not KpiRecompute.objects.exists()  # wall-clock mode: the calendar plays no part
    kpi_settings_update(settings=KpiSettings.load(), business_hours_mttr=True)
    KpiRecompute.objects.all().delete()
    holiday_remove(holiday=Holiday.objects.get(date=date(2026, 3, 11)))
    business_hours_set(hours={day: (time(8), time(18)) for day in range(1, 6)})
    jobs = list(KpiRecompute.objects.order_by("requested_at"))
    assert [job.keys for job in jobs] == [["mean_time_to_resolution"]] * 2
    kpi_recompute_run(recompute_id=str(jobs[-1].pk))
    # Open 08:00–18:00 now, no holiday on the 11th: m2 is Tuesday 15–18 + Wednesday 10 h + Thursday 8–11 = 16 h.
    assert snapshot_get("mean_time_to_resolution", "day", date(2026, 3, 12)).value == 16.0
