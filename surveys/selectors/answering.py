"""Reads of the public answer pages: the invitation a link names (or why it cannot be
answered), the survey of a public link, its questions (cached per process), and a stored
response's answers as form values."""
import re
import time
from dataclasses import dataclass
from datetime import datetime

from django.db import connection
from django.utils import timezone

from surveys.models import Answer, Invitation, InvitationStatus, Question, QuestionKind, Survey


# Tokens are ``secrets.token_urlsafe(24)``: 32 URL-safe characters. Anything else is
# rejected before it reaches the database (and so before it costs a query).
TOKEN_RE = re.compile(r"[A-Za-z0-9_-]{16,64}")


PUBLIC_ID_RE = re.compile(r"[A-Za-z0-9_-]{1,16}")


SCORE_KINDS = (QuestionKind.NPS, QuestionKind.CSAT)


@dataclass(frozen=True)
class Unavailable:
    """Why a survey link cannot be answered: the HTTP status and what the customer reads."""

    status: int
    title: str
    message: str


UNKNOWN = Unavailable(404, "This survey link does not work",
                      "The link may be incomplete: check that you copied the whole address from the email.")


EXPIRED = Unavailable(410, "This survey link has expired",
                      "Survey links work for a limited time, and this one is no longer valid. Thank you all the same!")


UNKNOWN_SURVEY = Unavailable(404, "This survey does not exist",
                             "The link may be incomplete: check that you copied the whole address.")


CLOSED = Unavailable(410, "This survey is closed",
                     "It no longer takes answers. Thank you for your interest!")


def invitation_for_token(token: str, *, now: datetime | None = None) -> Invitation | Unavailable:
    """The invitation a survey link names, with its survey, or why it cannot be answered.

    - unknown or malformed (a tampered token is simply unknown): 404;
    - expired (``expires_at`` passed, or the status says so): 410, even if answered
      before: answers may be edited until the link expires, not after;
    - survey closed: 410 with its own message, unless the invitation was answered
      already: closing stops *new* responses; the customer who answered may still
      correct their answers until the link expires;
    - unsubscribed: may still answer. Unsubscribing stops emails, it does not take back
      a link the customer holds; their opinion is still welcome.
    """
    if not isinstance(token, str) or not TOKEN_RE.fullmatch(token):
        return UNKNOWN
    try:
        invitation = Invitation.objects.select_related("survey").get(token=token)
    except Invitation.DoesNotExist:
        return UNKNOWN
    now = now or timezone.now()
    if invitation.status == InvitationStatus.EXPIRED or invitation.expires_at <= now:
        return EXPIRED
    if not invitation.survey.is_open and invitation.responded_at is None:
        return CLOSED
    return invitation


def survey_for_public_id(public_id: str) -> Survey | Unavailable:
    """The survey a public link names, or why it cannot be answered (unknown: 404; closed:
    410, and then nobody edits either: a public link has no expiry of its own, so the
    survey's being open is what bounds edits)."""
    if not isinstance(public_id, str) or not PUBLIC_ID_RE.fullmatch(public_id):
        return UNKNOWN_SURVEY
    try:
        survey = Survey.objects.get(public_id=public_id)
    except Survey.DoesNotExist:
        return UNKNOWN_SURVEY
    if not survey.is_open:
        return CLOSED
    return survey


# Process-local: the answer pages read the same few surveys' questions on every request.
_QUESTIONS: dict[tuple, tuple[float, list[Question]]] = {}


QUESTIONS_CACHE_SECONDS = 60


QUESTIONS_CACHE_SIZE = 1000


def survey_questions(survey: Survey) -> list[Question]:
    """The survey's questions in order, kept per process for a minute. Every change of the
    questions bumps ``Survey.version`` and saves the survey (``updated_at``), so the key
    (schema, survey, version, updated_at) names one set of questions and a changed survey
    is read afresh; the minute only bounds the cost of a change that forgot the version."""
    key = (connection.schema_name, survey.pk, survey.version, survey.updated_at)
    now = time.monotonic()
    cached = _QUESTIONS.get(key)
    if cached is not None and now - cached[0] < QUESTIONS_CACHE_SECONDS:
        return cached[1]
    questions = list(survey.questions.all())
    if len(_QUESTIONS) >= QUESTIONS_CACHE_SIZE:
        _QUESTIONS.clear()
    _QUESTIONS[key] = (now, questions)
    return questions


def survey_score_question(questions) -> Question | None:
    """The survey's first NPS or CSAT question: its answer is the response's score."""
    return next((q for q in questions if q.kind in SCORE_KINDS), None)


def response_form_values(*, response_filter: dict) -> dict[str, object]:
    """The stored answers of one response as the form's values (question key → raw value,
    a list for multiple choice): one query, no Response row needed."""
    values = {}
    rows = Answer.objects.filter(**{f"response__{k}": v for k, v in response_filter.items()}).values_list(
        "question__key", "question__kind", "score", "choices", "text")
    for key, kind, score, choices, text in rows:
        if kind == QuestionKind.MULTIPLE:
            values[key] = list(choices)
        elif kind == QuestionKind.SINGLE:
            values[key] = choices[0] if choices else ""
        elif kind == QuestionKind.TEXT:
            values[key] = text
        else:
            values[key] = "" if score is None else str(score)
    return values

