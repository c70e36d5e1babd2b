"""The demo-data generator: deterministic, valid for the import validator, internally
consistent, plausible for every KPI, and streamed. No database needed."""
import csv
import hashlib
import inspect
import io
import os
import subprocess
import sys
import tracemalloc
from collections import Counter, defaultdict
from datetime import date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from ingestion import generator
from ingestion.datasets import DATASETS, row_parse
from ingestion.generator import World, csv_write, rows

ROOT = Path(__file__).resolve().parents[2]
END = date(2026, 3, 15)
PARIS = ZoneInfo("Europe/Paris")
SMALL = World.scaled(0.01, end=END)


def _at(value: str) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


def _fresh_caches():
    # The customers are cached per World; clearing shows a result does not depend on them.
    generator._population.cache_clear()
    generator._spike_days.cache_clear()


def _csv(world: World) -> str:
    out = io.StringIO()
    for key in DATASETS:
        csv_write(key, world, out)
    return out.getvalue()


@pytest.fixture(scope="module")
def small():
    """Every dataset of the small world, as lists of rows."""
    return {key: list(rows(key, SMALL)) for key in DATASETS}


@pytest.fixture(scope="module")
def medium():
    """A world big enough for KPIs to settle (1,000 customers, 25,000 events)."""
    world = World.scaled(0.05, end=END)
    return world, {key: list(rows(key, world)) for key in DATASETS}


def test_world_defaults_and_scaling():
    world = World(end=END)
    assert (world.seed, world.months, world.customers, world.conversations, world.events, world.responses,
            world.mentions, world.time_zone, world.currency) == (2026, 12, 20_000, 100_000, 500_000, 8_000, 5_000,
                                                                 "Europe/Paris", "EUR")
    assert World().end == datetime.now(PARIS).date()
    assert (SMALL.customers, SMALL.conversations, SMALL.events, SMALL.responses, SMALL.mentions) == (
        200, 1_000, 5_000, 80, 50)
    tiny = World.scaled(0.0001, end=END, currency="USD")
    assert (tiny.customers, tiny.conversations, tiny.events, tiny.responses, tiny.mentions, tiny.currency) == (
        20, 20, 80, 10, 10, "USD")
    with pytest.raises(ValueError, match="World.customers must be at least 1"):
        World(customers=0)


def test_same_world_gives_byte_identical_csv_in_another_process():
    first = _csv(SMALL)
    _fresh_caches()
    assert _csv(SMALL) == first
    # Another interpreter with another hash seed: nothing may depend on hash() or globals.
    script = ("import hashlib, io; from datetime import date; from ingestion.datasets import DATASETS; "
              "from ingestion.generator import World, csv_write; out = io.StringIO(); "
              "w = World.scaled(0.01, end=date(2026, 3, 15)); [csv_write(k, w, out) for k in DATASETS]; "
              "print(hashlib.sha256(out.getvalue().encode()).hexdigest())")
    result = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, check=True,
                            env={**os.environ, "PYTHONHASHSEED": "12345"})
    assert result.stdout.strip() == hashlib.sha256(first.encode()).hexdigest()


def test_a_dataset_is_the_same_alone_or_after_others():
    _fresh_caches()
    alone = list(rows("conversations", SMALL))
    _fresh_caches()
    for key in ("customers", "events", "social_mentions", "revenue"):
        list(rows(key, SMALL))
    assert list(rows("conversations", SMALL)) == alone
    assert list(rows("conversations", World.scaled(0.01, end=END, seed=7))) != alone


def test_csv_write_writes_the_header_and_every_row(small):
    out = io.StringIO()
    assert csv_write("conversations", SMALL, out) == 1_000
    out.seek(0)
    reader = csv.DictReader(out)
    assert reader.fieldnames == [f.name for f in DATASETS["conversations"].fields]
    assert list(reader) == small["conversations"]


def test_every_row_passes_the_import_validator(small):
    for key, dataset in DATASETS.items():
        names = [f.name for f in dataset.fields]
        for raw in small[key]:
            assert list(raw) == names and all(isinstance(v, str) for v in raw.values())
            parsed = row_parse(dataset, raw, tz=PARIS)
            assert (parsed.errors, parsed.extra) == ([], {}), (key, raw)


def test_counts_equal_the_world_sizes_and_ids_are_sequential(small):
    assert {key: len(found) for key, found in small.items() if key != "revenue"} == {
        "customers": 200, "conversations": 1_000, "events": 5_000, "survey_responses": 80, "social_mentions": 50}
    assert [c["external_id"] for c in small["customers"][:2]] == ["cus_000001", "cus_000002"]
    assert small["customers"][-1]["external_id"] == "cus_000200"
    assert (small["conversations"][-1]["external_id"], small["events"][-1]["external_id"],
            small["survey_responses"][-1]["external_id"], small["social_mentions"][-1]["external_id"]) == (
        "conv_0001000", "evt_0005000", "resp_000080", "men_000050")
    for key in DATASETS:
        if key != "revenue":
            ids = [r["external_id"] for r in small[key]]
            assert len(set(ids)) == len(ids)
    revenue_keys = [(r["customer_external_id"], r["product"], r["month"]) for r in small["revenue"]]
    assert len(set(revenue_keys)) == len(revenue_keys) > 200


def test_other_datasets_refer_to_customers_active_at_the_time(small):
    customers = {c["external_id"]: (_at(c["signed_up_at"]), _at(c["churned_at"])) for c in small["customers"]}

    def active(customer_id: str, moment: datetime) -> bool:
        signed_up, churned = customers[customer_id]
        return signed_up <= moment and (churned is None or moment < churned)

    assert {r["customer_external_id"] for r in small["revenue"]} <= set(customers)
    assert all(active(r["user_external_id"], _at(r["occurred_at"])) for r in small["events"])
    for key, time_field in (("conversations", "created_at"), ("survey_responses", "responded_at")):
        with_customer = [r for r in small[key] if r["customer_external_id"]]
        assert all(active(r["customer_external_id"], _at(r[time_field])) for r in with_customer)
        assert 0.85 * len(small[key]) <= len(with_customer)
    # A few conversations come from people who are not customers (yet).
    assert any(not r["customer_external_id"] for r in small["conversations"])


def test_customers_churn_after_sign_up_and_pay_nothing_after_churn(small):
    churned = {c["external_id"]: c["churned_at"][:7] for c in small["customers"] if c["churned_at"]}
    assert all(_at(c["churned_at"]) > _at(c["signed_up_at"]) for c in small["customers"] if c["churned_at"])
    assert 20 <= len(churned) <= 120
    assert all(r["month"] <= churned[r["customer_external_id"]] for r in small["revenue"]
               if r["customer_external_id"] in churned)
    assert {r["currency"] for r in small["revenue"]} == {"EUR"}
    assert all(Decimal(r["mrr"]) > 0 and len(r["mrr"].split(".")[1]) == 2 for r in small["revenue"])
    assert {r["product"] for r in small["revenue"]} == {"default", "analytics", "voice", "ai_assist"}
    assert {r["month"] for r in small["revenue"]} == {f"{y}-{m:02d}" for y, m in
                                                      [(2025, m) for m in range(3, 13)] + [(2026, 1), (2026, 2),
                                                                                           (2026, 3)]}
    plans = Counter(c["plan"] for c in small["customers"])
    assert set(plans) == {"free", "starter", "pro", "enterprise"}
    assert all(c["email"].endswith("@example.com") for c in small["customers"])


def test_conversation_times_are_ordered_and_inside_the_window(small):
    start, end = datetime(2025, 3, 15, tzinfo=PARIS), datetime(2026, 3, 15, tzinfo=PARIS)
    for r in small["conversations"]:
        created, responded, resolved = _at(r["created_at"]), _at(r["first_response_at"]), _at(r["resolved_at"])
        assert start <= created < end
        assert responded is None or created <= responded < end
        assert resolved is None or (responded is not None and responded <= resolved < end)
        if r["abandoned"] == "true":
            assert (responded, resolved, r["agent"]) == (None, None, "")
        assert r["csat_score"] == "" or resolved is not None
    for key, time_field in (("events", "occurred_at"), ("survey_responses", "responded_at"),
                            ("social_mentions", "posted_at")):
        assert all(start <= _at(r[time_field]) < end for r in small[key])


def test_kpis_come_out_plausible(medium):
    world, data = medium
    test_ids = {c["external_id"] for c in data["customers"] if c["is_test"] == "true"}
    assert 0.003 <= len(test_ids) / world.customers <= 0.02

    names = Counter(e["name"] for e in data["events"])
    assert 1.5 <= names["purchase"] / names["visit"] * 100 <= 3.5  # conversion
    assert 55 <= (1 - names["purchase"] / names["checkout_started"]) * 100 <= 75  # checkout abandonment

    conversations = data["conversations"]
    channels = Counter(c["channel"] for c in conversations)
    assert set(channels) == {"email", "chat", "phone", "social", "messaging"}
    abandoned = Counter(c["channel"] for c in conversations if c["abandoned"] == "true")
    assert all(4 <= abandoned[ch] / channels[ch] * 100 <= 14 for ch in ("chat", "phone"))
    assert abandoned["email"] / channels["email"] < 0.02
    assert len({c["agent"] for c in conversations} - {""}) == 8 and len({c["team"] for c in conversations} - {""}) == 3
    resolved = [c for c in conversations if c["resolved_at"]]
    scores = [int(c["csat_score"]) for c in resolved if c["csat_score"]]
    assert 0.15 <= len(scores) / len(resolved) <= 0.25 and 78 <= sum(s >= 4 for s in scores) / len(scores) * 100 <= 90
    assert 0.6 <= Counter(c["contacts"] for c in conversations)["1"] / len(conversations) <= 0.9
    assert 0.02 <= sum(c["reopened"] == "true" for c in conversations) / len(conversations) <= 0.08

    nps = [int(r["score"]) for r in data["survey_responses"] if r["kind"] == "nps"]
    assert 15 <= (sum(s >= 9 for s in nps) - sum(s <= 6 for s in nps)) / len(nps) * 100 <= 45
    csat = [int(r["score"]) for r in data["survey_responses"] if r["kind"] == "csat"]
    assert 78 <= sum(s >= 4 for s in csat) / len(csat) * 100 <= 92

    mentions = data["social_mentions"]
    assert 0.1 <= sum(m["sentiment"] == "" for m in mentions) / len(mentions) <= 0.3
    assert len({m["brand"] for m in mentions}) == 4 and 0.4 <= sum(m["brand"] == "" for m in mentions) / len(mentions) <= 0.7

    # Activation within 7 days of sign-up, for non-test customers who signed up in the window.
    activated = {}
    for e in data["events"]:
        if e["name"] == "activated":
            activated.setdefault(e["user_external_id"], _at(e["occurred_at"]))
    new = [(c["external_id"], _at(c["signed_up_at"])) for c in data["customers"]
           if c["external_id"] not in test_ids and _at(c["signed_up_at"]).date() >= date(2025, 3, 15)
           and _at(c["signed_up_at"]).date() < END - timedelta(days=8)]
    rate = sum(1 for cid, at in new if cid in activated and activated[cid] <= at + timedelta(days=7)) / len(new)
    assert 0.5 <= rate <= 0.7

    nrr, grr = _revenue_retention(data["revenue"], test_ids, "2025-03", "2026-03")
    assert 100 <= nrr <= 115 and 82 <= grr <= 95
    nrr, grr = _revenue_retention(data["revenue"], test_ids, "2025-12", "2026-03")
    assert 98 <= nrr <= 108 and 93 <= grr <= 99


def _revenue_retention(revenue: list[dict], test_ids: set[str], start: str, end: str) -> tuple[float, float]:
    """NRR and GRR between two months, as kpis.md defines them."""
    mrr = defaultdict(dict)
    for r in revenue:
        if r["customer_external_id"] not in test_ids:
            mrr[r["month"]][(r["customer_external_id"], r["product"])] = float(r["mrr"])
    cohort = {customer for (customer, _), value in mrr[start].items() if value > 0}
    before = sum(v for (c, _), v in mrr[start].items() if c in cohort)
    after = sum(v for (c, _), v in mrr[end].items() if c in cohort)
    lost = sum(s - min(s, mrr[end].get(key, 0)) for key, s in mrr[start].items() if key[0] in cohort)
    return after / before * 100, (before - lost) / before * 100


def test_product_activity_gives_stickiness_and_decaying_retention(medium):
    world, data = medium
    days = defaultdict(set)
    user_days = defaultdict(set)
    for e in data["events"]:
        day = _at(e["occurred_at"]).astimezone(PARIS).date()
        days[day].add(e["user_external_id"])
        user_days[e["user_external_id"]].add(day)
    last = [END - timedelta(days=n) for n in range(1, 31)]
    dau = sum(len(days[d]) for d in last) / 30
    mau = len(set().union(*(days[d] for d in last)))
    assert 12 <= dau / mau * 100 <= 30
    cohort = [(c["external_id"], _at(c["signed_up_at"]).astimezone(PARIS).date()) for c in data["customers"]
              if date(2025, 3, 15) <= _at(c["signed_up_at"]).astimezone(PARIS).date() < END - timedelta(days=31)]
    d1, d7, d30 = (sum(day + timedelta(days=n) in user_days[cid] for cid, day in cohort) / len(cohort)
                   for n in (1, 7, 30))
    assert d1 > d7 > d30 > 0 and d1 >= 0.25


def test_rows_are_streamed_not_built_in_memory():
    world = World(end=END, customers=50, events=50_000)
    assert inspect.isgenerator(rows("events", world))
    list(rows("customers", world))  # the customers may be held; they are cached before measuring
    tracemalloc.start()
    try:
        count = sum(1 for _ in rows("events", world))
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    # A list of these rows would take about 30 MB; one day of them at a time stays far below.
    assert count == 50_000 and peak < 2_000_000


def test_unknown_dataset_and_too_few_events_are_refused():
    with pytest.raises(ValueError, match="unknown dataset 'tickets'"):
        next(rows("tickets", SMALL))
    with pytest.raises(ValueError, match="below the .* sign-up and activation events"):
        list(rows("events", World(end=END, customers=1_000, events=100)))
