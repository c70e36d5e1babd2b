"""Reads behind a survey's results pages and the responses API: delivery counts, score
summaries, per-question distributions, the filtered responses and their CSV. Every count is
one GROUP BY in PostgreSQL."""
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.db import connection
from django.db.models import Count, Max, Min, Q, QuerySet, Sum

from kpis.periods import periods_between, periods_ending
from kpis.registry import KPIS
from kpis.selectors.values import kpi_series
from surveys.models import SCORE_BANDS, Answer, InvitationStatus, Question, QuestionKind, Response, Survey

# Score bands of the survey's main question (NPS, CSAT), defined once with the models.
BANDS = SCORE_BANDS
BAND_LABELS = {"promoter": "Promoters (9–10)", "passive": "Passives (7–8)", "detractor": "Detractors (0–6)",
               "positive": "Positive (4–5)", "neutral": "Neutral (3)", "negative": "Negative (1–2)"}


def band_of(kind: str, score: int | None) -> str:
    for band, (low, high) in BANDS.get(kind, {}).items():
        if score is not None and low <= score <= high:
            return band
    return ""


def survey_score_kind(survey: Survey) -> str:
    """'nps' or 'csat': the kind of the survey's first score question ('' for none)."""
    for question in survey.questions.all():
        if question.kind in (QuestionKind.NPS, QuestionKind.CSAT):
            return question.kind
    return ""


def delivery_summary(*, survey: Survey) -> dict:
    """Invitations per status, delivered (emailed: sent_at set), answered, the response rate
    (answered / delivered × 100, None before any delivery) and the responses by source."""
    statuses = dict(survey.invitations.values_list("status").annotate(n=Count("id")).order_by())
    counts = survey.invitations.aggregate(
        delivered=Count("id", filter=Q(sent_at__isnull=False)),
        answered=Count("id", filter=Q(sent_at__isnull=False, responded_at__isnull=False)))
    responses = survey.responses.aggregate(
        total=Count("id"), by_email=Count("id", filter=Q(source=Response.Source.EMAIL)),
        by_link=Count("id", filter=Q(source=Response.Source.LINK)),
        completed=Count("id", filter=Q(completed_at__isnull=False)),
        followups_open=Count("id", filter=Q(followup=Response.FollowUp.OPEN)),
        followups_done=Count("id", filter=Q(followup=Response.FollowUp.DONE)),
        held=Count("id", filter=Q(review=Response.Review.PENDING)),
        first=Min("responded_at"), last=Max("responded_at"))
    return {
        "statuses": [(status, label, statuses.get(status, 0)) for status, label in InvitationStatus.choices],
        "invited": sum(statuses.values()),
        "delivered": counts["delivered"], "answered": counts["answered"],
        "response_rate": counts["answered"] / counts["delivered"] * 100 if counts["delivered"] else None,
        "responses": responses,
    }


@dataclass(frozen=True)
class ScoreSummary:
    kind: str  # nps or csat
    responses: int
    bands: list[tuple[str, str, int, float]]  # (band, label, count, share %)
    value: float | None  # NPS, or CSAT % positive
    mean: float | None
    margin: float | None  # 95% margin of error, points


def score_summary(*, survey: Survey, responses: QuerySet | None = None) -> ScoreSummary | None:
    """NPS or CSAT of the survey's main score over ``responses`` (default: all of them),
    with the share of each band and the 95% margin of error."""
    kind = survey_score_kind(survey)
    if not kind:
        return None
    # Held and rejected responses are in no score, as in the KPIs.
    queryset = (responses if responses is not None else survey.responses.all()).counted().filter(score__isnull=False)
    aggregates = {band: Count("id", filter=Q(score__gte=low, score__lte=high)) for band, (low, high) in BANDS[kind].items()}
    figures = queryset.aggregate(total=Count("id"), score_sum=Sum("score"), **aggregates)
    total = figures["total"]
    bands = [(band, BAND_LABELS[band], figures[band], figures[band] / total * 100 if total else 0.0) for band in BANDS[kind]]
    if not total:
        return ScoreSummary(kind, 0, bands, None, None, None)
    # The KPI's own figures (numerator, denominator, *extra_columns), as its SQL counts them.
    kpi = KPIS[kind]
    numerator = figures["promoter"] - figures["detractor"] if kind == "nps" else figures["positive"]
    extras = {"promoters": figures.get("promoter"), "detractors": figures.get("detractor"),
              "score_sum": figures["score_sum"]}
    kpi_figures = (numerator, total, *(extras[name] for name in kpi.extra_columns))
    return ScoreSummary(kind, total, bands, kpi.value(numerator, total), figures["score_sum"] / total,
                        kpi.margin(kpi_figures))


def question_summaries(*, survey: Survey) -> list[dict]:
    """Per question: how many answered it, and the distribution of its answers (scores and
    options with counts, in the scale's order; for free text the number of answers and the
    latest five). Three queries whatever the number of questions."""
    questions = list(survey.questions.all())
    # Held and rejected responses' answers are left out, as from the scores.
    counted = Q(question__survey=survey, response__review__in=Response.COUNTED_REVIEWS)
    answered = dict(Answer.objects.filter(counted).values_list("question").annotate(n=Count("id"))
                    .order_by())
    scores: dict[int, dict[int, int]] = {}
    for question_id, score, n in (Answer.objects.filter(counted, score__isnull=False)
                                  .values_list("question", "score").annotate(n=Count("id")).order_by()):
        scores.setdefault(question_id, {})[score] = n
    with connection.cursor() as cursor:
        # Multiple-choice answers are JSON lists: one row per chosen option.
        cursor.execute("""
            SELECT a.question_id, choice, count(*) FROM surveys_answer a
            JOIN surveys_question q ON q.id = a.question_id
            JOIN surveys_response p ON p.id = a.response_id AND p.review IN ('', 'accepted'),
            jsonb_array_elements_text(a.choices) AS choice
            WHERE q.survey_id = %s GROUP BY 1, 2""", [survey.pk])
        chosen: dict[int, dict[str, int]] = {}
        for question_id, choice, n in cursor.fetchall():
            chosen.setdefault(question_id, {})[choice] = n
    texts: dict[int, list] = {}
    text_ids = [q.pk for q in questions if q.kind == QuestionKind.TEXT]
    if text_ids:
        # Five per question: a window over the text answers rather than a query each.
        with connection.cursor() as cursor:
            cursor.execute("""
                SELECT question_id, text, answered_at, response_id FROM (
                  SELECT a.question_id, a.text, a.answered_at, a.response_id,
                         row_number() OVER (PARTITION BY a.question_id ORDER BY a.answered_at DESC) AS n
                  FROM surveys_answer a JOIN surveys_response p ON p.id = a.response_id AND p.review IN ('', 'accepted')
                  WHERE a.question_id = ANY(%s) AND a.text <> '') latest
                WHERE n <= 5 ORDER BY question_id, answered_at DESC""", [text_ids])
            for question_id, text, answered_at, response_id in cursor.fetchall():
                texts.setdefault(question_id, []).append({"text": text, "answered_at": answered_at,
                                                          "response_id": response_id})
    summaries = []
    for question in questions:
        total = answered.get(question.pk, 0)
        rows = []
        if question.score_range:
            low, high = question.score_range
            labels = question.choices if question.kind == QuestionKind.RATING else []
            counts = scores.get(question.pk, {})
            score_total = sum(counts.values())
            for score in range(low, high + 1):
                label = labels[score - 1] if labels and score - 1 < len(labels) else str(score)
                n = counts.get(score, 0)
                rows.append((label, n, n / score_total * 100 if score_total else 0.0))
        elif question.kind in (QuestionKind.SINGLE, QuestionKind.MULTIPLE):
            counts = chosen.get(question.pk, {})
            for option in question.choices:
                n = counts.get(option, 0)
                rows.append((option, n, n / total * 100 if total else 0.0))
        summaries.append({"question": question, "answered": total, "rows": rows, "texts": texts.get(question.pk, [])})
    return summaries


def survey_trend(*, survey: Survey, today: date, months: int = 12) -> list[dict]:
    """The survey's NPS or CSAT per month over the last ``months`` months, as the KPI engine
    computed it (its snapshots split by survey): [{period_start, value, denominator}]."""
    kind = survey_score_kind(survey)
    if not kind:
        return []
    first, current = (shown := periods_ending("month", today, months))[0], shown[-1]
    rows = kpi_series(key=kind, period="month", start=first.start, end=current.end, segment="survey")
    found = {row["period_start"]: row for row in rows if row["segment"] == str(survey.pk)}
    series = []
    for period in periods_between("month", first.start, current.end):
        row = found.get(period.start)
        series.append({"period_start": period.start, "value": row["value"] if row else None,
                       "denominator": row["denominator"] if row else 0})
    return series


@dataclass(frozen=True)
class ResponseFilters:
    band: str = ""
    channel: str = ""
    agent: str = ""
    since: date | None = None  # local dates, inclusive
    until: date | None = None
    followup: str = ""  # open, done, mine
    source: str = ""
    q: str = ""


def responses_filtered(*, survey: Survey, filters: ResponseFilters, user=None) -> QuerySet[Response]:
    """The survey's responses matching ``filters``, newest first. Dates are local days of
    the workspace (inclusive)."""
    queryset = survey.responses.select_related("invitation", "followup_assignee").order_by("-responded_at", "-pk")
    kind = survey_score_kind(survey)
    if filters.band and filters.band in BANDS.get(kind, {}):
        low, high = BANDS[kind][filters.band]
        queryset = queryset.filter(score__gte=low, score__lte=high)
    if filters.channel:
        queryset = queryset.filter(channel=filters.channel)
    if filters.agent:
        queryset = queryset.filter(agent=filters.agent)
    zone = ZoneInfo(connection.tenant.time_zone)
    if filters.since:
        queryset = queryset.filter(responded_at__gte=datetime.combine(filters.since, time(), zone))
    if filters.until:
        queryset = queryset.filter(responded_at__lt=datetime.combine(filters.until + timedelta(days=1), time(), zone))
    if filters.followup == "mine" and user is not None:
        queryset = queryset.filter(followup=Response.FollowUp.OPEN, followup_assignee=user)
    elif filters.followup in (Response.FollowUp.OPEN, Response.FollowUp.DONE):
        queryset = queryset.filter(followup=filters.followup)
    if filters.source in Response.Source.values:
        queryset = queryset.filter(source=filters.source)
    if filters.q:
        queryset = queryset.filter(Q(comment__icontains=filters.q) | Q(email__icontains=filters.q)
                                   | Q(customer_external_id__icontains=filters.q))
    return queryset


def response_filter_options(*, survey: Survey) -> dict[str, list[str]]:
    """The channels and agents the survey's responses carry (for the filter selects)."""
    def distinct(field):
        return list(survey.responses.exclude(**{field: ""}).order_by(field).values_list(field, flat=True).distinct()[:200])

    return {"channels": distinct("channel"), "agents": distinct("agent")}


def response_answers(*, response: Response) -> list[tuple[Question, Answer | None]]:
    """Each question of the survey with this response's answer (None when skipped)."""
    answers = {answer.question_id: answer for answer in response.answers.all()}
    return [(question, answers.get(question.pk)) for question in response.survey.questions.all()]


def answer_value(question: Question, answer: Answer | None):
    """An answer as it reads in lists, CSV and the API: a score, a choice (or the choices
    joined by '; '), a text; None when not answered."""
    if answer is None:
        return None
    if question.kind in (QuestionKind.NPS, QuestionKind.CSAT, QuestionKind.RATING):
        return answer.score
    if question.kind == QuestionKind.SINGLE:
        return answer.choices[0] if answer.choices else None
    if question.kind == QuestionKind.MULTIPLE:
        return list(answer.choices)
    return answer.text


def responses_rows(*, survey: Survey, queryset: QuerySet[Response], chunk: int = 2000) -> Iterator[tuple[Response, dict]]:
    """(response, {question key: value}) for every response of ``queryset``, answers read in
    chunks with one prefetch query per chunk."""
    questions = {q.pk: q for q in survey.questions.all()}
    for response in queryset.prefetch_related("answers").iterator(chunk_size=chunk):
        values = {question.key: None for question in questions.values()}
        for answer in response.answers.all():
            question = questions.get(answer.question_id)
            if question is not None:
                values[question.key] = answer_value(question, answer)
        yield response, values


def responses_csv(*, survey: Survey, queryset: QuerySet[Response]) -> Iterator[str]:
    """The responses as CSV lines: one column per question (by key, headed by its text),
    then who, when and where; every cell escaped against formula injection."""
    from ingestion.csvfiles import csv_line

    zone = ZoneInfo(connection.tenant.time_zone)
    questions = list(survey.questions.all())
    yield csv_line(["response_id", "responded_at", "updated_at", "completed", "source", "email", "customer_external_id",
                    "channel", "agent", "score", "band", "followup", "followup_assignee",
                    *(f"{q.key}: {q.text}" for q in questions)])
    kind = survey_score_kind(survey)
    for response, values in responses_rows(survey=survey, queryset=queryset):
        cells = [str(response.pk), response.responded_at.astimezone(zone).isoformat(),
                 response.updated_at.astimezone(zone).isoformat(), "yes" if response.completed_at else "no",
                 response.source, response.email, response.customer_external_id, response.channel, response.agent,
                 response.score, band_of(kind, response.score), response.followup,
                 response.followup_assignee.email if response.followup_assignee else ""]
        for question in questions:
            value = values[question.key]
            cells.append("; ".join(value) if isinstance(value, list) else value)
        yield csv_line(cells)
