"""Checking the answers a person gives against the survey's questions: each raw value (a
string, a list for multiple choice) becomes a score, choices or text, or a message saying
what is expected. Pure: no database."""
from dataclasses import dataclass

from django.core.exceptions import ValidationError

from surveys.models import SCORE_RANGES, Question, QuestionKind


TEXT_MAX_CHARS = 5000


@dataclass
class AnswerValue:
    """One answer, validated and in the shape of the Answer row (empty: clear it)."""

    score: int | None = None
    choices: list | None = None
    text: str = ""

    @property
    def empty(self) -> bool:
        return self.score is None and not self.choices and not self.text


def is_blank(raw) -> bool:
    if raw is None:
        return True
    if isinstance(raw, (list, tuple)):
        return all(is_blank(item) for item in raw)
    return str(raw).strip() == ""


def answer_clean(question: Question, raw) -> AnswerValue:
    """The answer ``raw`` (a string, or a list for multiple choice) to ``question``, or a
    ValidationError whose message is meant for the customer."""
    kind = question.kind
    if is_blank(raw):
        return AnswerValue()
    if kind in SCORE_RANGES or kind == QuestionKind.RATING:
        low, high = question.score_range
        value = raw[0] if isinstance(raw, (list, tuple)) and len(raw) == 1 else raw
        try:
            score = int(str(value).strip())
        except ValueError:
            score = None
        if score is None or not low <= score <= high:
            raise ValidationError(f"Choose a number from {low} to {high}.")
        return AnswerValue(score=score)
    if kind == QuestionKind.SINGLE:
        value = raw[0] if isinstance(raw, (list, tuple)) and len(raw) == 1 else raw
        if not isinstance(value, str) or value not in question.choices:
            raise ValidationError("Choose one of the options.")
        return AnswerValue(choices=[value])
    if kind == QuestionKind.MULTIPLE:
        values = [raw] if isinstance(raw, str) else list(raw)
        values = [v for v in values if not is_blank(v)]
        if any(not isinstance(v, str) or v not in question.choices for v in values):
            raise ValidationError("Choose among the options shown.")
        # Stored in the survey's order, once each, whatever order the browser sent.
        return AnswerValue(choices=[c for c in question.choices if c in values])
    if kind == QuestionKind.TEXT:
        text = str(raw).strip()
        if len(text) > TEXT_MAX_CHARS:
            raise ValidationError(f"Keep your answer under {TEXT_MAX_CHARS:,} characters (it has {len(text):,}).")
        return AnswerValue(text=text)
    raise ValidationError("This question cannot be answered.")  # an unknown kind: a data error


def answers_clean(questions: list[Question], answers: dict) -> tuple[dict[str, AnswerValue], dict[str, list[str]]]:
    by_key = {q.key: q for q in questions}
    cleaned, errors = {}, {}
    for key, raw in answers.items():
        question = by_key.get(key)
        if question is None:
            continue  # not a question of this survey (a stale form): nothing to store
        try:
            cleaned[key] = answer_clean(question, raw)
        except ValidationError as error:
            errors[key] = error.messages
    return cleaned, errors


def answers_missing(questions, values: dict) -> dict:
    return {q.key: ["Answer this question."] for q in questions if q.required and values.get(q.key, AnswerValue()).empty}

