"""One deterministic generator of realistic demo data for the six datasets.

``rows(dataset_key, world)`` yields CSV-ready rows (field name → text, exactly the fields of
``ingestion/datasets.py``) for a ``World``: a company with a year of customers, revenue,
support conversations, product events, survey responses and social mentions. seed_demo,
the tests and the benchmarks all use it, so they all see the same data.

How it stays deterministic: every dataset draws from its own ``random.Random`` seeded with
text built from the world's seed and the dataset's key (Python seeds text through SHA-512,
so unlike ``hash()`` it is the same in every process), and each customer's subscription
draws from its own generator too. The output therefore depends only on the World, never on
which datasets were generated before or in which order.

How it stays small in memory: the customers (at most a few hundred thousand) are held as
compact tuples because every other dataset refers to them; everything else is produced
one day at a time, so a million conversations cost no more memory than a thousand.

How it stays consistent: the customers decide the rest. Revenue follows each customer's
subscription from sign-up to churn; conversations, events and survey responses refer to a
customer who is active at that moment; product activity fades with a customer's age; an
outage day shows up both as a burst of bug conversations and as a spike of angry mentions.
"""
from __future__ import annotations

import bisect
import csv
import functools
import itertools
import json
import math
import random
from dataclasses import dataclass, fields
from datetime import date, datetime, time, timedelta
from typing import IO, Iterator, NamedTuple
from zoneinfo import ZoneInfo

from ingestion.datasets import DATASETS

DAY = 86_400
HOUR = 3_600
MINUTE = 60
HISTORY_DAYS = 730  # customers who signed up before the window form the installed base
OWN_BRAND = "Demo Co"


@dataclass(frozen=True)
class World:
    """The parameters of a generated company. ``end`` is the exclusive last day (default:
    today in ``time_zone``); the data covers the ``months`` months before it."""

    seed: int = 2026
    end: date | None = None
    months: int = 12
    customers: int = 20_000
    conversations: int = 100_000
    events: int = 500_000
    responses: int = 8_000
    mentions: int = 5_000
    time_zone: str = "Europe/Paris"
    currency: str = "EUR"

    def __post_init__(self):
        if self.end is None:
            object.__setattr__(self, "end", datetime.now(ZoneInfo(self.time_zone)).date())
        for name in SIZES:
            if getattr(self, name) < 1:
                raise ValueError(f"World.{name} must be at least 1")
        if self.months < 1:
            raise ValueError("World.months must be at least 1")

    @classmethod
    def scaled(cls, factor: float, **overrides) -> World:
        """The default world with every size multiplied by ``factor`` (0.01 for tests),
        keeping a handful of rows per dataset. ``overrides`` set any field, sizes included."""
        defaults = {f.name: f.default for f in fields(cls)}
        sizes = {name: max(MINIMUM_SIZES[name], round(defaults[name] * factor)) for name in SIZES}
        # Every sign-up brings its own events, so small worlds keep enough events for them.
        sizes["events"] = max(sizes["events"], 4 * sizes["customers"])
        return cls(**{**sizes, **overrides})


SIZES = ("customers", "conversations", "events", "responses", "mentions")
MINIMUM_SIZES = {"customers": 20, "conversations": 20, "events": 80, "responses": 10, "mentions": 10}


def rows(dataset_key: str, world: World) -> Iterator[dict[str, str]]:
    """Yield the dataset's rows for ``world``, streamed: field name → text, '' when empty."""
    try:
        generate = _GENERATORS[dataset_key]
    except KeyError:
        raise ValueError(f"unknown dataset '{dataset_key}'; use one of {', '.join(_GENERATORS)}") from None
    names = [f.name for f in DATASETS[dataset_key].fields]
    for values in generate(world):
        yield dict(zip(names, values))


def csv_write(dataset_key: str, world: World, file: IO[str]) -> int:
    """Write the dataset as CSV (header, then rows) to a text file; return the row count."""
    writer = csv.writer(file)
    writer.writerow([f.name for f in DATASETS[dataset_key].fields])
    count = 0
    for row in rows(dataset_key, world):
        writer.writerow(row.values())
        count += 1
    return count


# ---------------------------------------------------------------- shared helpers

def _rng(world: World, *parts: object) -> random.Random:
    # Text seeds go through SHA-512 in CPython: stable across processes, unlike hash().
    return random.Random(":".join(str(p) for p in (world.seed, *parts)))


def _spread(total: int, weights: list[float]) -> list[int]:
    """``total`` split in proportion to ``weights`` as whole numbers that add up exactly
    (largest remainder), so every dataset has exactly the World's row count."""
    scale = total / sum(weights)
    raw = [w * scale for w in weights]
    counts = [int(x) for x in raw]
    by_remainder = sorted(range(len(raw)), key=lambda i: (counts[i] - raw[i], i))
    for i in by_remainder[: total - sum(counts)]:
        counts[i] += 1
    return counts


def _cumulative(weights: list[float]) -> list[float]:
    return list(itertools.accumulate(weights))


def _months_before(day: date, months: int) -> date:
    index = day.year * 12 + day.month - 1 - months
    year, month = divmod(index, 12)
    # The same day of the month, or the month's last day (31 March → 28 or 29 February).
    last_day = (date(year + (month + 1) // 12, (month + 1) % 12 + 1, 1) - timedelta(days=1)).day
    return date(year, month + 1, min(day.day, last_day))


class _Timeline:
    """Day and month arithmetic in the world's time zone. Day 0 is the window's first day;
    negative days are history. Times are Unix seconds, so durations are plain additions
    that stay ordered across daylight-saving changes."""

    def __init__(self, world: World):
        self.tz = ZoneInfo(world.time_zone)
        self.end = world.end
        self.start = _months_before(world.end, world.months)
        self.days = (self.end - self.start).days
        self._first = -HISTORY_DAYS
        self._month_starts: dict[int, int] = {}
        self._day_starts = [
            int(datetime.combine(self.start + timedelta(days=d), time(), self.tz).timestamp())
            for d in range(self._first, self.days + 8)
        ]
        self.start_ts = self.day_start(0)
        self.end_ts = self.day_start(self.days)
        self.first_month = self.month_of(self.start_ts)
        self.last_month = self.month_of(self.end_ts - 1)
        self._weekday0 = self.start.weekday()

    def day_start(self, day: int) -> int:
        return self._day_starts[day - self._first]

    def day_of(self, ts: int) -> int:
        return bisect.bisect_right(self._day_starts, ts) - 1 + self._first

    def weekday(self, day: int) -> int:
        return (self._weekday0 + day) % 7

    def month_of(self, ts: int) -> int:
        local = datetime.fromtimestamp(ts, self.tz)
        return local.year * 12 + local.month - 1

    def month_start(self, month: int) -> int:
        start = self._month_starts.get(month)
        if start is None:
            start = self._month_starts[month] = int(
                datetime(month // 12, month % 12 + 1, 1, tzinfo=self.tz).timestamp())
        return start

    def month_label(self, month: int) -> str:
        return f"{month // 12:04d}-{month % 12 + 1:02d}"

    def iso(self, ts: int) -> str:
        return datetime.fromtimestamp(ts, self.tz).isoformat()


def _first(item: tuple) -> object:
    return item[0]


def _hour_table(weights: list[float]) -> list[float]:
    assert len(weights) == 24
    return _cumulative(weights)


def _time_in_day(rng: random.Random, hours: list[float]) -> int:
    """Seconds after midnight, drawn from cumulative hour weights."""
    hour = bisect.bisect_right(hours, rng.random() * hours[-1])
    return hour * HOUR + rng.randrange(HOUR)


# Local hour profiles: sign-ups and product use follow the working day, phone and chat
# follow the support desk's opening hours, email arrives around the clock.
HOURS_DAYTIME = _hour_table([1, 0.5, 0.3, 0.3, 0.3, 0.5, 1.5, 3, 6, 9, 10, 10, 8, 9, 10, 10, 9, 8, 6, 5, 4, 3.5, 2.5, 1.5])
HOURS_DESK = _hour_table([0.1, 0, 0, 0, 0, 0, 0.1, 0.5, 6, 11, 12, 11, 8, 9, 11, 11, 10, 8, 4, 1, 0.5, 0.3, 0.2, 0.1])
HOURS_EMAIL = _hour_table([1, 0.6, 0.4, 0.3, 0.4, 0.8, 2, 4, 7, 9, 9, 8, 6, 7, 8, 8, 7, 6, 4, 3.5, 3, 2.5, 2, 1.5])
HOURS_SOCIAL = _hour_table([1.5, 1, 0.5, 0.3, 0.3, 0.5, 1.5, 3, 5, 6, 6, 6, 7, 6, 6, 6, 6, 6, 6, 7, 7, 6, 4, 2.5])
# Product use never starts at 23:00, so a session cannot run past midnight.
HOURS_PRODUCT = _hour_table([0.5, 0.2, 0.1, 0.1, 0.1, 0.3, 1, 3, 7, 10, 10, 9, 7, 9, 10, 10, 9, 7, 5, 4, 3.5, 2.5, 1.5, 0])
OPENING, CLOSING = 8 * HOUR, 18 * HOUR


def _weekend(timeline: _Timeline, day: int) -> bool:
    return timeline.weekday(day) >= 5


# ---------------------------------------------------------------- customers and subscriptions

FIRST_NAMES = (
    "Ana", "Marc", "Sofia", "Lukas", "Priya", "Tom", "Chloe", "Yusuf", "Emma", "Louis", "Mia", "Noah", "Lea",
    "Hugo", "Sara", "Jonas", "Ines", "Omar", "Julia", "Pablo", "Nina", "Arthur", "Elena", "Kenji", "Fatima",
    "David", "Alice", "Mateo", "Zoe", "Ravi", "Clara", "Igor", "Amara", "Felix", "Laura", "Diego", "Hana",
    "Oscar", "Maya", "Samuel",
)
LAST_NAMES = (
    "Silva", "Dubois", "Rossi", "Becker", "Nair", "Evans", "Martin", "Demir", "Muller", "Garcia", "Bernard",
    "Novak", "Jansen", "Kowalski", "Santos", "Moreau", "Fischer", "Lopez", "Petit", "Schmidt", "Ricci",
    "Larsen", "Costa", "Weber", "Laurent", "Tanaka", "Okafor", "Haddad", "Ivanova", "Murphy", "Leroy",
    "Romano", "Vidal", "Keller", "Brown", "Sato", "Nielsen", "Fontaine", "Mendes", "Wagner",
)
COUNTRIES = ("FR", "DE", "GB", "US", "ES", "IT", "NL", "BE", "CH", "PT", "SE", "CA", "IE", "PL")
COUNTRY_CUM = _cumulative([30, 12, 11, 9, 8, 7, 6, 5, 4, 3, 2, 2, 1, 1])

PLANS = ("free", "starter", "pro", "enterprise")
PLAN_CUM = _cumulative([44, 30, 19, 7])
# Monthly churn hazard by plan at sign-up: free accounts leave often, enterprise rarely.
# Customer churn is a few percent a month while revenue churn stays low, as in real SaaS.
CHURN_HAZARD = {"free": 0.055, "starter": 0.025, "pro": 0.008, "enterprise": 0.003}
BASE_PRICE = {"starter": 2_900, "pro": 9_900}  # cents a month; enterprise is priced by seat
ENTERPRISE_BASE, SEAT_PRICE = 19_900, 1_900
ADD_ONS = {  # product → price in cents by plan tier at purchase
    "analytics": {"starter": 900, "pro": 2_900, "enterprise": 9_900},
    "voice": {"starter": 1_900, "pro": 4_900, "enterprise": 14_900},
    "ai_assist": {"starter": 1_500, "pro": 3_900, "enterprise": 11_900},
}
ADD_ON_MONTHLY = {"starter": 0.004, "pro": 0.008, "enterprise": 0.014}  # chance to buy each missing add-on
ACTIVATION_CHANCE = {"free": 0.56, "starter": 0.68, "pro": 0.75, "enterprise": 0.8}
PLAN_ENGAGEMENT = {"free": 0.5, "starter": 0.9, "pro": 1.1, "enterprise": 1.4}


class _Customer(NamedTuple):
    external_id: str
    signed_up: int
    churned: int | None
    plan: str  # at the end of the window, or when the customer left
    is_test: bool
    name: str
    email: str
    country: str
    engagement: float  # relative product activity
    activated: int | None  # when the customer reached the activation milestone


class _Subscription(NamedTuple):
    initial: str  # plan at sign-up
    churned: int | None
    plan: str
    months: list[tuple[int, list[tuple[str, int]]]]  # window months only: (month, [(product, cents)])


def _subscription(world: World, timeline: _Timeline, index: int, signed_up: int) -> _Subscription:
    """One customer's plan, churn and month-by-month products, from its own generator so
    that revenue can replay it without holding every customer's history in memory."""
    rng = _rng(world, "subscription", index)
    plan = initial = PLANS[bisect.bisect_right(PLAN_CUM, rng.random() * PLAN_CUM[-1])]
    seats = rng.randint(8, 30) if plan == "enterprise" else 0
    add_ons: dict[str, int] = {}
    first = timeline.month_of(signed_up)
    months, churned = [], None
    for month in range(first, timeline.last_month + 1):
        if month > first:
            plan, seats = _month_step(rng, plan, seats, add_ons)
        if month >= timeline.first_month:
            products = [("default", _base_price(plan, seats))] if plan != "free" else []
            products.extend(sorted(add_ons.items()))
            months.append((month, products))
        # Churn is decided month by month on the current plan, so a customer who grew into
        # enterprise becomes as loyal as one who started there. The month is still paid.
        if rng.random() < CHURN_HAZARD[plan]:
            low = max(timeline.month_start(month), signed_up + DAY)
            high = timeline.month_start(month + 1)
            moment = rng.randrange(low, high) if low < high else high
            if moment < timeline.end_ts:
                churned = moment
                break
    return _Subscription(initial, churned, plan, months)


def _base_price(plan: str, seats: int) -> int:
    return ENTERPRISE_BASE + SEAT_PRICE * seats if plan == "enterprise" else BASE_PRICE[plan]


def _month_step(rng: random.Random, plan: str, seats: int, add_ons: dict[str, int]) -> tuple[str, int]:
    """A month of a live subscription: upgrades and seat growth (upsell), add-ons bought
    (cross-sell) or dropped, downgrades. Rates are tuned for a net revenue retention a
    little above 100% and a gross revenue retention around 90–97% (quarter to year)."""
    roll = rng.random()
    if plan == "free":
        if roll < 0.025:
            plan = "starter"
        elif roll < 0.03:
            plan = "pro"
        return plan, seats
    if plan == "starter":
        if roll < 0.014:
            plan = "pro"
        elif roll < 0.017:
            plan = "free"
            add_ons.clear()
    elif plan == "pro":
        if roll < 0.005:
            plan, seats = "enterprise", rng.randint(8, 15)
        elif roll < 0.011:
            plan = "starter"
    else:
        if roll < 0.035:
            seats += rng.randint(1, 5)
        elif roll < 0.045:
            seats = max(5, seats - rng.randint(1, 3))
        elif roll < 0.047:
            plan, seats = "pro", 0
    if plan != "free":
        for product, prices in ADD_ONS.items():
            if product in add_ons:
                if rng.random() < 0.008:
                    del add_ons[product]
            elif rng.random() < ADD_ON_MONTHLY[plan]:
                add_ons[product] = prices[plan]
    return plan, seats


class _Population:
    """The world's customers in sign-up order (so ``cus_000001`` is the oldest), plus the
    indexes the other datasets need to find a customer active at a given moment."""

    def __init__(self, world: World):
        self.timeline = timeline = _Timeline(world)
        rng = _rng(world, "customers")
        # Two fifths signed up before the window (the installed base at its start), the rest
        # during it, with growth over the year and fewer sign-ups at weekends.
        history = round(world.customers * 0.4)
        before = [(0.25 + 0.75 * (d + HISTORY_DAYS) / HISTORY_DAYS) * (0.55 if _weekend(timeline, d) else 1)
                  for d in range(-HISTORY_DAYS, 0)]
        during = [(1 + 0.5 * d / timeline.days) * (0.55 if _weekend(timeline, d) else 1)
                  for d in range(timeline.days)]
        days = (rng.choices(range(-HISTORY_DAYS, 0), cum_weights=_cumulative(before), k=history)
                + rng.choices(range(timeline.days), cum_weights=_cumulative(during), k=world.customers - history))
        signups = sorted(timeline.day_start(d) + _time_in_day(rng, HOURS_DAYTIME) for d in days)
        self.customers: list[_Customer] = []
        for index, signed_up in enumerate(signups, start=1):
            subscription = _subscription(world, timeline, index, signed_up)
            first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
            is_test = rng.random() < 0.01
            if is_test:
                name, email = f"QA Test {index}", f"qa+{index}@example.com"
            else:
                name, email = f"{first} {last}", f"{first}.{last}.{index}@example.com".lower()
            country = COUNTRIES[bisect.bisect_right(COUNTRY_CUM, rng.random() * COUNTRY_CUM[-1])]
            tier = subscription.initial
            activates = rng.random() < ACTIVATION_CHANCE[tier]
            # Median 18 hours; about 95% of those who activate do it within a week.
            delay = int(rng.lognormvariate(math.log(18 * HOUR), 1.3))
            activated = signed_up + max(5 * MINUTE, delay) if activates else None
            if activated is not None and subscription.churned is not None and activated >= subscription.churned:
                activated = None
            engagement = _engagement(rng, tier, activates)
            self.customers.append(_Customer(
                f"cus_{index:06d}", signed_up, subscription.churned, subscription.plan, is_test, name, email,
                country, engagement, activated,
            ))
        self.signups = signups
        self.signup_days = [timeline.day_of(ts) for ts in signups]
        self.active_by_day = self._active_by_day()

    def _active_by_day(self) -> list[int]:
        """Customers active at the start of each window day (a difference array, O(n))."""
        timeline = self.timeline
        delta = [0] * (timeline.days + 1)
        for customer, day in zip(self.customers, self.signup_days):
            delta[min(max(day + 1, 0), timeline.days)] += 1
            if customer.churned is not None:
                delta[min(max(timeline.day_of(customer.churned) + 1, 0), timeline.days)] -= 1
        active = list(itertools.accumulate(delta))[: timeline.days]
        return [max(a, 1) for a in active]

    def active_at(self, rng: random.Random, ts: int, weights: dict[str, float] | None = None) -> _Customer | None:
        """A random customer active at ``ts`` (signed up, not yet churned), favouring plans
        by ``weights`` (0–1); None when none is found quickly."""
        signed = bisect.bisect_right(self.signups, ts)
        if not signed:
            return None
        for _ in range(40):
            customer = self.customers[rng.randrange(signed)]
            if customer.churned is not None and customer.churned <= ts:
                continue
            if weights is None or rng.random() < weights[customer.plan]:
                return customer
        return None


@functools.lru_cache(maxsize=4)
def _population(world: World) -> _Population:
    return _Population(world)


@functools.lru_cache(maxsize=4)
def _spike_days(world: World) -> dict[str, int]:
    """Days when something happened, shared by the datasets that show it: an outage (bug
    conversations and angry mentions), a launch (happy mentions) and a competitor's price
    change. Never in the first five weeks, so a 28-day trailing mean exists before them."""
    timeline = _Timeline(world)
    rng = _rng(world, "spikes")
    low = min(35, timeline.days - 1)

    def pick(fraction: float) -> int:
        return min(timeline.days - 1, max(low, int(timeline.days * fraction) + rng.randint(-10, 10)))

    return {"outage": pick(0.62), "launch": pick(0.35), "competitor": pick(0.85)}


def _customers(world: World) -> Iterator[tuple[str, ...]]:
    population = _population(world)
    iso = population.timeline.iso
    for c in population.customers:
        yield (c.external_id, iso(c.signed_up), c.name, c.email, c.plan,
               iso(c.churned) if c.churned is not None else "", "true" if c.is_test else "false", c.country)


def _revenue(world: World) -> Iterator[tuple[str, ...]]:
    population = _population(world)
    timeline = population.timeline
    for index, customer in enumerate(population.customers, start=1):
        subscription = _subscription(world, timeline, index, customer.signed_up)
        for month, products in subscription.months:
            label = timeline.month_label(month)
            for product, cents in products:
                yield customer.external_id, label, f"{cents // 100}.{cents % 100:02d}", product, world.currency


# ---------------------------------------------------------------- conversations

CHANNELS = ("email", "chat", "phone", "messaging", "social")
CHANNEL_CUM = _cumulative([34, 30, 15, 13, 8])
CHANNEL_HOURS = {"email": HOURS_EMAIL, "chat": HOURS_DESK, "phone": HOURS_DESK, "messaging": HOURS_SOCIAL,
                 "social": HOURS_SOCIAL}
ABANDON_CHANCE = {"chat": 0.065, "phone": 0.075, "messaging": 0.03, "social": 0.01, "email": 0.004}
NO_CUSTOMER_CHANCE = {"chat": 0.06, "phone": 0.02, "messaging": 0.03, "social": 0.2, "email": 0.02}
# Median first response and median work after it, in seconds.
FIRST_RESPONSE = {"chat": 80, "phone": 50, "messaging": 25 * MINUTE, "social": 80 * MINUTE, "email": 3 * HOUR}
HANDLING = {"chat": 14 * MINUTE, "phone": 9 * MINUTE, "messaging": 2 * HOUR, "social": 3 * HOUR, "email": 7 * HOUR}
CONTACT_WEIGHT = {"free": 0.35, "starter": 0.7, "pro": 0.85, "enterprise": 1.0}

TEAMS = {
    "Billing": (("Ana Silva", 1.0, 1.0, 0.0), ("Marc Dubois", 0.8, 1.2, -0.3)),
    "Technical": (("Sofia Rossi", 1.0, 0.9, 0.2), ("Lukas Becker", 1.0, 1.1, 0.0), ("Priya Nair", 0.7, 1.0, 0.1)),
    "Customer Success": (("Tom Evans", 1.0, 1.0, 0.0), ("Chloe Martin", 0.9, 0.8, 0.3),
                         ("Yusuf Demir", 0.6, 1.6, -0.6)),
}  # agent: (share of the team's work, slowness factor, CSAT shift)
TOPICS = {  # topic: (team, weight, complexity, subjects)
    "billing": ("Billing", 20, 1.0, ("Question about my invoice", "Charged twice this month", "Update billing address",
                                     "VAT number missing on invoice", "Card declined on renewal")),
    "refund": ("Billing", 5, 1.3, ("Refund request", "Refund for unused seats", "Refund not received yet")),
    "login": ("Technical", 14, 0.7, ("Can't log in", "Password reset email not arriving", "2FA code rejected",
                                     "SSO login loop")),
    "bug": ("Technical", 16, 2.5, ("Dashboard not loading", "Export fails with an error", "Charts show wrong totals",
                                   "Error 500 when saving a view", "Notifications arrive twice")),
    "integration": ("Technical", 9, 2.0, ("Zapier integration stopped syncing", "Webhook not firing",
                                          "API returns 401 with a new key", "CRM sync duplicates contacts")),
    "onboarding": ("Customer Success", 13, 0.8, ("Help setting up my workspace", "How do I import my data?",
                                                 "Inviting my team", "Best practices for reports")),
    "account": ("Customer Success", 10, 0.7, ("Change the account owner", "Add a new admin",
                                              "Delete a user's data", "Rename our workspace")),
    "feature_request": ("Customer Success", 8, 1.0, ("Feature request: dark mode", "Can we schedule exports?",
                                                     "Request: custom fields on reports", "Mobile app when?")),
}
TOPIC_NAMES = tuple(TOPICS)
TOPIC_CUM = _cumulative([TOPICS[t][1] for t in TOPIC_NAMES])
CANCEL_SUBJECTS = ("How do I cancel my subscription?", "Please close our account", "Cancel at the end of the month")
# Contacts per conversation (1–4): complex topics take more back and forth.
CONTACTS_CUM = _cumulative([85, 10, 4, 1])
CONTACTS_COMPLEX_CUM = _cumulative([68, 20, 9, 3])


def _agent(rng: random.Random, team: str) -> tuple[str, float, float]:
    """An agent of ``team`` by share of work: (name, slowness, CSAT shift)."""
    members = TEAMS[team]
    name, _, slowness, csat = rng.choices(members, weights=[m[1] for m in members])[0]
    return name, slowness, csat


def _next_opening(timeline: _Timeline, day: int, seconds: int) -> int:
    """The first moment the support desk is open at or after ``seconds`` into ``day``."""
    if not _weekend(timeline, day) and OPENING <= seconds < CLOSING:
        return timeline.day_start(day) + seconds
    if not _weekend(timeline, day) and seconds < OPENING:
        return timeline.day_start(day) + OPENING
    day += 1
    while _weekend(timeline, day):
        day += 1
    return timeline.day_start(day) + OPENING


def _csat(rng: random.Random, shift: float) -> int:
    # About 83% of ratings are 4–5 on average; slow or reopened conversations and some agents shift it.
    roll = rng.random() + shift * 0.1
    return 5 if roll > 0.42 else 4 if roll > 0.13 else 3 if roll > 0.07 else 2 if roll > 0.04 else 1


def _conversations(world: World) -> Iterator[tuple[str, ...]]:
    population = _population(world)
    timeline = population.timeline
    rng = _rng(world, "conversations")
    outage = _spike_days(world)["outage"]
    weights = [active * (0.35 if _weekend(timeline, d) else 1) * (2.2 if d == outage else 1)
               for d, active in enumerate(population.active_by_day)]
    number = 0
    for day, count in enumerate(_spread(world.conversations, weights)):
        day_start = timeline.day_start(day)
        batch = []
        for _ in range(count):
            channel = CHANNELS[bisect.bisect_right(CHANNEL_CUM, rng.random() * CHANNEL_CUM[-1])]
            seconds = _time_in_day(rng, CHANNEL_HOURS[channel])
            batch.append((day_start + seconds, seconds, channel))
        batch.sort()
        for created, seconds, channel in batch:
            number += 1
            yield _conversation(rng, population, f"conv_{number:07d}", created, day, seconds, channel,
                                day == outage)


def _conversation(rng: random.Random, population: _Population, external_id: str, created: int, day: int,
                  seconds: int, channel: str, outage: bool) -> tuple[str, ...]:
    timeline = population.timeline
    iso = timeline.iso
    customer = None if rng.random() < NO_CUSTOMER_CHANCE[channel] else population.active_at(rng, created,
                                                                                             CONTACT_WEIGHT)
    topic = TOPIC_NAMES[bisect.bisect_right(TOPIC_CUM, rng.random() * TOPIC_CUM[-1])]
    if outage and rng.random() < 0.6:
        topic = "bug"
    team, _, complexity, subjects = TOPICS[topic]
    subject = rng.choice(subjects)
    # Customers about to leave often write first.
    if customer and customer.churned is not None and customer.churned - created < 14 * DAY and rng.random() < 0.4:
        topic, team, complexity, subject = "cancellation", "Billing", 1.0, rng.choice(CANCEL_SUBJECTS)
    tags = [topic]
    if outage and topic == "bug":
        tags.append("outage")
    if customer and customer.plan == "enterprise" and rng.random() < 0.5:
        tags.append("vip")
    if rng.random() < 0.07:
        tags.append("urgent")
    after_hours = _weekend(timeline, day) or not OPENING <= seconds < CLOSING
    abandoned = rng.random() < ABANDON_CHANCE[channel] * (2.5 if after_hours else 1)
    customer_id = customer.external_id if customer else ""
    if abandoned:
        return (external_id, channel, iso(created), customer_id, "", "", "", "", "1", "false", "true", "",
                ";".join(tags), subject)
    agent, slowness, csat_shift = _agent(rng, team)
    if channel in ("chat", "phone") and not after_hours:
        responded = created + int(rng.lognormvariate(math.log(FIRST_RESPONSE[channel] * slowness), 0.8))
    else:
        # Written channels (and calls or chats left outside opening hours) wait for the desk.
        opening = _next_opening(timeline, day, seconds)
        responded = opening + int(rng.lognormvariate(math.log(FIRST_RESPONSE[channel] * slowness), 1.0))
    table = CONTACTS_COMPLEX_CUM if complexity >= 2 else CONTACTS_CUM
    contacts = 1 + bisect.bisect_right(table, rng.random() * table[-1])
    work = rng.lognormvariate(math.log(HANDLING[channel] * complexity * slowness), 1.0) * contacts
    reopened = rng.random() < 0.05
    if reopened:
        contacts = max(contacts, 2)
        work += rng.uniform(1, 3) * DAY
    resolved = responded + int(work)
    # A few are never closed; anything not done by the end of the window is still open.
    if rng.random() < 0.02 or resolved >= timeline.end_ts:
        resolved = None
    if responded >= timeline.end_ts:
        responded, resolved = None, None
    csat = ""
    if resolved is not None and rng.random() < 0.2:
        slow = (resolved - created) > 6 * (HANDLING[channel] + FIRST_RESPONSE[channel])
        csat = str(_csat(rng, csat_shift - (0.8 if slow else 0) - (1.5 if reopened else 0)))
    return (external_id, channel, iso(created), customer_id, agent, team,
            iso(responded) if responded is not None else "", iso(resolved) if resolved is not None else "",
            str(contacts), "true" if reopened else "false", "false", csat, ";".join(tags), subject)


# ---------------------------------------------------------------- product events

# Customers differ a lot in how much they use the product: a core uses it most days, many
# only now and then, some never come back after signing up. New customers are more active
# for their first weeks. Together these give a realistic DAU/MAU and D1 > D7 > D30.
ENGAGEMENT_KINDS = {  # kind: (relative activity, share among activated, share among the others)
    "core": (40.0, 0.06, 0.0),
    "regular": (4.0, 0.10, 0.0),
    "casual": (0.05, 0.50, 0.25),
    "dormant": (0.005, 0.34, 0.75),
}
# The extra activity of a new customer, by age in days; gone after a couple of months.
NOVELTY = [12.0 * (1 + age) ** -0.65 * math.exp(-age / 45) for age in range(HISTORY_DAYS + 800)]
SESSIONS_PER_DAY = 1


def _engagement(rng: random.Random, plan: str, activates: bool) -> float:
    roll = rng.random()
    for level, activated_share, other_share in ENGAGEMENT_KINDS.values():
        roll -= activated_share if activates else other_share
        if roll < 0:
            break
    return level * PLAN_ENGAGEMENT[plan] * rng.lognormvariate(0, 0.4)


PAGES = tuple(json.dumps({"page": page, "source": source}, separators=(",", ":"))
              for page in ("/", "/pricing", "/features", "/blog", "/app", "/docs")
              for source in ("direct", "google", "newsletter", "linkedin"))
LOGINS = tuple(json.dumps({"method": m}, separators=(",", ":")) for m in ("password", "password", "google", "sso"))
ACTIVITY = tuple(
    (name, json.dumps({key: value}, separators=(",", ":")))
    for name, key, values in (
        ("feature_used", "feature", ("inbox", "reports", "automations", "search", "macros", "dashboards")),
        ("report_viewed", "report", ("weekly", "csat", "backlog", "sla")),
        ("dashboard_viewed", "dashboard", ("overview", "team", "channels")),
        ("export_created", "format", ("csv", "xlsx")),
        ("invite_sent", "role", ("agent", "viewer")),
    )
    for value in values
)
ACTIVITY_CUM = _cumulative([{"feature_used": 6, "report_viewed": 4, "dashboard_viewed": 3, "export_created": 1.5,
                             "invite_sent": 1}[name] for name, _ in ACTIVITY])
ACTIVATION_STEPS = tuple(json.dumps({"step": s}, separators=(",", ":")) for s in ("first_report", "inbox_connected",
                                                                                    "team_invited"))


def _signup_session(rng: random.Random, customer: _Customer) -> list[tuple[int, str, str]]:
    # The sign-up visit is stamped with the sign-up moment: before it the visitor is not yet
    # the customer, and no event may precede the customer's signed_up_at.
    signed = json.dumps({"plan": customer.plan, "country": customer.country}, separators=(",", ":"))
    return [(customer.signed_up, "visit", rng.choice(PAGES)), (customer.signed_up, "signed_up", signed)]


def _activity_session(rng: random.Random, start: int, plan: str, currency: str) -> list[tuple[int, str, str]]:
    """visit, usually login, a few actions and now and then a checkout: about 2.5% of
    visits end in a purchase and about two thirds of checkouts are abandoned."""
    t = start
    session = [(t, "visit", rng.choice(PAGES))]
    if rng.random() < 0.6:
        t += rng.randint(5, 90)
        session.append((t, "login", rng.choice(LOGINS)))
    actions = 1
    while rng.random() < 0.35 and actions < 8:
        actions += 1
    # Gaps are short enough that a session started before 23:00 ends before midnight.
    for _ in range(actions):
        t += rng.randint(15, 240)
        session.append((t, *ACTIVITY[bisect.bisect_right(ACTIVITY_CUM, rng.random() * ACTIVITY_CUM[-1])]))
    if rng.random() < 0.07:
        target = "pro" if plan in ("free", "starter") else rng.choice(("analytics", "voice", "ai_assist"))
        t += rng.randint(20, 300)
        session.append((t, "checkout_started", json.dumps({"item": target}, separators=(",", ":"))))
        if rng.random() < 0.35:
            amount = BASE_PRICE["pro"] if target == "pro" else ADD_ONS[target]["pro"]
            t += rng.randint(30, 400)
            session.append((t, "purchase", json.dumps({"item": target, "amount": amount / 100, "currency": currency},
                                                      separators=(",", ":"))))
    return session


def _events(world: World) -> Iterator[tuple[str, ...]]:
    population = _population(world)
    timeline = population.timeline
    customers = population.customers
    rng = _rng(world, "events")
    # Sign-ups and activations are fixed by the customers; the rest of the budget is
    # product activity, shared out by day in proportion to the active customer base.
    lifecycle: dict[int, list[tuple[str, _Customer]]] = {}
    fixed = 0
    for customer, day in zip(customers, population.signup_days):
        if day >= 0:  # sign-ups before the window left no events in it
            lifecycle.setdefault(day, []).append(("signup", customer))
            fixed += 2
        if customer.activated is not None and timeline.start_ts <= customer.activated < timeline.end_ts:
            activation_day = timeline.day_of(customer.activated)
            lifecycle.setdefault(activation_day, []).append(("activation", customer))
            fixed += 1 if activation_day == day else 2
    budget = world.events - fixed
    if budget < 0:
        raise ValueError(f"World.events ({world.events}) is below the {fixed} sign-up and activation events of its "
                         f"customers; raise events or lower customers")
    weights = [active * (0.5 if _weekend(timeline, d) else 1) for d, active in enumerate(population.active_by_day)]
    per_day = _spread(budget, weights) if budget else [0] * timeline.days
    active: list[int] = []
    next_customer = 0
    event_number = session_number = 0
    carried = 0
    for day in range(timeline.days):
        day_start, day_end = timeline.day_start(day), timeline.day_start(day + 1)
        while next_customer < len(customers) and population.signup_days[next_customer] < day:
            active.append(next_customer)
            next_customer += 1
        # Customers leaving today are left out of today's activity, so nothing follows churn.
        active = [i for i in active if customers[i].churned is None or customers[i].churned >= day_end]
        sessions: list[tuple[_Customer, list[tuple[int, str, str]]]] = []
        signed_today = set()
        for kind, customer in lifecycle.get(day, ()):
            if kind == "signup":
                sessions.append((customer, _signup_session(rng, customer)))
                signed_today.add(customer.external_id)
            else:
                step = (customer.activated, "activated", rng.choice(ACTIVATION_STEPS))
                if customer.external_id in signed_today:
                    sessions.append((customer, [step]))
                else:
                    visit = max(day_start, customer.activated - rng.randint(30, 900))
                    sessions.append((customer, [(visit, "visit", rng.choice(PAGES)), step]))
        remaining = per_day[day] + carried
        if active and remaining:
            cumulative = _cumulative([customers[i].engagement + NOVELTY[day - population.signup_days[i]]
                                      for i in active])
            # Picks are weighted by engagement and by how new the customer is; a customer
            # has at most SESSIONS_PER_DAY sessions, more only when everyone has had theirs.
            today: dict[int, int] = {}
            cap = SESSIONS_PER_DAY
            while remaining > 0:
                placed = False
                for i in rng.choices(active, cum_weights=cumulative, k=remaining // 3 + 1):
                    if today.get(i, 0) >= cap:
                        continue
                    today[i] = today.get(i, 0) + 1
                    placed = True
                    customer = customers[i]
                    start = day_start + _time_in_day(rng, HOURS_PRODUCT)
                    session = _activity_session(rng, start, customer.plan, world.currency)[:remaining]
                    sessions.append((customer, session))
                    remaining -= len(session)
                    if not remaining:
                        break
                if not placed:
                    cap += 1
        carried = remaining
        day_events = []
        for customer, session in sessions:
            session_number += 1
            session_id = f"ses_{session_number:07d}"
            day_events.extend((ts, customer.external_id, name, properties, session_id)
                              for ts, name, properties in session)
        day_events.sort(key=_first)  # stable: a session's events keep their order on ties
        for ts, user, name, properties, session_id in day_events:
            event_number += 1
            yield f"evt_{event_number:07d}", user, name, timeline.iso(ts), properties, session_id
    if carried:
        raise ValueError("World has no active customer to carry its product events")


# ---------------------------------------------------------------- survey responses

NPS_COMMENTS = {
    "promoter": ("Love how easy the reports are.", "Support is fast and friendly.", "Saves our team hours every week.",
                 "Great product, keep going!", "The automations are a game changer."),
    "passive": ("Good overall, a bit pricey.", "Does the job, reporting could be more flexible.",
                "Fine, but the mobile experience lags behind.", "Solid, onboarding took a while."),
    "detractor": ("Too expensive for what we use.", "Too many bugs lately.", "Support took days to answer.",
                  "Missing integrations we need.", "The app is slow with our data volume."),
}
CSAT_COMMENTS = {
    "good": ("Quick and helpful, thanks!", "Solved on the first reply.", "Very clear explanation."),
    "bad": ("Took too long to get an answer.", "Issue is still not fixed.", "Had to explain it three times."),
}
NPS_SCORES_CUM = _cumulative([1.5, 1.5, 2, 2, 3, 4, 6, 12, 18, 25, 25])  # 0..10: about +30
NPS_SCORES_LEAVING_CUM = _cumulative([5, 5, 7, 8, 9, 10, 12, 14, 12, 10, 8])


def _survey_responses(world: World) -> Iterator[tuple[str, ...]]:
    population = _population(world)
    timeline = population.timeline
    rng = _rng(world, "survey_responses")
    nps_total = round(world.responses * 0.4)
    csat_total = world.responses - nps_total
    # NPS goes out in a quarterly campaign (answers tail off over ten days) on top of an
    # always-on in-app survey; CSAT follows the support volume.
    campaign = {d: 10 * 0.75 ** (d % 91) for d in range(timeline.days) if d % 91 < 10}
    nps_weights = [population.active_by_day[d] * (1 + campaign.get(d, 0)) for d in range(timeline.days)]
    csat_weights = [active * (0.35 if _weekend(timeline, d) else 1)
                    for d, active in enumerate(population.active_by_day)]
    nps_days = _spread(nps_total, nps_weights) if nps_total else [0] * timeline.days
    csat_days = _spread(csat_total, csat_weights) if csat_total else [0] * timeline.days
    number = 0
    for day in range(timeline.days):
        day_start = timeline.day_start(day)
        batch = [(day_start + _time_in_day(rng, HOURS_DAYTIME), "nps") for _ in range(nps_days[day])]
        batch += [(day_start + _time_in_day(rng, HOURS_DESK), "csat") for _ in range(csat_days[day])]
        batch.sort()
        for responded, kind in batch:
            number += 1
            customer = population.active_at(rng, responded)
            make = _nps_response if kind == "nps" else _csat_response
            yield (f"resp_{number:06d}", kind, *make(rng, customer, responded, timeline.iso(responded)))


def _nps_response(rng: random.Random, customer: _Customer | None, responded: int, iso: str) -> tuple[str, ...]:
    # Customers who are about to leave answer far more often as detractors.
    leaving = customer is not None and customer.churned is not None and customer.churned - responded < 90 * DAY
    table = NPS_SCORES_LEAVING_CUM if leaving else NPS_SCORES_CUM
    score = bisect.bisect_right(table, rng.random() * table[-1])
    group = "promoter" if score >= 9 else "passive" if score >= 7 else "detractor"
    comment = rng.choice(NPS_COMMENTS[group]) if rng.random() < (0.5 if group == "detractor" else 0.3) else ""
    return str(score), iso, customer.external_id if customer else "", comment, "", ""


def _csat_response(rng: random.Random, customer: _Customer | None, responded: int, iso: str) -> tuple[str, ...]:
    channel = CHANNELS[bisect.bisect_right(CHANNEL_CUM, rng.random() * CHANNEL_CUM[-1])]
    agent, _, shift = _agent(rng, rng.choice(tuple(TEAMS)))
    score = _csat(rng, shift)
    comment = rng.choice(CSAT_COMMENTS["good" if score >= 4 else "bad"]) if rng.random() < 0.25 else ""
    return str(score), iso, customer.external_id if customer else "", comment, channel, agent


# ---------------------------------------------------------------- social mentions

PLATFORMS = ("x", "linkedin", "reddit", "facebook", "instagram", "youtube", "trustpilot")
PLATFORM_CUM = _cumulative([34, 16, 15, 11, 13, 4, 7])
BRANDS = ("", "HelpHive", "Zendora", "Supportly")  # '' is the workspace's own brand
BRAND_CUM = _cumulative([52, 20, 17, 11])
SENTIMENT_CUM = _cumulative([42, 36, 22])
SENTIMENTS = ("positive", "neutral", "negative")
MENTION_TEXTS = {
    "positive": ("Really impressed with {brand} support today, solved in minutes!",
                 "{brand} dashboards are the best thing we adopted this year.",
                 "Shout-out to the {brand} team, the new reports are great.",
                 "Switched to {brand} last month and our response times dropped."),
    "neutral": ("Anyone using {brand} for a team of 20? How is the pricing?",
                "Comparing {brand} with other helpdesk tools this week.",
                "{brand} webinar on customer retention starts at 3pm.",
                "Does {brand} have an API for exporting conversations?"),
    "negative": ("{brand} has been down for an hour, our whole team is blocked.",
                 "Waiting three days for {brand} to answer a billing question...",
                 "{brand} price increase again? Looking for alternatives.",
                 "The latest {brand} update broke our exports."),
}
OUTAGE_TEXTS = ("Is {brand} down for everyone? Can't load anything.", "{brand} outage again, customers are waiting.",
                "Still no word from {brand} about the outage.")
LAUNCH_TEXTS = ("The new {brand} AI assistant is impressive!", "Just tried the {brand} launch, love it.",
                "{brand} automations 2.0 look great.")


def _mention_url(platform: str, author: str, number: int) -> str:
    handle = author.lstrip("@")
    return {
        "x": f"https://x.com/{handle}/status/{1_800_000_000_000_000_000 + number * 7919}",
        "linkedin": f"https://www.linkedin.com/posts/{handle}_activity-{7_100_000_000 + number}",
        "reddit": f"https://www.reddit.com/r/CustomerSuccess/comments/{number:x}z/",
        "facebook": f"https://www.facebook.com/{handle}/posts/{10_000_000 + number}",
        "instagram": f"https://www.instagram.com/p/C{number:07d}/",
        "youtube": f"https://www.youtube.com/watch?v=dm{number:09d}",
        "trustpilot": f"https://www.trustpilot.com/reviews/{number:024x}",
    }[platform]


def _social_mentions(world: World) -> Iterator[tuple[str, ...]]:
    timeline = _Timeline(world)
    rng = _rng(world, "social_mentions")
    spikes = _spike_days(world)
    multiplier = {spikes["outage"]: 9.0, spikes["launch"]: 6.0, spikes["competitor"]: 5.0}
    weights = [(1 + 0.6 * d / timeline.days) * (0.75 if _weekend(timeline, d) else 1) * multiplier.get(d, 1)
               for d in range(timeline.days)]
    number = 0
    for day, count in enumerate(_spread(world.mentions, weights)):
        day_start = timeline.day_start(day)
        for posted in sorted(day_start + _time_in_day(rng, HOURS_SOCIAL) for _ in range(count)):
            number += 1
            platform = PLATFORMS[bisect.bisect_right(PLATFORM_CUM, rng.random() * PLATFORM_CUM[-1])]
            brand = BRANDS[bisect.bisect_right(BRAND_CUM, rng.random() * BRAND_CUM[-1])]
            sentiment = SENTIMENTS[bisect.bisect_right(SENTIMENT_CUM, rng.random() * SENTIMENT_CUM[-1])]
            texts = MENTION_TEXTS[sentiment]
            # On spike days most of the extra volume is about what happened.
            if day == spikes["outage"] and rng.random() < 0.85:
                brand, sentiment, texts = "", "negative", OUTAGE_TEXTS
            elif day == spikes["launch"] and rng.random() < 0.8:
                brand, sentiment, texts = "", "positive", LAUNCH_TEXTS
            elif day == spikes["competitor"] and rng.random() < 0.75:
                brand = "HelpHive"
                sentiment = "negative" if rng.random() < 0.7 else "neutral"
                texts = MENTION_TEXTS[sentiment]
            text = rng.choice(texts).format(brand=brand or OWN_BRAND)
            author = f"@{rng.choice(FIRST_NAMES).lower()}{rng.choice(LAST_NAMES).lower()}{rng.randint(1, 999)}"
            followers = "" if platform in ("reddit", "trustpilot") else str(min(2_000_000, int(rng.lognormvariate(
                math.log(350), 1.7))))
            # About a fifth arrive unscored; the app scores them on import.
            shown = "" if rng.random() < 0.2 else sentiment
            yield (f"men_{number:06d}", platform, timeline.iso(posted), text, author,
                   _mention_url(platform, author, number), followers, brand, shown)


_GENERATORS = {
    "customers": _customers,
    "revenue": _revenue,
    "conversations": _conversations,
    "events": _events,
    "survey_responses": _survey_responses,
    "social_mentions": _social_mentions,
}
