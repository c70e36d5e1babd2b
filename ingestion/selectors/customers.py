"""Reads behind the one-customer view (``/customers/<external id>/``) and the customer search.

A customer is one ``external_id`` of the customers dataset; the other datasets name them
by that id (``customer_external_id``; events: ``user_external_id``), and survey answers
collected by Pulse also by the address they were sent to. Rows may name a customer the
customers dataset does not have (files arrive in any order), so the page is shown when any
dataset knows the id, and is a 404 only when none does.

Each section is one query whatever the customer's history (every count, sum and series in
PostgreSQL), so the page costs a fixed handful of queries: a customer with 5,000
conversations costs what one with 5 does. Everything runs in the current workspace's
schema (django-tenants' search_path): another workspace's customer with the same id is
never read."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.db import connection
from django.db.models import Case, CharField, F, Func, IntegerField, Q, QuerySet, Value, When
from django.db.models.functions import Lower

from ingestion.models import Customer
from surveys.models import SCORE_BANDS, Response

CONVERSATIONS_PAGE_SIZE = 25
# A customer answers a few surveys a year: the newest ones are shown, the count says if
# more exist (their full list is on each survey's responses page).
ANSWERS_LIMIT = 100
ACTIVITY_WEEKS = 12


def _rows(sql: str, params: dict) -> list[dict]:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        names = [column.name for column in cursor.description]
        return [dict(zip(names, row)) for row in cursor.fetchall()]


def _local_midnight(day: date, time_zone: str) -> datetime:
    return datetime.combine(day, time.min, tzinfo=ZoneInfo(time_zone))


# --- search -------------------------------------------------------------------------------

def _unaccent(expression):
    """``lower(unaccent(x))``: accents off before lower-casing, so "É" and "é" both become
    "e" whatever the database's ctype. ``unaccent`` is in public (tenants migration 0002)."""
    return Lower(Func(expression, function="unaccent", output_field=CharField()))


def customer_search(*, query: str) -> QuerySet[Customer]:
    """Customers matching ``query``: the external id exactly or as a prefix (ids are
    case-sensitive, as imports key them), the email case-insensitively (any part of it),
    or the name ignoring case and accents ("rene" finds "Renée"). Best matches first: the
    exact id, then id prefixes, then the exact email, then by name."""
    query = query.strip()
    return (Customer.objects
            .annotate(plain_name=_unaccent(F("name")))
            .filter(Q(external_id__startswith=query) | Q(email__icontains=query)
                    | Q(plain_name__contains=_unaccent(Value(query, output_field=CharField()))))
            .annotate(rank=Case(When(external_id=query, then=0), When(external_id__startswith=query, then=1),
                                When(email__iexact=query, then=2), default=3, output_field=IntegerField()))
            .order_by("rank", "name", "external_id")
            .only("external_id", "name", "email", "plan", "signed_up_at", "churned_at", "is_test", "country"))


# --- the customer page --------------------------------------------------------------------

def customer_get(*, external_id: str) -> Customer | None:
    return Customer.objects.filter(external_id=external_id).first()


def customer_mrr_history(*, external_id: str) -> list[dict]:
    """One row per month and currency from the customer's first revenue month to their
    last: MRR summed over their products, the products billed, and the change from the
    month before. A month inside that span with no row is a month at 0 (the customer paid
    nothing), not a gap, so the chart shows churn and win-back as they were."""
    return _rows("""
        WITH billed AS (
            SELECT month, currency, sum(mrr) AS mrr, count(*) AS products,
                   string_agg(product, ', ' ORDER BY product) AS product_names
            FROM ingestion_revenue WHERE customer_external_id = %(id)s
            GROUP BY month, currency),
        months AS (SELECT generate_series(min(month), max(month), interval '1 month')::date AS month FROM billed),
        currencies AS (SELECT DISTINCT currency FROM billed)
        SELECT m.month, c.currency, coalesce(b.mrr, 0) AS mrr, coalesce(b.products, 0) AS products,
               coalesce(b.product_names, '') AS product_names,
               coalesce(b.mrr, 0) - lag(coalesce(b.mrr, 0)) OVER (PARTITION BY c.currency ORDER BY m.month) AS change
        FROM months m CROSS JOIN currencies c
        LEFT JOIN billed b ON b.month = m.month AND b.currency = c.currency
        ORDER BY m.month, c.currency""", {"id": external_id})


@dataclass
class ConversationPage:
    rows: list[dict]
    number: int
    page_size: int
    total: int = 0
    open: int = 0
    abandoned: int = 0
    mean_resolution_hours: float | None = None
    first: datetime | None = None
    last: datetime | None = None

    @property
    def has_next(self) -> bool:
        return self.number * self.page_size < self.total

    @property
    def has_previous(self) -> bool:
        return self.number > 1

    @property
    def start_index(self) -> int:
        return (self.number - 1) * self.page_size + 1

    @property
    def end_index(self) -> int:
        return self.start_index + len(self.rows) - 1


def customer_conversations(*, external_id: str, page: int = 1,
                           page_size: int = CONVERSATIONS_PAGE_SIZE) -> ConversationPage:
    """One page of the customer's conversations, newest first, with their hours to first
    response and to resolution (wall-clock), and the totals over all of them (count, still
    open, abandoned, mean resolution hours, first and last contact) computed by window
    functions in the same query.

    Conversations have no index on customer_external_id (ingestion.models: it doubled the
    cost of imports), so this is one scan of the workspace's conversations: ~30 ms for the
    demo's 100,000."""
    rows = _rows("""
        SELECT id, external_id, channel, agent, team, created_at, first_response_at, resolved_at,
               contacts, reopened, abandoned, csat_score, subject,
               EXTRACT(EPOCH FROM (first_response_at - created_at)) / 3600.0 AS first_response_hours,
               EXTRACT(EPOCH FROM (resolved_at - created_at)) / 3600.0 AS resolution_hours,
               count(*) OVER () AS total,
               count(*) FILTER (WHERE resolved_at IS NULL AND NOT abandoned) OVER () AS open_total,
               count(*) FILTER (WHERE abandoned) OVER () AS abandoned_total,
               avg(EXTRACT(EPOCH FROM (resolved_at - created_at)) / 3600.0) OVER () AS mean_resolution_hours,
               min(created_at) OVER () AS first_at, max(created_at) OVER () AS last_at
        FROM ingestion_conversation WHERE customer_external_id = %(id)s
        ORDER BY created_at DESC, id DESC LIMIT %(limit)s OFFSET %(offset)s""",
                 {"id": external_id, "limit": page_size, "offset": (page - 1) * page_size})
    result = ConversationPage(rows=rows, number=page, page_size=page_size)
    if rows:
        head = rows[0]
        result.total, result.open, result.abandoned = head["total"], head["open_total"], head["abandoned_total"]
        result.mean_resolution_hours, result.first, result.last = (
            head["mean_resolution_hours"], head["first_at"], head["last_at"])
    return result


def band_of(kind: str, score: int | None) -> str:
    """promoter / passive / detractor (NPS) or positive / neutral / negative (CSAT), from
    the bands defined once with the survey models."""
    for band, (low, high) in SCORE_BANDS.get(kind, {}).items():
        if score is not None and low <= score <= high:
            return band
    return ""


def customer_survey_answers(*, external_id: str, email: str = "") -> list[dict]:
    """The customer's survey answers, newest first (at most ``ANSWERS_LIMIT`` + 1, so the
    page can say there are more): imported ``survey_responses`` rows and answers to Pulse's
    own surveys — those given for this customer id, or sent to the customer's email when
    the invitation carried no id (a pasted list) — with the survey, the follow-up and its
    assignee, and whether the answer counts (held or rejected scanner hits do not)."""
    rows = _rows("""
        SELECT * FROM (
            SELECT 'imported' AS source, r.id::text AS id, r.external_id, NULL::bigint AS survey_id,
                   '' AS survey_name, r.kind, r.score, r.responded_at, r.comment, r.channel, r.agent,
                   '' AS followup, '' AS assignee, '' AS review
            FROM ingestion_surveyresponse r WHERE r.customer_external_id = %(id)s
            UNION ALL
            SELECT 'survey', p.id::text, '', s.id, s.name, p.score_kind, p.score, p.responded_at, p.comment,
                   p.channel, p.agent, p.followup, coalesce(nullif(u.full_name, ''), u.email, ''), p.review
            FROM surveys_response p JOIN surveys_survey s ON s.id = p.survey_id
            LEFT JOIN accounts_user u ON u.id = p.followup_assignee_id
            WHERE p.customer_external_id = %(id)s
               OR (%(email)s <> '' AND p.customer_external_id = '' AND lower(p.email) = %(email)s)
        ) answers ORDER BY responded_at DESC, id LIMIT %(limit)s""",
                 {"id": external_id, "email": email.strip().lower(), "limit": ANSWERS_LIMIT + 1})
    for row in rows:
        row["band"] = band_of(row["kind"], row["score"])
        row["counted"] = row["review"] in Response.COUNTED_REVIEWS
    return rows


def nps_band_history(answers: list[dict]) -> list[dict]:
    """The customer's counted NPS answers, oldest first, each with its band: their NPS band
    over time. Read from the answers the page already has (no query)."""
    return [row for row in reversed(answers) if row["kind"] == "nps" and row["score"] is not None and row["counted"]]


@dataclass
class Activity:
    active_days_30: int = 0
    active_days_90: int = 0
    events_30: int = 0
    events_90: int = 0
    events: int = 0
    first_seen: datetime | None = None
    last_seen: datetime | None = None
    top_events: list = field(default_factory=list)  # [(name, count)] over the last 90 days
    weeks: list[dict] = field(default_factory=list)  # [{"week", "active_days", "events"}]


def customer_activity(*, external_id: str, today: date, time_zone: str) -> Activity:
    """The customer's product events: active days (local days with an event) and events
    in the 30 and 90 local days ending today, first and last seen, the most frequent
    events of the last 90 days, and active days per ISO week over the last
    ``ACTIVITY_WEEKS`` weeks (weeks without an event included, at 0). Two queries, both on
    the (user_external_id, occurred_at) index."""
    params = {"id": external_id, "tz": time_zone,
              "since_30": _local_midnight(today - timedelta(days=29), time_zone),
              "since_90": _local_midnight(today - timedelta(days=89), time_zone),
              "until": _local_midnight(today + timedelta(days=1), time_zone)}
    [summary] = _rows("""
        WITH recent AS (
            SELECT name, count(*) AS n FROM ingestion_event
            WHERE user_external_id = %(id)s AND occurred_at >= %(since_90)s AND occurred_at < %(until)s
            GROUP BY name ORDER BY n DESC, name LIMIT 5)
        SELECT count(DISTINCT (occurred_at AT TIME ZONE %(tz)s)::date)
                   FILTER (WHERE occurred_at >= %(since_30)s AND occurred_at < %(until)s) AS active_days_30,
               count(DISTINCT (occurred_at AT TIME ZONE %(tz)s)::date)
                   FILTER (WHERE occurred_at >= %(since_90)s AND occurred_at < %(until)s) AS active_days_90,
               count(*) FILTER (WHERE occurred_at >= %(since_30)s AND occurred_at < %(until)s) AS events_30,
               count(*) FILTER (WHERE occurred_at >= %(since_90)s AND occurred_at < %(until)s) AS events_90,
               count(*) AS events, min(occurred_at) AS first_seen, max(occurred_at) AS last_seen,
               (SELECT coalesce(json_agg(json_build_array(name, n) ORDER BY n DESC, name), '[]') FROM recent) AS top_events
        FROM ingestion_event WHERE user_external_id = %(id)s""", params)
    this_week = today - timedelta(days=today.weekday())
    first_week = this_week - timedelta(weeks=ACTIVITY_WEEKS - 1)
    weeks = _rows("""
        WITH weeks AS (SELECT generate_series(%(first_week)s::date, %(this_week)s::date, interval '7 days')::date AS week),
        days AS (
            SELECT (occurred_at AT TIME ZONE %(tz)s)::date AS day FROM ingestion_event
            WHERE user_external_id = %(id)s AND occurred_at >= %(since)s AND occurred_at < %(until)s)
        SELECT w.week, count(DISTINCT d.day) AS active_days, count(d.day) AS events
        FROM weeks w LEFT JOIN days d ON date_trunc('week', d.day)::date = w.week
        GROUP BY w.week ORDER BY w.week""",
                  {**params, "first_week": first_week, "this_week": this_week,
                   "since": _local_midnight(first_week, time_zone)})
    return Activity(**{**summary, "top_events": [tuple(pair) for pair in summary["top_events"]]}, weeks=weeks)
