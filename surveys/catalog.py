"""The templates a team lead starts a survey from: their questions and default texts.

A template is only a starting point: ``survey_create_from_template`` copies it into a new
survey, which is then edited freely (within the locking rule). Question specs use the
shape ``survey_questions_replace`` takes.

Labelled rating scales list their labels from the *worst* point to the best, so that
1 = worst and a higher score is always better, as with NPS (0–10) and CSAT (1–5): the
helpfulness scale is 1 "Not at all helpful" … 5 "Extremely helpful". Averages and charts
of every score kind then read the same way.
"""
from dataclasses import dataclass, field

from surveys.models import QuestionKind, SurveyKind

# Default end labels of the score questions ([label of the lowest score, of the highest]).
NPS_LABELS = ["Not at all likely", "Extremely likely"]
CSAT_LABELS = ["Very unsatisfied", "Very satisfied"]
DEFAULT_SCORE_LABELS = {QuestionKind.NPS: NPS_LABELS, QuestionKind.CSAT: CSAT_LABELS}

NPS_QUESTION = "How likely are you to recommend us to a friend or colleague?"
CSAT_QUESTION = "How would you rate your overall satisfaction with the support you received?"

EASE_LABELS = ["Very difficult", "Difficult", "Neither easy nor difficult", "Easy", "Very easy"]
HELPFULNESS_LABELS = ["Not at all helpful", "Slightly helpful", "Moderately helpful", "Very helpful",
                      "Extremely helpful"]


@dataclass(frozen=True)
class SurveyTemplate:
    key: str
    kind: str
    title: str  # in the gallery
    description: str
    name: str  # the new survey's default name
    intro: str
    thank_you: str
    email_subject: str
    email_intro: str
    questions: list[dict] = field(default_factory=list)


TEMPLATES: dict[str, SurveyTemplate] = {t.key: t for t in [
    SurveyTemplate(
        key="nps", kind=SurveyKind.NPS, title="Net Promoter Score (NPS)",
        description="The 0–10 “would you recommend us” question and a “why?” follow-up. "
                    "Feeds the NPS KPI.",
        name="Net Promoter Score",
        intro="Two quick questions: it takes less than a minute.",
        thank_you="Thank you! Your answer helps us improve.",
        email_subject="How likely are you to recommend us?",
        email_intro="We would love to hear what you think of us. Click a score below: it takes one click.",
        questions=[
            {"kind": QuestionKind.NPS, "text": NPS_QUESTION, "required": True, "choices": NPS_LABELS},
            {"kind": QuestionKind.TEXT, "text": "What is the main reason for your score?"},
        ],
    ),
    SurveyTemplate(
        key="csat", kind=SurveyKind.CSAT, title="Post-conversation CSAT",
        description="1–5 satisfaction with the support received, and a comment. Sent after a "
                    "resolved conversation; feeds the CSAT KPI.",
        name="Support satisfaction (CSAT)",
        intro="You recently talked to our support team. How did it go?",
        thank_you="Thank you for your feedback!",
        email_subject="How did we do?",
        email_intro="You recently contacted our support team. Please rate the help you received: "
                    "click a score below.",
        questions=[
            {"kind": QuestionKind.CSAT, "text": CSAT_QUESTION, "required": True, "choices": CSAT_LABELS},
            {"kind": QuestionKind.TEXT, "text": "Anything you would like to tell us?"},
        ],
    ),
    SurveyTemplate(
        key="satisfaction", kind=SurveyKind.CUSTOM, title="Satisfaction survey (5 questions)",
        description="Overall satisfaction (CSAT), ease of getting help, how the customer "
                    "contacted you, what went well, and how to improve.",
        name="Customer satisfaction survey",
        intro="Five short questions about your experience with our support. It takes about two minutes.",
        thank_you="Thank you for taking the time to answer!",
        email_subject="Five questions about our support",
        email_intro="Help us improve our support: tell us about your experience in five short questions.",
        questions=[
            {"kind": QuestionKind.CSAT, "text": "Overall, how satisfied are you with our support?",
             "required": True, "choices": CSAT_LABELS},
            {"kind": QuestionKind.RATING, "text": "How easy was it to get the help you needed?",
             "required": True, "choices": EASE_LABELS},
            {"kind": QuestionKind.SINGLE, "text": "How did you contact us?",
             "choices": ["Email", "Chat", "Phone", "Social media", "Other"]},
            {"kind": QuestionKind.MULTIPLE, "text": "What did we do well?",
             "choices": ["Quick response", "Friendly", "Knowledgeable", "Solved my problem", "Kept me informed"]},
            {"kind": QuestionKind.TEXT, "text": "How could we improve?"},
        ],
    ),
    SurveyTemplate(
        key="helpfulness", kind=SurveyKind.CUSTOM, title="Helpfulness rating",
        description="How helpful the support was, on a labelled 5-point scale from "
                    "“Not at all helpful” (1) to “Extremely helpful” (5), and a comment.",
        name="Helpfulness rating",
        intro="One question about the help you received.",
        thank_you="Thank you! Your answer helps us improve.",
        email_subject="Was our support helpful?",
        email_intro="You recently contacted our support team. Tell us how helpful we were.",
        questions=[
            {"kind": QuestionKind.RATING, "text": "How helpful was the support you received?",
             "required": True, "choices": HELPFULNESS_LABELS},
            {"kind": QuestionKind.TEXT, "text": "What could we have done better?"},
        ],
    ),
    SurveyTemplate(
        key="blank", kind=SurveyKind.CUSTOM, title="Blank custom survey",
        description="Start from one free-text question and write your own (up to 10 questions "
                    "of any kind).",
        name="Custom survey",
        intro="",
        thank_you="Thank you for your answers!",
        email_subject="We would like your feedback",
        email_intro="Please take a moment to answer our short survey.",
        # A survey always has 1 to 10 questions, so "blank" starts with one to rewrite.
        questions=[{"kind": QuestionKind.TEXT, "text": "What would you like to tell us?"}],
    ),
]}
