"""Answering a survey: the public pages' writes (their reads, the token check first, are
``surveys.selectors.answering``).

A first answer (the score clicked in the email, or the first submit) is ONE statement, a
``WITH … INSERT … ON CONFLICT`` that writes the Response, its Answers, marks the
invitation responded and records the KPI day (``TouchedDay``, workspace-local day of
``responded_at``); it needs no transaction of its own.

An edit (or a first answer that lost a race) runs in a transaction:

1. the same statement, which finds the existing row: its ``DO UPDATE`` takes the row
   lock, so two submits of one invitation arriving together are serialised by PostgreSQL
   and yield one Response, the second editing what the first stored;
2. the stored answers;
3. one bulk upsert of the answers given, and a delete of the ones cleared;
4. the response's denormalised fields (score, comment, follow-up, completed_at…);
5. ``TouchedDay`` when an NPS/CSAT answer changed.

The public answer endpoint is benchmarked (``bench/_surveys_answering.py``), which is why
this is not written as get-or-create plus one save per answer.
"""
import json
import uuid
from datetime import datetime

from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.utils import timezone

from ingestion.touched import local_day_sql, touched_days_record, touched_days_sql
from surveys.models import FOLLOW_UP_BANDS, SCORE_BANDS, Answer, Invitation, InvitationStatus, Question, QuestionKind, Response, Survey
from surveys.selectors.answering import SCORE_KINDS, survey_questions, survey_score_question
from surveys.services.answer_values import AnswerValue, answers_clean, answers_missing, is_blank
from surveys.services.kpi_days import SURVEY_INVITATIONS, SURVEY_RESPONSES
from tenants.webhooks.events import webhook_response_created

CHANNEL_MAX_CHARS = Response._meta.get_field("channel").max_length
AGENT_MAX_CHARS = Response._meta.get_field("agent").max_length

# Detractors (NPS 0–6) and unhappy customers (CSAT 1–2) get a follow-up.
FOLLOWUP_BANDS = {kind: range(SCORE_BANDS[kind][band][0], SCORE_BANDS[kind][band][1] + 1)
                  for kind, band in FOLLOW_UP_BANDS.items()}


class HeldSubmission(Exception):
    """A suspect submission that would overwrite an answer that counts: nothing stored."""

    def __init__(self, reasons):
        super().__init__(", ".join(reasons))
        self.reasons = list(reasons)



# ---------------------------------------------------------------- writes

def _followup(*, kind: str, score: int | None, current: str, assigned: bool) -> str:
    """Close the loop: a detractor or unhappy score opens a follow-up when it is stored; a
    score edited out of that band closes it again, but only while nobody took it on."""
    in_band = score is not None and kind in FOLLOWUP_BANDS and score in FOLLOWUP_BANDS[kind]
    if in_band and current == Response.FollowUp.NONE:
        return Response.FollowUp.OPEN
    if not in_band and current == Response.FollowUp.OPEN and not assigned:
        return Response.FollowUp.NONE
    return current


# One statement for a first answer: the response row, its answers, the invitation marked
# responded (unsubscribed stays so: B's lists rely on it; the answer shows in responded_at
# and the response) and the KPI day to recompute. A held answer (a link scanner's, by the
# look of it) leaves the invitation unanswered: reminders still go to the person, and the
# response rate does not count it. An existing response is only locked
# (the DO UPDATE takes the row lock) and returned: the caller then edits it.
_UPSERT = """
    WITH r AS (
        INSERT INTO surveys_response AS r (
            id, survey_id, invitation_id, source, browser_key, customer_external_id, email, channel, agent,
            survey_version, score, score_kind, comment, responded_at, updated_at, completed_at,
            followup, followup_note, review, review_reasons
        ) VALUES (%(id)s, %(survey)s, %(invitation)s, %(source)s, %(browser_key)s, %(customer)s, %(email)s,
                  %(channel)s, %(agent)s, %(version)s, %(score)s, %(score_kind)s, %(comment)s, %(now)s, %(now)s,
                  %(completed_at)s, %(followup)s, '', %(review)s, %(review_reasons)s::jsonb)
        ON CONFLICT {target} DO UPDATE SET updated_at = EXCLUDED.updated_at
        RETURNING r.id, (r.xmax = 0) AS inserted, r.responded_at, r.completed_at, r.followup,
                  r.followup_assignee_id IS NOT NULL AS assigned, r.channel, r.agent, r.review
    ), answers AS (
        INSERT INTO surveys_answer (response_id, question_id, score, choices, text, answered_at)
        SELECT r.id, a.question_id, a.score, a.choices, a.text, %(now)s
        FROM r, jsonb_to_recordset(%(answers)s::jsonb) AS a(question_id bigint, score smallint, choices jsonb, text text)
        WHERE r.inserted
    ), invitation AS (
        UPDATE surveys_invitation AS i
        SET responded_at = r.responded_at,
            status = CASE WHEN i.status = 'unsubscribed' THEN i.status ELSE 'responded' END
        FROM r WHERE r.inserted AND %(counted)s AND i.id = %(invitation)s AND i.responded_at IS NULL
        RETURNING i.sent_at
    ), touched_rate AS (
        -- The response rate of the day the invitation was emailed changes.{touched_rate}
    ), touched AS ({touched}
    )
    SELECT * FROM r
""".replace("{touched_rate}", touched_days_sql(dataset="%(rate_dataset)s", day=local_day_sql("invitation.sent_at"),
                                              source="invitation")
           ).replace("{touched}", touched_days_sql(dataset="%(dataset)s", day=local_day_sql("r.responded_at"),
                                                   source="r WHERE r.inserted AND %(touch)s"))
# The conflict targets: the OneToOne's unique index, and the partial unique index of the
# public link (its predicate must be repeated for PostgreSQL to infer the index).
_BY_INVITATION = "(invitation_id)"
_BY_BROWSER = "(survey_id, browser_key) WHERE browser_key <> ''"


def response_save(*, survey: Survey, answers: dict, invitation: Invitation | None = None,
                  browser_key: str | None = None, channel: str = "", agent: str = "", complete: bool = True,
                  questions: list[Question] | None = None, now: datetime | None = None,
                  flag_reasons: list[str] | tuple = ()) -> Response:
    """Store ``answers`` (question key → raw value: a string, a list for multiple choice)
    as the response of ``invitation``, or of the browser ``browser_key`` on the public link.

    Only the questions named in ``answers`` change (an empty value clears an answer), so
    the one-click score and a full form share this path. ``complete`` is the submit of the
    whole form: required questions must then be answered (counting answers stored before)
    and ``completed_at`` is set. Raises ValidationError({question key: [message]}) and
    stores nothing when an answer is invalid. Pass ``questions`` when the caller already
    loaded them (they must be the survey's, in order).

    ``flag_reasons`` (surveys.services.scanner): the submission looked like a link
    scanner's. A new response is then kept but held for review (``review = pending``, in
    no KPI); a response that counts already is not overwritten by it (raises
    ``HeldSubmission``: a scanner re-fetching the link must not replace a person's answer).
    A clean submission makes a held response count again."""
    if (invitation is None) == (not browser_key):
        raise ValueError("a response belongs to an invitation or to a browser key, not both or neither")
    questions = survey_questions(survey) if questions is None else questions
    cleaned, errors = answers_clean(questions, answers)
    if errors:
        raise ValidationError(errors)
    nothing = {"__all__": ["Answer at least one question."]}
    given_any = any(not value.empty for value in cleaned.values())
    if not complete and not given_any:
        raise ValidationError(nothing)
    now = now or timezone.now()
    by_key = {q.key: q for q in questions}
    score_question = survey_score_question(questions)
    comment_question = next((q for q in questions if q.kind == QuestionKind.TEXT), None)
    upsert = dict(survey=survey, invitation=invitation, browser_key=browser_key, channel=channel[:CHANNEL_MAX_CHARS],
                  agent=agent[:AGENT_MAX_CHARS], cleaned=cleaned, score_question=score_question,
                  comment_question=comment_question, complete=complete, now=now, by_key=by_key,
                  flag_reasons=tuple(flag_reasons))
    missing_now = answers_missing(questions, cleaned) if complete else {}

    # An invitation not answered yet: its first answer is one statement, atomic by itself,
    # so no transaction is opened (two round trips fewer on the benchmarked path). Had a
    # concurrent request answered first, the statement changed nothing but updated_at and
    # the answers are merged into that response below.
    if invitation is not None and invitation.responded_at is None and given_any and not missing_now:
        state = _response_upsert(**upsert)
        if state["inserted"]:
            return _saved(state, survey=survey, invitation=invitation, now=now)

    with transaction.atomic():
        state = _response_upsert(**upsert)
        if state["inserted"]:
            if missing_now or not given_any:  # rolls the insert back: nothing is stored
                raise ValidationError(missing_now or nothing)
            return _saved(state, survey=survey, invitation=invitation, now=now)
        response_id = state["id"]
        counted_before = state["review"] in Response.COUNTED_REVIEWS
        if flag_reasons and counted_before:
            raise HeldSubmission(flag_reasons)
        if flag_reasons:
            review = Response.Review.REJECTED if state["review"] == Response.Review.REJECTED else Response.Review.PENDING
        else:
            review = Response.Review.ACCEPTED if state["review"] == Response.Review.ACCEPTED else Response.Review.NONE
        counted_after = review in Response.COUNTED_REVIEWS
        key_of = {q.pk: q.key for q in questions}
        stored = {key_of[a.question_id]: a for a in Answer.objects.filter(response_id=response_id)
                  if a.question_id in key_of}

        # The answers as they will be once saved: required questions and the response's
        # denormalised fields are judged on that, not on this request alone.
        final = {key: AnswerValue(a.score, a.choices, a.text) for key, a in stored.items()}
        final.update(cleaned)
        if complete:
            missing = answers_missing(questions, final)
            if missing:
                raise ValidationError(missing)
            if all(value.empty for value in final.values()):
                raise ValidationError(nothing)

        to_write, to_delete, score_changed = [], [], False
        for key, value in cleaned.items():
            old = stored.get(key)
            if value.empty:
                if old is not None:
                    to_delete.append(old.pk)
                    score_changed |= by_key[key].kind in SCORE_KINDS
                continue
            if old is not None and (old.score, old.choices, old.text) == (value.score, value.choices or [], value.text):
                continue
            to_write.append(Answer(response_id=response_id, question=by_key[key], score=value.score,
                                   choices=value.choices or [], text=value.text, answered_at=now))
            score_changed |= by_key[key].kind in SCORE_KINDS
        if to_write:
            # answered_at is the time of the last change of that answer.
            Answer.objects.bulk_create(to_write, update_conflicts=True, unique_fields=["response", "question"],
                                       update_fields=["score", "choices", "text", "answered_at"])
        if to_delete:
            Answer.objects.filter(pk__in=to_delete).delete()

        score, score_kind, comment = _denormalised(final, score_question, comment_question)
        followup = (_followup(kind=score_kind, score=score, current=state["followup"], assigned=state["assigned"])
                    if counted_after else state["followup"])
        Response.objects.filter(pk=response_id).update(
            score=score, score_kind=score_kind, comment=comment, updated_at=now, followup=followup,
            survey_version=survey.version, completed_at=state["completed_at"] or (now if complete else None),
            review=review, review_reasons=sorted(flag_reasons))
        if (score_changed and (counted_before or counted_after)) or counted_before != counted_after:
            touched_days_record(dataset=SURVEY_RESPONSES, moments=[state["responded_at"]])
        if counted_before != counted_after and invitation is not None:
            # A person's answer onto a held one: the invitation is answered now.
            invitations_mark_answered(response_ids=[response_id], answered=counted_after)
            invitation.responded_at = state["responded_at"] if counted_after else None

    return Response(id=response_id, survey=survey, invitation=invitation, responded_at=state["responded_at"],
                    updated_at=now, score=score, score_kind=score_kind, comment=comment, followup=followup,
                    channel=state["channel"], agent=state["agent"], review=review, review_reasons=sorted(flag_reasons))


_MARK_ANSWERED = """
    UPDATE surveys_invitation AS i
    SET responded_at = r.responded_at,
        status = CASE WHEN i.status = 'unsubscribed' THEN i.status ELSE 'responded' END
    FROM surveys_response r
    WHERE r.invitation_id = i.id AND r.id = ANY(%s) AND i.responded_at IS NULL
    RETURNING i.sent_at"""
_MARK_UNANSWERED = """
    UPDATE surveys_invitation AS i
    SET responded_at = NULL, status = CASE WHEN i.status = 'responded' THEN 'sent' ELSE i.status END
    FROM surveys_response r
    WHERE r.invitation_id = i.id AND r.id = ANY(%s) AND i.responded_at IS NOT NULL
    RETURNING i.sent_at"""


def invitations_mark_answered(*, response_ids: list, answered: bool) -> int:
    """Mark the invitations of ``response_ids`` answered (their response counts now: a
    person's answer onto a held one, a held one accepted) or unanswered again (an accepted
    one rejected), and the response-rate days of their sending touched. Returns how many
    invitations changed. Run it inside the caller's transaction."""
    with connection.cursor() as cursor:
        cursor.execute(_MARK_ANSWERED if answered else _MARK_UNANSWERED, [list(response_ids)])
        sent = [row[0] for row in cursor.fetchall()]
    touched_days_record(dataset=SURVEY_INVITATIONS, moments=sent)
    return len(sent)


def _saved(state: dict, *, survey, invitation, now) -> Response:
    """The response the upsert statement inserted, with everything it wrote."""
    if invitation is not None and state["review"] in Response.COUNTED_REVIEWS:
        invitation.responded_at = now
        if invitation.status != InvitationStatus.UNSUBSCRIBED:
            invitation.status = InvitationStatus.RESPONDED
    response = Response(id=state["id"], survey=survey, invitation=invitation, responded_at=state["responded_at"],
                        updated_at=now, score=state["score"], score_kind=state["score_kind"], comment=state["comment"],
                        followup=state["followup"], channel=state["channel"], agent=state["agent"],
                        review=state["review"])
    webhook_response_created(response=response)
    return response


def _denormalised(final: dict, score_question, comment_question) -> tuple[int | None, str, str]:
    score_value = final.get(score_question.key) if score_question else None
    score = score_value.score if score_value else None
    comment_value = final.get(comment_question.key) if comment_question else None
    return score, (score_question.kind if score is not None else ""), (comment_value.text if comment_value else "")


def _response_upsert(*, survey, invitation, browser_key, channel, agent, cleaned, score_question,
                     comment_question, complete, now, by_key, flag_reasons) -> dict:
    """Insert the response and its answers, with its fields computed from this request's
    answers (right for a new response, which has no others), or lock the existing one and
    return its state."""
    score, score_kind, comment = _denormalised(cleaned, score_question, comment_question)
    if invitation is not None:
        target, source = _BY_INVITATION, Response.Source.EMAIL
        identity = [invitation.pk, source, "", invitation.customer_external_id, invitation.email,
                    invitation.channel, invitation.agent]
    else:
        target, source = _BY_BROWSER, Response.Source.LINK
        identity = [None, source, browser_key, "", "", channel, agent]
    # A held answer opens no follow-up: nobody should call a customer about a scanner's
    # score (accepting it opens one, surveys.services.scanner.responses_review).
    followup = (Response.FollowUp.NONE if flag_reasons else
                _followup(kind=score_kind, score=score, current=Response.FollowUp.NONE, assigned=False))
    given = {key: value for key, value in cleaned.items() if not value.empty}
    rows = [{"question_id": by_key[key].pk, "score": value.score, "choices": value.choices or [], "text": value.text}
            for key, value in given.items()]
    params = dict(zip(["invitation", "source", "browser_key", "customer", "email", "channel", "agent"], identity))
    params.update(id=uuid.uuid4(), survey=survey.pk, version=survey.version, score=score, score_kind=score_kind,
                  comment=comment, now=now, completed_at=now if complete else None, followup=followup,
                  answers=json.dumps(rows), dataset=SURVEY_RESPONSES, rate_dataset=SURVEY_INVITATIONS, tz=_time_zone_name(),
                  review=Response.Review.PENDING if flag_reasons else Response.Review.NONE, counted=not flag_reasons,
                  review_reasons=json.dumps(sorted(flag_reasons)),
                  # A held answer is in no KPI: its day needs no recompute until it is accepted.
                  touch=not flag_reasons and any(by_key[key].kind in SCORE_KINDS for key in given))
    with connection.cursor() as cursor:
        cursor.execute(_UPSERT.format(target=target), params)
        row = cursor.fetchone()
    names = ["id", "inserted", "responded_at", "completed_at", "followup", "assigned", "channel", "agent", "review"]
    return {**dict(zip(names, row)), "score": score, "score_kind": score_kind, "comment": comment}


def _time_zone_name() -> str:
    return getattr(connection.tenant, "time_zone", None) or "UTC"


def response_record_score(*, invitation: Invitation, score, questions: list[Question] | None = None,
                          now: datetime | None = None) -> Response:
    """The score clicked in the email: validated against the survey's first NPS/CSAT
    question and stored as a partial response (it counts even if nothing else follows).
    Clicking again, or another score, edits it: the link is safe to open twice."""
    survey = invitation.survey
    questions = survey_questions(survey) if questions is None else questions
    question = survey_score_question(questions)
    if question is None:
        raise ValidationError({"__all__": ["This survey has no score question."]})
    try:
        return response_save(survey=survey, answers={question.key: score}, invitation=invitation,
                             complete=False, questions=questions, now=now)
    except ValidationError as error:
        # A blank ?score= is not "clear my score": say what is expected.
        if is_blank(score):
            low, high = question.score_range
            raise ValidationError({question.key: [f"Choose a number from {low} to {high}."]}) from error
        raise


