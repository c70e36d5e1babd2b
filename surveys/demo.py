"""Demo surveys: a year of realistic survey activity in the demo workspace, drawn from its
generated customers and conversations (``ingestion.generator``'s World), so the survey
pages, the Outbox-free history and the NPS/CSAT/response-rate KPIs are full on first
sign-in.

- *Quarterly NPS*: four email campaigns of ~500 active customers each (plus one ten days
  ago), with bounces, unsubscribes, a reminder to non-responders, ~35% answering, comments,
  and detractors followed up (the recent ones still open, assigned to the agent).
- *After support (CSAT)*: the post-conversation survey, triggered by resolved conversations
  over the last four months (one per customer per 30 days), carrying channel and agent.
  It is the workspace's CSAT trigger from now on (only conversations resolved from now).
- *Product feedback*: the 5-question template answered through its public link.

Drawn from the World's own ``random.Random`` (the same recipients, scores and comments
for the same World; which links have expired or been reminded follows the real time of
the seeding), bulk-inserted; when the demo
surveys exist already (fixed public ids) nothing is done, so answers given by hand in the
demo are kept.
"""
import random
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.db import transaction
from django.utils import timezone

from ingestion.generator import World
from ingestion.models import Conversation, Customer
from surveys.models import (
    FOLLOW_UP_BANDS,
    Answer,
    Campaign,
    Invitation,
    InvitationSource,
    InvitationStatus,
    QuestionKind,
    Response,
    Suppression,
    Survey,
)
from surveys.selectors.results import band_of
from tenants.accounts.models import Role, User

PUBLIC_IDS = {"nps": "demo-nps", "csat": "demo-csat", "feedback": "demo-feedback"}

NPS_SCORES = {10: 25, 9: 22, 8: 16, 7: 12, 6: 7, 5: 6, 4: 4, 3: 3, 2: 2, 1: 1.5, 0: 1.5}
CSAT_SCORES = {5: 52, 4: 29, 3: 9, 2: 5, 1: 5}
COMMENTS = {
    "good": ["The support team is fast and really knows the product.", "Setup took ten minutes, great onboarding.",
             "Reports save me an hour every Monday.", "Alex solved my billing question in one reply.",
             "Love the new dashboard.", "Reliable, and the team listens.", "Best support I've had from a SaaS vendor."],
    "middle": ["Good product, but the mobile app lags behind.", "Pricing went up, still worth it mostly.",
               "Fine, though exports could be faster.", "Support is good, documentation less so.",
               "Does the job. Would like more integrations."],
    "bad": ["Waited three days for an answer to a simple question.", "The outage last month cost us a day of work.",
            "Too expensive for what we use.", "Had to explain my problem three times to different people.",
            "The import keeps failing on our CSV and nobody could tell me why.", "Billing charged us twice."],
}
FOLLOW_UP_NOTES = ["Called the customer, explained the fix and offered a credit.",
                   "Escalated to engineering; customer informed of the workaround.",
                   "Emailed an apology and refunded the duplicate charge."]


def _score(rng: random.Random, weights: dict[int, float]) -> int:
    return rng.choices(list(weights), weights=list(weights.values()))[0]


def _comment(rng: random.Random, good: bool, bad: bool, chance: float) -> str:
    if rng.random() > chance:
        return ""
    return rng.choice(COMMENTS["good" if good else "bad" if bad else "middle"])


class _Builder:
    """Collects rows for bulk inserts, in dependency order."""

    def __init__(self, rng: random.Random, now: datetime, expiry_days: int, agent: User | None):
        self.rng, self.now, self.expiry, self.agent = rng, now, timedelta(days=expiry_days), agent
        self.invitations: list[Invitation] = []
        self.responses: list[Response] = []
        self.answers: list[Answer] = []
        self.suppressed: dict[str, Invitation] = {}

    def invite(self, survey: Survey, *, email: str, name: str, customer: str, sent_at: datetime, source: str,
               campaign=None, channel="", agent="", conversation="", reminder_days: int | None = 3,
               answer_chance: float = 0.35) -> tuple[Invitation, datetime | None]:
        """One invitation and its fate; returns it and when it was answered (None: not)."""
        rng = self.rng
        invitation = Invitation(survey=survey, campaign=campaign, source=source, email=email, name=name,
                                customer_external_id=customer, channel=channel, agent=agent,
                                conversation_external_id=conversation, scheduled_at=sent_at,
                                expires_at=sent_at + self.expiry, attempts=1)
        self.invitations.append(invitation)
        draw = rng.random()
        if draw < 0.015:
            invitation.status, invitation.failure_reason = InvitationStatus.FAILED, "550 5.1.1 Mailbox unavailable"
            return invitation, None
        invitation.sent_at = sent_at
        if reminder_days is not None:
            invitation.reminder_at = sent_at + timedelta(days=reminder_days)
        if draw < 0.025:
            invitation.status = InvitationStatus.UNSUBSCRIBED
            self.suppressed.setdefault(email, invitation)
            return invitation, None
        if rng.random() < answer_chance:
            # Most answers come within hours; some after the reminder.
            delay = timedelta(hours=rng.expovariate(1 / 10))
            if reminder_days is not None and rng.random() < 0.3:
                delay += timedelta(days=reminder_days, hours=rng.uniform(0, 30))
            answered = sent_at + delay
            if answered < min(self.now, invitation.expires_at):
                invitation.status, invitation.responded_at = InvitationStatus.RESPONDED, answered
                if invitation.reminder_at and invitation.reminder_at < answered:
                    invitation.reminder_status, invitation.reminded_at = "sent", invitation.reminder_at
                return invitation, answered
        if invitation.reminder_at and invitation.reminder_at <= self.now:
            invitation.reminder_status, invitation.reminded_at = "sent", invitation.reminder_at
        invitation.status = InvitationStatus.EXPIRED if invitation.expires_at <= self.now else InvitationStatus.SENT
        return invitation, None

    def respond(self, survey: Survey, questions: list, *, at: datetime, scores: dict[int, float] | None,
                invitation: Invitation | None = None, source=Response.Source.EMAIL, channel="", agent="",
                customer="", email="", extra: list | None = None) -> Response:
        """A response with its main score (``scores``' distribution), a comment now and
        then, and the answers of ``extra`` (question, values) for custom surveys."""
        rng = self.rng
        score = _score(rng, scores) if scores else None
        kind = questions[0].kind if scores else ""
        band = band_of(kind, score)
        good, bad = band in ("promoter", "positive"), band == FOLLOW_UP_BANDS.get(kind)
        comment = _comment(rng, good, bad, 0.7 if bad else 0.4)
        complete = bool(comment) or rng.random() < 0.6
        response = Response(survey=survey, invitation=invitation, source=source, email=email,
                            customer_external_id=customer, channel=channel, agent=agent, score=score, score_kind=kind,
                            comment=comment, responded_at=at, updated_at=at + timedelta(minutes=1) if complete else at,
                            completed_at=at + timedelta(minutes=1) if complete else None, survey_version=survey.version)
        if bad:
            # Detractors and unhappy customers are followed up: older ones done, recent ones open.
            response.followup = Response.FollowUp.OPEN
            if self.agent is not None:
                response.followup_assignee = self.agent
            if at < self.now - timedelta(days=14) and rng.random() < 0.8:
                response.followup, response.followed_up_at = Response.FollowUp.DONE, at + timedelta(days=rng.randint(1, 5))
                response.followup_note = rng.choice(FOLLOW_UP_NOTES)
        self.responses.append(response)
        if score is not None:
            self.answers.append(Answer(response=response, question=questions[0], score=score, answered_at=at))
        text_question = next((q for q in questions if q.kind == QuestionKind.TEXT), None)
        if comment and text_question is not None:
            self.answers.append(Answer(response=response, question=text_question, text=comment, answered_at=at))
        for question, value in extra or []:
            answer = Answer(response=response, question=question, answered_at=at)
            if isinstance(value, int):
                answer.score = value
            elif isinstance(value, list):
                answer.choices = value
            else:
                answer.text = value
            self.answers.append(answer)
        return response

    def save(self) -> dict[str, int]:
        Invitation.objects.bulk_create(self.invitations, batch_size=2000)
        for response in self.responses:
            response.invitation_id = response.invitation.pk if response.invitation else None
        Response.objects.bulk_create(self.responses, batch_size=2000)
        for answer in self.answers:
            answer.response_id = answer.response.pk
        Answer.objects.bulk_create(self.answers, batch_size=5000)
        existing = set(Suppression.objects.filter(email__in=list(self.suppressed)).values_list("email", flat=True))
        Suppression.objects.bulk_create([
            Suppression(email=email, reason=Suppression.Reason.UNSUBSCRIBED, invitation=invitation)
            for email, invitation in self.suppressed.items() if email not in existing])
        return {"invitations": len(self.invitations), "responses": len(self.responses), "answers": len(self.answers)}


@transaction.atomic
def demo_surveys_load(*, world: World) -> dict[str, int]:
    """Create the demo surveys and their history in the current workspace (see the module
    docstring); {} when they exist already."""
    from surveys.services.authoring import survey_create_from_template
    from surveys.services.survey_settings import survey_settings_update

    if Survey.objects.filter(public_id__in=PUBLIC_IDS.values()).exists():
        return {}
    rng = random.Random(f"{world.seed}:surveys")
    zone = ZoneInfo(world.time_zone)
    # Activity is placed before the world's end (midnight today for a default World);
    # statuses (expired, reminders) are decided against the real time.
    now = timezone.now()
    end = min(now, datetime.combine(world.end, time(), zone))
    lead = User.objects.filter(role=Role.TEAM_LEAD, is_active=True).order_by("pk").first()
    agent = User.objects.filter(role=Role.AGENT, is_active=True).order_by("pk").first()
    from surveys.models import SurveySettings

    builder = _Builder(rng, now, SurveySettings.load().link_expiry_days, agent)

    surveys = {}
    for key, template, name in (("nps", "nps", "Quarterly NPS"), ("csat", "csat", "After support (CSAT)"),
                                ("feedback", "satisfaction", "Product feedback")):
        survey = survey_create_from_template(template=template, name=name, created_by=lead)
        Survey.objects.filter(pk=survey.pk).update(public_id=PUBLIC_IDS[key])
        survey.refresh_from_db()
        surveys[key] = (survey, list(survey.questions.all()))

    # Ordered: the random draws below must meet the customers in the same order every run.
    customers = list(Customer.objects.filter(is_test=False).exclude(email="").order_by("external_id")
                     .values_list("external_id", "email", "name", "signed_up_at", "churned_at"))

    def active(at):
        return [c for c in customers if c[3] <= at and (c[4] is None or c[4] > at)]

    # Quarterly NPS campaigns (and a fresh one ten days ago).
    nps, nps_questions = surveys["nps"]
    for days_ago in (330, 240, 150, 60, 10):
        at = end - timedelta(days=days_ago)
        campaign = Campaign.objects.create(survey=nps, name=f"NPS {at:%B %Y}", audience="Active customers, 500 sampled",
                                           scheduled_at=at, reminder_days=3, created_by=lead)
        pool = active(at)
        for external_id, email, name, _, _ in rng.sample(pool, min(500, len(pool))):
            sent = at + timedelta(seconds=rng.uniform(0, 900))
            invitation, answered = builder.invite(nps, email=email.lower(), name=name, customer=external_id,
                                                  sent_at=sent, source=InvitationSource.CAMPAIGN, campaign=campaign)
            if answered:
                builder.respond(nps, nps_questions, at=answered, scores=NPS_SCORES, invitation=invitation,
                                customer=external_id, email=email.lower())

    # Post-conversation CSAT over the last 120 days: one invitation per customer per 30 days.
    csat, csat_questions = surveys["csat"]
    emails = {c[0]: (c[1].lower(), c[2]) for c in customers}
    resolved = (Conversation.objects.filter(resolved_at__gte=end - timedelta(days=120), resolved_at__lt=end,
                                            abandoned=False)
                .exclude(customer_external_id="").order_by("resolved_at", "external_id")
                .values_list("external_id", "customer_external_id", "channel", "agent", "resolved_at"))
    last_invited: dict[str, datetime] = {}
    for conversation, customer, channel, conv_agent, resolved_at in resolved.iterator(chunk_size=5000):
        if customer not in emails or rng.random() > 0.35:
            continue
        if customer in last_invited and resolved_at - last_invited[customer] < timedelta(days=30):
            continue
        last_invited[customer] = resolved_at
        email, name = emails[customer]
        invitation, answered = builder.invite(csat, email=email, name=name, customer=customer,
                                              sent_at=resolved_at + timedelta(hours=1), source=InvitationSource.TRIGGER,
                                              channel=channel, agent=conv_agent, conversation=conversation,
                                              reminder_days=None, answer_chance=0.3)
        if answered:
            builder.respond(csat, csat_questions, at=answered, scores=CSAT_SCORES, invitation=invitation,
                            channel=channel, agent=conv_agent, customer=customer, email=email)

    # Product feedback through the public link, attributed to where the link was shared.
    feedback, feedback_questions = surveys["feedback"]
    by_kind = {q.kind: q for q in feedback_questions}
    for _ in range(220):
        at = end - timedelta(days=rng.uniform(0, 90))
        csat_score = _score(rng, CSAT_SCORES)
        extra = [(by_kind[QuestionKind.RATING], max(1, min(5, csat_score + rng.choice([-1, 0, 0, 1])))),
                 (by_kind[QuestionKind.SINGLE], [rng.choice(by_kind[QuestionKind.SINGLE].choices)]),
                 (by_kind[QuestionKind.MULTIPLE], rng.sample(by_kind[QuestionKind.MULTIPLE].choices, rng.randint(0, 3)))]
        builder.respond(feedback, feedback_questions, at=at, scores={csat_score: 1}, source=Response.Source.LINK,
                        channel=rng.choice(["in-app", "website", "community"]), extra=extra)

    counts = builder.save()
    # From now on each resolved conversation gets the CSAT survey an hour later.
    survey_settings_update(csat_trigger_survey=csat, csat_trigger_delay_minutes=60)
    return counts
