"""Surveys (a tenant app): what is asked (Survey, Question), who is asked (Campaign,
Invitation, Refusal, Suppression), what they answered (Response, Answer), and the emails
the workspace sent (OutboxEmail, kept in local and demo runs).

NPS and CSAT answers given here feed the KPI engine directly: its SQL reads
``surveys_answer`` beside the imported ``survey_responses`` dataset, so an answer is
stored exactly once and an edited score moves the KPI with it.
"""
import secrets
import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q

from tenants.mail import MailCategory


def invitation_token() -> str:
    """192 bits from the OS's CSPRNG, URL-safe (32 characters): unguessable."""
    return secrets.token_urlsafe(24)


def survey_public_id() -> str:
    """72 bits, URL-safe (12 characters): a shareable link nobody can enumerate."""
    return secrets.token_urlsafe(9)


class SurveyKind(models.TextChoices):
    NPS = "nps", "NPS"
    CSAT = "csat", "CSAT"
    CUSTOM = "custom", "Custom"


class QuestionKind(models.TextChoices):
    NPS = "nps", "NPS (0–10)"
    CSAT = "csat", "CSAT (1–5)"
    RATING = "rating", "Labelled rating scale"
    SINGLE = "single", "Single choice"
    MULTIPLE = "multiple", "Multiple choice"
    TEXT = "text", "Free text"


# Question kinds whose answer is a number, and the range of that number.
SCORE_RANGES = {QuestionKind.NPS: (0, 10), QuestionKind.CSAT: (1, 5)}
# The bands of an NPS or CSAT score (kpis.md #1: promoters 9–10, detractors 0–6; #8: 4–5
# positive). The last band of each (detractors, unhappy 1–2) opens a follow-up.
SCORE_BANDS = {
    QuestionKind.NPS: {"promoter": (9, 10), "passive": (7, 8), "detractor": (0, 6)},
    QuestionKind.CSAT: {"positive": (4, 5), "neutral": (3, 3), "negative": (1, 2)},
}
FOLLOW_UP_BANDS = {QuestionKind.NPS: "detractor", QuestionKind.CSAT: "negative"}


class SurveySettings(models.Model):
    """The workspace's survey settings (one row, pk=1): branding of survey pages and
    emails, throttling, link expiry and the post-conversation CSAT trigger."""

    brand_color = models.CharField(max_length=7, default="#4f46e5")
    logo = models.FileField(upload_to="survey-logos/", blank=True)
    sender_name = models.CharField(max_length=120, blank=True, help_text="Name emails come from (default: the workspace's)")
    reply_to = models.EmailField(blank=True)
    throttle_days = models.PositiveSmallIntegerField(default=30)
    link_expiry_days = models.PositiveSmallIntegerField(default=28)
    # Post-conversation CSAT: off while no survey is chosen.
    csat_trigger_survey = models.ForeignKey("Survey", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    csat_trigger_delay_minutes = models.PositiveIntegerField(default=60)
    # Only conversations resolved after this moment trigger an invitation: switching the
    # trigger on must not email everyone whose year-old conversation is in the next import.
    csat_trigger_since = models.DateTimeField(null=True, blank=True)
    # Link scanners (Safe Links, Proofpoint, Mimecast…) fetch an email's links the moment it
    # is delivered: a survey page opened or submitted this soon after sending is flagged.
    scanner_window_seconds = models.PositiveSmallIntegerField(default=30)
    updated_at = models.DateTimeField(auto_now=True)

    @classmethod
    def load(cls) -> "SurveySettings":
        return cls.objects.get_or_create(pk=1)[0]


class Survey(models.Model):
    kind = models.CharField(max_length=6, choices=SurveyKind.choices)
    name = models.CharField(max_length=200)
    public_id = models.CharField(max_length=16, unique=True, default=survey_public_id)
    intro = models.TextField(blank=True)
    thank_you = models.TextField(blank=True)
    email_subject = models.CharField(max_length=200, blank=True)
    email_intro = models.TextField(blank=True)
    # Closed surveys take no new responses (public link and unanswered invitations).
    closed_at = models.DateTimeField(null=True, blank=True)
    # Bumped by every change of the questions; responses record the version they answered.
    version = models.PositiveIntegerField(default=1)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self):
        return self.name

    @property
    def is_open(self) -> bool:
        return self.closed_at is None


class Question(models.Model):
    survey = models.ForeignKey(Survey, on_delete=models.CASCADE, related_name="questions")
    position = models.PositiveSmallIntegerField()
    # Stable within the survey ("q1", "q2"…): exports and the API name answers by it.
    key = models.SlugField(max_length=20)
    kind = models.CharField(max_length=8, choices=QuestionKind.choices)
    text = models.CharField(max_length=500)
    help_text = models.CharField(max_length=300, blank=True)
    required = models.BooleanField(default=False)
    # single/multiple: the options; rating: the labels from the first point to the last
    # ("Extremely helpful" … "Not at all helpful"); nps/csat: [low label, high label].
    choices = models.JSONField(default=list, blank=True)

    class Meta:
        ordering = ["position"]
        constraints = [
            models.UniqueConstraint(fields=["survey", "key"], name="question_key"),
            models.UniqueConstraint(fields=["survey", "position"], name="question_position"),
        ]

    def __str__(self):
        return self.text

    @property
    def score_range(self) -> tuple[int, int] | None:
        if self.kind in SCORE_RANGES:
            return SCORE_RANGES[self.kind]
        if self.kind == QuestionKind.RATING:
            return (1, len(self.choices))
        return None


class Campaign(models.Model):
    """One send of a survey to a list of recipients."""

    survey = models.ForeignKey(Survey, on_delete=models.CASCADE, related_name="campaigns")
    name = models.CharField(max_length=200)
    # How the recipients were chosen, for the record ("customers on plan pro", "pasted list").
    audience = models.CharField(max_length=300, blank=True)
    scheduled_at = models.DateTimeField()
    # One reminder to non-responders this many days after the first email; null: none.
    reminder_days = models.PositiveSmallIntegerField(null=True, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]


class InvitationStatus(models.TextChoices):
    SCHEDULED = "scheduled", "Scheduled"
    # Claimed by a sender and handed to SMTP; a row left here by a dead worker is never
    # sent again (it becomes failed, "delivery uncertain"): never emailed twice.
    SENDING = "sending", "Sending"
    SENT = "sent", "Sent"
    FAILED = "failed", "Failed"
    RESPONDED = "responded", "Responded"
    EXPIRED = "expired", "Expired"
    UNSUBSCRIBED = "unsubscribed", "Unsubscribed"


class InvitationSource(models.TextChoices):
    CAMPAIGN = "campaign", "Campaign"
    API = "api", "API"
    TRIGGER = "trigger", "Resolved conversation"


class Invitation(models.Model):
    survey = models.ForeignKey(Survey, on_delete=models.CASCADE, related_name="invitations")
    campaign = models.ForeignKey(Campaign, null=True, blank=True, on_delete=models.SET_NULL, related_name="invitations")
    source = models.CharField(max_length=8, choices=InvitationSource.choices, default=InvitationSource.CAMPAIGN)
    token = models.CharField(max_length=64, unique=True, default=invitation_token)
    email = models.EmailField(max_length=254)  # lower-cased
    name = models.CharField(max_length=200, blank=True)
    customer_external_id = models.CharField(max_length=255, blank=True)
    channel = models.CharField(max_length=50, blank=True)
    agent = models.CharField(max_length=255, blank=True)
    conversation_external_id = models.CharField(max_length=255, blank=True)
    status = models.CharField(max_length=12, choices=InvitationStatus.choices, default=InvitationStatus.SCHEDULED)
    failure_reason = models.CharField(max_length=500, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    scheduled_at = models.DateTimeField()
    sent_at = models.DateTimeField(null=True, blank=True)
    expires_at = models.DateTimeField()
    # The one reminder: due at reminder_at unless answered; reminder_status follows the same
    # never-twice rule as the first email ('' not sent, sending, sent, failed).
    reminder_at = models.DateTimeField(null=True, blank=True)
    reminder_status = models.CharField(max_length=8, blank=True)
    reminded_at = models.DateTimeField(null=True, blank=True)
    responded_at = models.DateTimeField(null=True, blank=True)
    # What the survey link saw before anything was confirmed (surveys.services.scanner):
    # the first score clicked by what looked like a person (a signal, never an answer),
    # the hits, and every bot reason seen (early_hit, burst, honeypot, head_request,
    # scanner_user_agent).
    provisional_score = models.SmallIntegerField(null=True, blank=True)
    first_hit_at = models.DateTimeField(null=True, blank=True)
    last_hit_at = models.DateTimeField(null=True, blank=True)
    last_hit_score = models.SmallIntegerField(null=True, blank=True)
    honeypot_at = models.DateTimeField(null=True, blank=True)
    bot_reasons = models.JSONField(default=list, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [
            models.Index(fields=["status", "scheduled_at"], name="invitation_due"),
            models.Index(fields=["email", "created_at"], name="invitation_email"),
            models.Index(fields=["survey", "status"], name="invitation_survey"),
            models.Index(fields=["reminder_at"], name="invitation_reminder", condition=Q(reminder_status="")),
            # Reminders a killed sender left mid-send: the sender's every-minute check
            # looks for them, and this keeps that check an index lookup.
            models.Index(fields=["id"], name="invitation_reminder_sending", condition=Q(reminder_status="sending")),
        ]
        constraints = [
            # A resolved conversation triggers at most one CSAT invitation.
            models.UniqueConstraint(fields=["conversation_external_id"], condition=~Q(conversation_external_id=""),
                                    name="invitation_conversation"),
        ]


class Refusal(models.Model):
    """A recipient Pulse did not invite, and why (suppressed, throttled, invalid address,
    duplicate in the list, no email on the customer…)."""

    survey = models.ForeignKey(Survey, on_delete=models.CASCADE, related_name="refusals")
    campaign = models.ForeignKey(Campaign, null=True, blank=True, on_delete=models.CASCADE, related_name="refusals")
    source = models.CharField(max_length=8, choices=InvitationSource.choices, default=InvitationSource.CAMPAIGN)
    email = models.CharField(max_length=320, blank=True)
    name = models.CharField(max_length=200, blank=True)
    customer_external_id = models.CharField(max_length=255, blank=True)
    conversation_external_id = models.CharField(max_length=255, blank=True)
    reason = models.CharField(max_length=300)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(fields=["conversation_external_id"], condition=~Q(conversation_external_id=""),
                                    name="refusal_conversation"),
        ]


class Suppression(models.Model):
    """An address that is never emailed a survey again (unsubscribed, or added by a team
    lead). Honoured forever: nothing deletes these rows but a team lead."""

    class Reason(models.TextChoices):
        UNSUBSCRIBED = "unsubscribed", "Unsubscribed"
        MANUAL = "manual", "Added by a team lead"
        BOUNCED = "bounced", "Address refused by the mail server"

    email = models.CharField(max_length=320, unique=True)  # lower-cased
    reason = models.CharField(max_length=12, choices=Reason.choices)
    invitation = models.ForeignKey(Invitation, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)


class ResponseQuerySet(models.QuerySet):
    def counted(self):
        """The responses that count in scores and KPIs: not held for review, not rejected."""
        return self.filter(review__in=Response.COUNTED_REVIEWS)

    def held(self):
        return self.filter(review=Response.Review.PENDING)


class Response(models.Model):
    """One respondent's answers to one survey: through an invitation (at most one response
    each) or through the public link (at most one per browser).

    ``review``: a submission that looked like a link scanner's (surveys.services.scanner)
    is kept but held (``pending``) until a team lead accepts or rejects it; only '' and
    ``accepted`` count in scores and KPIs (the KPI SQL repeats ``COUNTED_REVIEWS``)."""

    class Review(models.TextChoices):
        NONE = "", "Counted"
        PENDING = "pending", "Held for review"
        ACCEPTED = "accepted", "Accepted"
        REJECTED = "rejected", "Rejected"

    COUNTED_REVIEWS = ("", "accepted")

    class Source(models.TextChoices):
        EMAIL = "email", "Email"
        LINK = "link", "Public link"

    class FollowUp(models.TextChoices):
        NONE = "", "Not needed"
        OPEN = "open", "Open"
        DONE = "done", "Followed up"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4)
    survey = models.ForeignKey(Survey, on_delete=models.CASCADE, related_name="responses")
    invitation = models.OneToOneField(Invitation, null=True, blank=True, on_delete=models.SET_NULL, related_name="response")
    source = models.CharField(max_length=5, choices=Source.choices)
    # Public link: a random id kept in the browser's cookie (one response per browser).
    browser_key = models.CharField(max_length=64, blank=True)
    customer_external_id = models.CharField(max_length=255, blank=True)
    email = models.CharField(max_length=320, blank=True)
    channel = models.CharField(max_length=50, blank=True)
    agent = models.CharField(max_length=255, blank=True)
    survey_version = models.PositiveIntegerField(default=1)
    # The first NPS/CSAT question's answer, kept here for filters and close-the-loop.
    score = models.SmallIntegerField(null=True, blank=True)
    score_kind = models.CharField(max_length=4, blank=True)
    comment = models.TextField(blank=True)
    # When the score was first given: the KPI period an NPS/CSAT answer counts in.
    responded_at = models.DateTimeField()
    updated_at = models.DateTimeField()
    completed_at = models.DateTimeField(null=True, blank=True)
    followup = models.CharField(max_length=4, choices=FollowUp.choices, blank=True, default="")
    followup_assignee = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    followup_note = models.TextField(blank=True)
    followed_up_at = models.DateTimeField(null=True, blank=True)
    review = models.CharField(max_length=8, choices=Review.choices, blank=True, default="")
    review_reasons = models.JSONField(default=list, blank=True)
    reviewed_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    reviewed_at = models.DateTimeField(null=True, blank=True)

    objects = ResponseQuerySet.as_manager()

    class Meta:
        ordering = ["-responded_at"]
        indexes = [
            models.Index(fields=["survey", "responded_at"], name="response_survey_time"),
            models.Index(fields=["responded_at"], name="response_time"),
            models.Index(fields=["survey", "followup"], name="response_followup", condition=Q(followup="open")),
            models.Index(fields=["responded_at"], name="response_held", condition=Q(review="pending")),
        ]
        constraints = [
            models.UniqueConstraint(fields=["survey", "browser_key"], condition=~Q(browser_key=""), name="response_browser"),
        ]


class Answer(models.Model):
    response = models.ForeignKey(Response, on_delete=models.CASCADE, related_name="answers")
    question = models.ForeignKey(Question, on_delete=models.CASCADE, related_name="answers")
    score = models.SmallIntegerField(null=True, blank=True)  # nps, csat, rating
    choices = models.JSONField(default=list, blank=True)  # single, multiple
    text = models.TextField(blank=True)  # text (and "why?" follow-ups)
    answered_at = models.DateTimeField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["response", "question"], name="answer_key")]


class OutboxEmail(models.Model):
    """A copy of a survey or digest email the workspace sent, kept when ``EMAIL_OUTBOX``
    is on (local and demo runs, where it is the only mailbox): the Outbox page shows them
    rendered to team leads. Account emails are never stored (see tenants.mail)."""

    # Only OUTBOX_CATEGORIES are ever written; the choices name them all so a row's
    # category reads the same as the message's.
    category = models.CharField(max_length=10, choices=MailCategory.choices)
    to = models.CharField(max_length=1000)
    from_email = models.CharField(max_length=400)
    subject = models.CharField(max_length=500)
    text = models.TextField()
    html = models.TextField(blank=True)
    headers = models.JSONField(default=dict)
    # The inline images of the HTML part (a digest's charts), by Content-ID: "<cid>" →
    # {"type": "image/png", "data": base64}. The Outbox page turns the HTML's cid:
    # references into data: URIs when it shows the email.
    inline_images = models.JSONField(default=dict, blank=True)
    invitation = models.ForeignKey(Invitation, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    sent_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-sent_at", "-id"]
