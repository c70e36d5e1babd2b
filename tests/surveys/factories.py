"""Survey rows written straight through the models: create them inside tenant_context(workspace).

``survey_make(kind)`` builds a survey with its questions the way the templates do (NPS: score
+ "why?"; CSAT: score + comment; custom: whatever ``questions`` says)."""
from datetime import UTC, datetime, timedelta

import factory
from django.utils import timezone

from surveys.models import Answer, Invitation, Question, Response, Survey

START = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)

NPS_QUESTIONS = [
    {"kind": "nps", "text": "How likely are you to recommend us to a friend or colleague?", "required": True,
     "choices": ["Not at all likely", "Extremely likely"]},
    {"kind": "text", "text": "What is the main reason for your score?"},
]
CSAT_QUESTIONS = [
    {"kind": "csat", "text": "How would you rate your overall satisfaction with the support you received?",
     "required": True, "choices": ["Very unsatisfied", "Very satisfied"]},
    {"kind": "text", "text": "Anything you would like to tell us?"},
]


class SurveyFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Survey

    kind = "nps"
    name = factory.Sequence(lambda n: f"Survey {n}")
    intro = "Two quick questions."
    thank_you = "Thank you!"


class QuestionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Question

    survey = factory.SubFactory(SurveyFactory)
    position = factory.Sequence(lambda n: n + 1)
    key = factory.LazyAttribute(lambda q: f"q{q.position}")
    kind = "text"
    text = factory.Sequence(lambda n: f"Question {n}?")


def survey_make(kind: str = "nps", questions: list[dict] | None = None, **fields) -> Survey:
    if questions is None:
        questions = {"nps": NPS_QUESTIONS, "csat": CSAT_QUESTIONS}[kind]
    survey = SurveyFactory(kind=kind, **fields)
    for position, spec in enumerate(questions, start=1):
        QuestionFactory(survey=survey, position=position, key=f"q{position}", **spec)
    return survey


class InvitationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Invitation

    survey = factory.SubFactory(SurveyFactory)
    email = factory.Sequence(lambda n: f"customer{n}@example.test")
    name = factory.Sequence(lambda n: f"Customer {n}")
    status = "sent"
    # Sent an hour ago: an answer seconds after delivery is a link scanner's (early_hit).
    scheduled_at = factory.LazyFunction(lambda: timezone.now() - timedelta(hours=1))
    sent_at = factory.LazyAttribute(lambda i: i.scheduled_at if i.status != "scheduled" else None)
    expires_at = factory.LazyAttribute(lambda i: i.scheduled_at + timedelta(days=28))


class ResponseFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Response

    survey = factory.SubFactory(SurveyFactory)
    source = "email"
    responded_at = factory.Sequence(lambda n: START + timedelta(hours=n))
    updated_at = factory.LazyAttribute(lambda r: r.responded_at)


class AnswerFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Answer

    response = factory.SubFactory(ResponseFactory)
    answered_at = factory.LazyAttribute(lambda a: a.response.responded_at)
