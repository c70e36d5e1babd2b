"""Writing surveys: create (from a template or from questions), edit texts and questions,
duplicate, close/reopen. The workspace's survey settings are ``survey_settings``.

Every rule lives here so the pages and the API answer with the same messages.

Locking: once a survey has a response its questions are frozen (a changed question would
change what the stored answers mean). The check runs with the survey row locked
``FOR UPDATE``: inserting a response takes ``FOR KEY SHARE`` on its survey (the foreign
key check), so a response being stored while questions are replaced either commits first
(and the replace is refused) or waits until the replace has committed.
"""
import re

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from surveys.catalog import DEFAULT_SCORE_LABELS, TEMPLATES
from surveys.models import Question, QuestionKind, Survey, SurveyKind
from surveys.selectors.authoring import survey_has_responses

MIN_QUESTIONS, MAX_QUESTIONS = 1, 10
MAX_TEXT = 500  # Question.text
MAX_HELP = 300  # Question.help_text
MIN_OPTIONS, MAX_OPTIONS = 2, 20  # single / multiple choice
MIN_LABELS, MAX_LABELS = 2, 11  # labelled rating scale: 2 to 11 points
MAX_OPTION = 200  # one option or label
MAX_NAME = 200
MAX_SUBJECT = 200
MAX_LONG_TEXT = 5000  # intro, thank-you, email intro

TEXT_FIELDS = ("name", "intro", "thank_you", "email_subject", "email_intro")
CHOICE_KINDS = (QuestionKind.SINGLE, QuestionKind.MULTIPLE)
SCORE_KINDS = (QuestionKind.NPS, QuestionKind.CSAT)

LOCKED_MESSAGE = (
    "This survey has responses, so its questions are locked: changing them would change what "
    "those answers mean. Duplicate the survey to change its questions (the copy starts with no "
    "responses). The name, intro, thank-you and email texts can still be edited."
)


class SurveyLocked(ValidationError):
    """The survey has responses and the change would alter its questions."""

    def __init__(self):
        super().__init__({"questions": [LOCKED_MESSAGE]}, code="locked")


class QuestionsInvalid(ValidationError):
    """Refused questions. ``by_question`` maps the index of each refused question in the
    list given to {field: [messages]} (field ``""`` for the question as a whole), so a form
    can show each message beside its question; the messages themselves name the question
    ("Question 2: …") for the API."""

    def __init__(self, messages: list[str], by_question: dict[int, dict[str, list[str]]]):
        super().__init__({"questions": messages}, code="invalid")
        self.by_question = by_question


# ---------------------------------------------------------------- questions

def _number_of(key: str) -> int:
    match = re.fullmatch(r"q(\d+)", key or "")
    return int(match.group(1)) if match else 0


def _clean_choices(raw) -> list[str]:
    if raw is None:
        return []
    if isinstance(raw, str):  # one per line, as typed in the page's textarea
        raw = raw.splitlines()
    return [str(choice).strip() for choice in raw]


def _questions_clean(*, survey_kind: str, questions: list[dict], existing_keys: set[str]) -> list[dict]:
    """Validate and normalise question specs ({key?, kind, text, help_text, required,
    choices}); raise QuestionsInvalid with every problem found."""
    messages: list[str] = []
    by_question: dict[int, dict[str, list[str]]] = {}

    def refuse(index: int | None, field: str, message: str) -> None:
        if index is None:
            messages.append(message)
            return
        messages.append(f"Question {index + 1}: {message}")
        by_question.setdefault(index, {}).setdefault(field, []).append(message)

    if len(questions) < MIN_QUESTIONS:
        refuse(None, "", "Give the survey at least one question.")
    if len(questions) > MAX_QUESTIONS:
        refuse(None, "", f"A survey has at most {MAX_QUESTIONS} questions (got {len(questions)}).")

    cleaned = []
    seen_keys: dict[str, int] = {}
    first_of_kind: dict[str, int] = {}
    for index, spec in enumerate(questions):
        kind = spec.get("kind") or ""
        text = (spec.get("text") or "").strip()
        help_text = (spec.get("help_text") or "").strip()
        choices = _clean_choices(spec.get("choices"))
        key = (spec.get("key") or "").strip()
        if key:
            if key not in existing_keys:
                refuse(index, "", f"{key} is not a question of this survey (leave the key out for a new question).")
            elif key in seen_keys:
                refuse(index, "", f"{key} is the key of question {seen_keys[key] + 1} too: each question appears once.")
            seen_keys.setdefault(key, index)
        if kind not in QuestionKind.values:
            refuse(index, "kind", f"choose a kind among {', '.join(QuestionKind.values)}.")
        if not text:
            refuse(index, "text", "write the question.")
        elif len(text) > MAX_TEXT:
            refuse(index, "text", f"the question is {len(text)} characters long; the limit is {MAX_TEXT}.")
        if len(help_text) > MAX_HELP:
            refuse(index, "help_text", f"the help text is {len(help_text)} characters long; the limit is {MAX_HELP}.")

        if kind in CHOICE_KINDS:
            _check_options(choices, index, refuse, noun="option", low=MIN_OPTIONS, high=MAX_OPTIONS,
                           hint="one per line")
        elif kind == QuestionKind.RATING:
            _check_options(choices, index, refuse, noun="label", low=MIN_LABELS, high=MAX_LABELS,
                           hint="one per point of the scale, the worst first")
        elif kind in SCORE_KINDS:
            if not choices or choices == ["", ""]:
                choices = list(DEFAULT_SCORE_LABELS[kind])
            elif len(choices) != 2 or not all(choices):
                refuse(index, "choices", "give two labels, for the lowest and the highest score, or none for "
                                         f"the defaults ({' / '.join(DEFAULT_SCORE_LABELS[kind])}).")
            elif any(len(choice) > MAX_OPTION for choice in choices):
                refuse(index, "choices", f"a label is longer than {MAX_OPTION} characters.")
            if kind in first_of_kind:
                # The KPI engine counts every NPS/CSAT answer: two in one response would count
                # one customer twice.
                refuse(index, "kind", f"a survey has at most one {QuestionKind(kind).label.split(' ')[0]} question "
                                      f"(question {first_of_kind[kind] + 1} is one).")
            first_of_kind.setdefault(kind, index)
        elif kind == QuestionKind.TEXT:
            # A free-text question has no options: the editor may still hold the ones typed
            # before the kind was changed.
            choices = []
        cleaned.append({"key": key, "kind": kind, "text": text, "help_text": help_text,
                        "required": bool(spec.get("required")), "choices": choices})

    if survey_kind in (SurveyKind.NPS, SurveyKind.CSAT) and cleaned:
        label = SurveyKind(survey_kind).label
        article = "an" if survey_kind == SurveyKind.NPS else "a"
        first = cleaned[0]
        if first["kind"] != survey_kind:
            refuse(0, "kind", f"{article} {label} survey starts with its {label} question: question 1 must stay "
                              f"{article} {label} question.")
        elif not first["required"]:
            refuse(0, "required", f"the {label} question of {article} {label} survey is always required.")
    if messages:
        raise QuestionsInvalid(messages, by_question)
    return cleaned


def _check_options(choices: list[str], index: int, refuse, *, noun: str, low: int, high: int, hint: str) -> None:
    if len(choices) < low:
        refuse(index, "choices", f"give at least {low} {noun}s, {hint}.")
    elif len(choices) > high:
        refuse(index, "choices", f"give at most {high} {noun}s (got {len(choices)}).")
    seen = set()
    for number, choice in enumerate(choices, start=1):
        if not choice:
            refuse(index, "choices", f"{noun} {number} is empty.")
        elif len(choice) > MAX_OPTION:
            refuse(index, "choices", f"{noun} {number} is longer than {MAX_OPTION} characters.")
        elif choice.casefold() in seen:
            refuse(index, "choices", f"“{choice}” is listed twice.")
        seen.add(choice.casefold())


def _question_spec(question: Question) -> dict:
    return {"key": question.key, "kind": question.kind, "text": question.text, "help_text": question.help_text,
            "required": question.required, "choices": list(question.choices)}


def _lock(survey: Survey) -> Survey:
    return Survey.objects.select_for_update().get(pk=survey.pk)


@transaction.atomic
def survey_questions_replace(*, survey: Survey, questions: list[dict]) -> bool:
    """Make ``questions`` (in order) the survey's questions. A spec with the ``key`` of an
    existing question updates that question (keys are stable: exports and the API name
    answers by them); one without a key is a new question, keyed with the next free
    ``qN``; questions left out are removed. Bumps ``version`` when anything changed and
    says whether it did. Refused (SurveyLocked) when the survey has responses."""
    locked = _lock(survey)
    current = list(locked.questions.order_by("position"))
    by_key = {question.key: question for question in current}
    try:
        cleaned = _questions_clean(survey_kind=locked.kind, questions=questions, existing_keys=set(by_key))
    except QuestionsInvalid:
        # The survey's own questions are valid, so refused ones are a change: say first
        # that no change is possible at all.
        if survey_has_responses(locked):
            raise SurveyLocked() from None
        raise
    if [_question_spec(q) for q in current] == cleaned:
        return False
    if survey_has_responses(locked):
        raise SurveyLocked()

    # Never hand out a key still in use, nor one removed by this same change (a new question
    # must not take over the key of the one just deleted).
    next_number = max([_number_of(key) for key in by_key] + [0]) + 1
    kept_keys = {spec["key"] for spec in cleaned if spec["key"]}
    Question.objects.filter(survey=locked).exclude(key__in=kept_keys).delete()
    # Positions are unique per survey: park the kept questions out of the way first.
    Question.objects.filter(survey=locked).update(position=F("position") + 100)
    updated, created = [], []
    for position, spec in enumerate(cleaned, start=1):
        fields = {name: spec[name] for name in ("kind", "text", "help_text", "required", "choices")}
        if spec["key"]:
            question = by_key[spec["key"]]
            for name, value in fields.items():
                setattr(question, name, value)
            question.position = position
            updated.append(question)
        else:
            created.append(Question(survey=locked, position=position, key=f"q{next_number}", **fields))
            next_number += 1
    if updated:
        Question.objects.bulk_update(updated, ["position", "kind", "text", "help_text", "required", "choices"])
    if created:
        Question.objects.bulk_create(created)
    Survey.objects.filter(pk=locked.pk).update(version=F("version") + 1, updated_at=timezone.now())
    survey.refresh_from_db(fields=["version", "updated_at"])
    return True


# ---------------------------------------------------------------- surveys

def _texts_clean(texts: dict) -> dict:
    unknown = set(texts) - set(TEXT_FIELDS)
    if unknown:
        raise TypeError(f"Unknown survey fields: {', '.join(sorted(unknown))}")
    cleaned = {name: (value or "").strip() for name, value in texts.items()}
    errors = {}
    if "name" in cleaned:
        if not cleaned["name"]:
            errors["name"] = "Give the survey a name."
        elif len(cleaned["name"]) > MAX_NAME:
            errors["name"] = f"The name is {len(cleaned['name'])} characters long; the limit is {MAX_NAME}."
    subject = cleaned.get("email_subject", "")
    if len(subject) > MAX_SUBJECT:
        errors["email_subject"] = f"The email subject is {len(subject)} characters long; the limit is {MAX_SUBJECT}."
    elif "\n" in subject or "\r" in subject:
        errors["email_subject"] = "The email subject is one line."
    for name, label in (("intro", "intro"), ("thank_you", "thank-you text"), ("email_intro", "email intro")):
        if len(cleaned.get(name, "")) > MAX_LONG_TEXT:
            errors[name] = f"The {label} is {len(cleaned[name])} characters long; the limit is {MAX_LONG_TEXT}."
    if errors:
        raise ValidationError(errors)
    return cleaned


@transaction.atomic
def survey_create(*, kind: str, name: str, questions: list[dict], created_by=None, **texts) -> Survey:
    """A new open survey of ``kind`` with ``questions`` (the shape survey_questions_replace
    takes, without keys) and optional texts (intro, thank_you, email_subject, email_intro)."""
    if kind not in SurveyKind.values:
        raise ValidationError({"kind": f"Choose a kind among {', '.join(SurveyKind.values)}."})
    cleaned_texts = _texts_clean({"name": name, **texts})
    if any(spec.get("key") for spec in questions):
        raise ValidationError({"questions": "A new survey's questions have no keys yet: leave them out."})
    cleaned = _questions_clean(survey_kind=kind, questions=questions, existing_keys=set())
    survey = Survey.objects.create(kind=kind, created_by=created_by, **cleaned_texts)
    Question.objects.bulk_create([
        Question(survey=survey, position=position, key=f"q{position}",
                 **{name: spec[name] for name in ("kind", "text", "help_text", "required", "choices")})
        for position, spec in enumerate(cleaned, start=1)])
    return survey


def survey_create_from_template(*, template: str, name: str = "", created_by=None) -> Survey:
    """A new survey copied from the catalog's template ``template`` (its key), named
    ``name`` (default: the template's name)."""
    chosen = TEMPLATES.get(template)
    if chosen is None:
        raise ValidationError({"template": f"Choose a template among {', '.join(TEMPLATES)}."})
    return survey_create(kind=chosen.kind, name=(name or "").strip() or chosen.name, questions=chosen.questions,
                         created_by=created_by, intro=chosen.intro, thank_you=chosen.thank_you,
                         email_subject=chosen.email_subject, email_intro=chosen.email_intro)


@transaction.atomic
def survey_update(*, survey: Survey, questions: list[dict] | None = None, **texts) -> Survey:
    """Change some of the survey's texts (name, intro, thank_you, email_subject,
    email_intro) and, when ``questions`` is given, its questions (see
    survey_questions_replace), all or nothing."""
    cleaned = _texts_clean(texts)
    locked = _lock(survey)
    changed = [name for name, value in cleaned.items() if getattr(locked, name) != value]
    for name in changed:
        setattr(locked, name, cleaned[name])
    if changed:
        locked.save(update_fields=[*changed, "updated_at"])
    if questions is not None:
        survey_questions_replace(survey=locked, questions=questions)
    survey.refresh_from_db()
    return survey


@transaction.atomic
def survey_duplicate(*, survey: Survey, created_by=None) -> Survey:
    """A copy of the survey (kind, texts, questions with their keys) with no invitations or
    responses, open, at version 1: the way to change a locked survey's questions."""
    name = f"{survey.name} (copy)"
    if len(name) > MAX_NAME:
        name = f"{survey.name[:MAX_NAME - 8].rstrip()}… (copy)"
    copy = Survey.objects.create(kind=survey.kind, name=name, intro=survey.intro, thank_you=survey.thank_you,
                                 email_subject=survey.email_subject, email_intro=survey.email_intro,
                                 created_by=created_by)
    Question.objects.bulk_create([
        Question(survey=copy, position=q.position, key=q.key, kind=q.kind, text=q.text, help_text=q.help_text,
                 required=q.required, choices=list(q.choices))
        for q in survey.questions.order_by("position")])
    return copy


@transaction.atomic
def survey_close(*, survey: Survey) -> Survey:
    """Closed surveys take no new responses (public link and unanswered invitations)."""
    Survey.objects.filter(pk=survey.pk, closed_at__isnull=True).update(closed_at=timezone.now(),
                                                                     updated_at=timezone.now())
    survey.refresh_from_db(fields=["closed_at", "updated_at"])
    return survey


@transaction.atomic
def survey_reopen(*, survey: Survey) -> Survey:
    Survey.objects.filter(pk=survey.pk).update(closed_at=None, updated_at=timezone.now())
    survey.refresh_from_db(fields=["closed_at", "updated_at"])
    return survey
