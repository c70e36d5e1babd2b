"""KPIs of support conversations: abandonment, resolution time, first response time, SLA
attainment and first contact resolution (kpis.md #6, #7, #12 and the efficiency figures)."""
from kpis.definitions import _drilldown as drilldown
from kpis.definitions._sql import CONVERSATION_SEGMENTS, in_days, local_day, not_test_customer
from kpis.registry import HIGHER, LOWER, Kpi, mean_interval, proportion_interval, register_kpi

CONVERSATION_SEGMENT_KEYS = ("channel", "agent", "team", "channel_kind")
HOURS = "EXTRACT(EPOCH FROM (c.resolved_at - c.created_at)) / 3600.0"


class ConversationKpi(Kpi):
    dataset = "conversations"
    datasets = ("customers",)
    segments = CONVERSATION_SEGMENT_KEYS


def conversation_rows(day: str, numerator: str, denominator: str, where: str,
                      source: str = "ingestion_conversation c") -> str:
    """Per-conversation contributions (day, segment columns, numerator, denominator) of
    the non-test conversations of ``source`` matching ``where``."""
    # Byte-wise collation: grouping by these text columns then compares bytes, not
    # locale-aware strings (several times faster; the order is never shown).
    columns = ", ".join(f'{CONVERSATION_SEGMENTS[key]} COLLATE "C" AS {key}' for key in CONVERSATION_SEGMENT_KEYS)
    return f"""
        SELECT {local_day(day)} AS day, {columns}, {numerator} AS numerator, {denominator} AS denominator
        FROM {source}
        WHERE {in_days(day)} AND {not_test_customer('c')} AND {where}"""


def with_squares(rows: str) -> str:
    """``rows`` with the square of each numerator as the column ``sum_squares``: squared
    outside, so a costly numerator (business hours) is computed once per row."""
    return f"SELECT r.*, r.numerator * r.numerator AS sum_squares FROM ({rows}) r"


@register_kpi
class ConversationAbandonmentRate(ConversationKpi):
    """Abandoned conversations / conversations initiated in the period × 100, by created_at;
    per channel and per channel kind (text, voice)."""

    key, label, unit, direction = "conversation_abandonment_rate", "Conversation abandonment", "%", LOWER

    interval = proportion_interval

    def rows_sql(self):
        return conversation_rows("c.created_at", "c.abandoned::int", "1", "TRUE")

    drilldown_band = "Status"

    def drilldown_sql(self, segment):
        """The abandoned conversations created in the period."""
        return drilldown.conversations(segment, band="'abandoned'",
                                       where=f"c.abandoned AND {in_days('c.created_at')}")


# The business hours between c.created_at and c.resolved_at: over every local day the
# conversation spans that is not a holiday, the overlap of [created_at, resolved_at] with
# that weekday's opening hours (local wall-clock times, so DST changes are counted right).
# The calendar comes as parameters (KpiSettings.calendar_params), not from its tables.
# Evaluated only in business-hours mode (otherwise the planner folds the CASE away).
BUSINESS_HOURS = """(
    SELECT coalesce(sum(EXTRACT(EPOCH FROM (
               least(c.resolved_at, (d.day + h.closes_at) AT TIME ZONE %(tz)s)
               - greatest(c.created_at, (d.day + h.opens_at) AT TIME ZONE %(tz)s))) / 3600.0), 0)
    FROM generate_series((c.created_at AT TIME ZONE %(tz)s)::date::timestamp,
                         (c.resolved_at AT TIME ZONE %(tz)s)::date::timestamp, interval '1 day') AS d(day)
    JOIN unnest(%(open_weekdays)s::int[], %(opens_at)s::time[], %(closes_at)s::time[]) AS h(weekday, opens_at, closes_at)
      ON h.weekday = EXTRACT(ISODOW FROM d.day)
    WHERE d.day::date <> ALL(%(holidays)s::date[])
      AND least(c.resolved_at, (d.day + h.closes_at) AT TIME ZONE %(tz)s)
          > greatest(c.created_at, (d.day + h.opens_at) AT TIME ZONE %(tz)s))"""


# A conversation's hours to resolve as the KPI counts them: business hours in that mode,
# else wall-clock (the support efficiency page's median and p90 use it too).
RESOLUTION_HOURS = f"CASE WHEN %(business_hours_mttr)s THEN {BUSINESS_HOURS} ELSE {HOURS} END"


@register_kpi
class MeanTimeToResolution(ConversationKpi):
    """Σ (resolved_at − created_at) / number of conversations resolved in the period, in
    hours, by resolved_at. In business-hours mode (a setting) only the working hours count:
    the workspace's opening hours of each weekday, in its time zone, outside holidays."""

    key, label, unit, direction, scale = "mean_time_to_resolution", "Mean time to resolution", "hours", LOWER, 1.0
    # Means of one value per conversation: Σx² (additive, so it rolls up) gives their t interval.
    extra_columns = ("sum_squares",)
    interval = mean_interval

    def rows_sql(self):
        return with_squares(conversation_rows("c.resolved_at", RESOLUTION_HOURS, "1", "c.resolved_at IS NOT NULL"))

    drilldown_band = "SLA"

    def drilldown_sql(self, segment):
        """The conversations resolved in the period, with their hours to resolve."""
        return drilldown.resolved_conversations(segment)


@register_kpi
class FirstResponseTime(ConversationKpi):
    """Σ (first_response_at − created_at) / conversations created in the period that have a
    first response, in hours."""

    key, label, unit, direction, scale = "first_response_time", "First response time", "hours", LOWER, 1.0
    # Means of one value per conversation: Σx² (additive, so it rolls up) gives their t interval.
    extra_columns = ("sum_squares",)
    interval = mean_interval

    def rows_sql(self):
        return with_squares(conversation_rows(
            "c.created_at", "EXTRACT(EPOCH FROM (c.first_response_at - c.created_at)) / 3600.0", "1",
            "c.first_response_at IS NOT NULL"))

    drilldown_band = "Responded"

    def drilldown_sql(self, segment):
        """The conversations created in the period that have a first response, with its hours."""
        return drilldown.conversations(
            segment, band="'responded'", where=f"c.first_response_at IS NOT NULL AND {in_days('c.created_at')}",
            columns=(f'{drilldown.local_time("c.first_response_at")} AS "First response"',
                     f'{drilldown.hours("c.created_at", "c.first_response_at")} AS "Hours to first response"'))


@register_kpi
class SlaAttainment(ConversationKpi):
    """Conversations resolved within the SLA target (default 24 hours) / conversations
    resolved in the period × 100, by resolved_at."""

    key, label, unit, direction = "sla_attainment", "Resolution SLA attainment", "%", HIGHER

    interval = proportion_interval

    def rows_sql(self):
        return conversation_rows("c.resolved_at", f"({HOURS} <= %(sla_target_hours)s)::int", "1",
                                 "c.resolved_at IS NOT NULL")

    drilldown_band = "SLA"

    def drilldown_sql(self, segment):
        """The conversations resolved in the period, with their hours and whether within the target."""
        return drilldown.resolved_conversations(segment)


@register_kpi
class FirstContactResolution(ConversationKpi):
    """Conversations resolved in one contact / conversations opened in the period × 100, by
    created_at. Resolved in one contact: resolved, contacts = 1, never reopened, and the same
    customer opened no other conversation after it and no later than resolved_at + the
    repeat-contact window (default 7 days). Abandoned conversations are left out of the
    denominator unless the workspace counts them."""

    key, label, unit, direction = "first_contact_resolution", "First contact resolution", "%", HIGHER

    interval = proportion_interval

    def reach(self, settings):
        # A conversation opened on a day can make one opened up to the window (plus the
        # time that one took to resolve: a month is allowed) earlier a repeat contact.
        return settings["repeat_contact_window_days"] + 31, 0

    def rows_sql(self):
        # The customer's next conversation strictly after this one: the first row of the
        # frame starting 1 µs after it (first_value moves the frame head forward: linear,
        # unlike min() over the frame), over the customer's conversations from the period on.
        one_contact = """(c.resolved_at IS NOT NULL AND c.contacts = 1 AND NOT c.reopened
                          AND (c.customer_external_id = '' OR c.next_created IS NULL
                               OR c.next_created > c.resolved_at + make_interval(days => %(repeat_contact_window_days)s)))::int"""
        opened = """(
            SELECT c.*, first_value(c.created_at) OVER (
                       PARTITION BY c.customer_external_id COLLATE "C" ORDER BY c.created_at
                       RANGE BETWEEN '1 microsecond' FOLLOWING AND UNBOUNDED FOLLOWING) AS next_created
            FROM ingestion_conversation c
            WHERE c.created_at >= (%(since)s::timestamp AT TIME ZONE %(tz)s)
        ) c"""
        return conversation_rows("c.created_at", one_contact, "1", "(%(fcr_include_abandoned)s OR NOT c.abandoned)",
                                 source=opened)

    drilldown_band = "First contact"

    def drilldown_sql(self, segment):
        """The conversations opened in the period (the denominator), each marked resolved at
        first contact or missed, with why: not resolved, abandoned, several contacts,
        reopened, or the customer's repeat contact within the window (and when)."""
        repeat = ("(c.customer_external_id <> '' AND c.next_created "
                  "<= c.resolved_at + make_interval(days => %(repeat_contact_window_days)s))")
        why = (f"concat_ws('; ', CASE WHEN c.resolved_at IS NULL THEN 'not resolved' END, "
               f"CASE WHEN c.abandoned THEN 'abandoned' END, "
               f"CASE WHEN c.contacts > 1 THEN c.contacts || ' contacts' END, "
               f"CASE WHEN c.reopened THEN 'reopened' END, "
               f"CASE WHEN {repeat} THEN 'repeat contact' END)")
        first = f"(c.resolved_at IS NOT NULL AND c.contacts = 1 AND NOT c.reopened AND NOT coalesce({repeat}, false))"
        # The customer's next conversation strictly after this one: the first row of the
        # following ones, peers (same created_at) excluded, over conversations from the period on.
        source = f"""(
            SELECT * FROM (
                SELECT c.*, first_value(c.created_at) OVER (
                    PARTITION BY c.customer_external_id ORDER BY c.created_at
                    RANGE BETWEEN CURRENT ROW AND UNBOUNDED FOLLOWING EXCLUDE GROUP) AS next_created
                FROM ingestion_conversation c
                WHERE c.created_at >= (%(since)s::timestamp AT TIME ZONE %(tz)s)) c
            WHERE {in_days('c.created_at')} AND (%(fcr_include_abandoned)s OR NOT c.abandoned)) c"""
        return drilldown.conversations(
            segment, band=f"CASE WHEN {first} THEN 'first contact' ELSE 'missed' END", where="TRUE", source=source,
            columns=(f'{drilldown.local_time("c.resolved_at")} AS "Resolved"', 'c.contacts AS "Contacts"',
                     'c.reopened AS "Reopened"', f'{drilldown.local_time("c.next_created")} AS "Next contact"',
                     f'{why} AS "Why not"'))
