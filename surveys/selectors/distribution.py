"""Reads of distribution: the pages' invitations, refusals, campaigns, outbox and
suppression list; the audiences offered from the customers dataset; what the sender and
the CSAT trigger have to do."""
from datetime import datetime, timedelta

from django.db.models import Count, Exists, OuterRef, Q, QuerySet, Subquery
from django.db.models.functions import Coalesce
from django.utils import timezone

from ingestion.models import Conversation, Customer

from surveys.models import Campaign, Invitation, InvitationStatus, OutboxEmail, Refusal, Suppression, Survey
from tenants.mail import OUTBOX_CATEGORIES

STATUS_ORDER = [s.value for s in InvitationStatus]


def status_counts(invitations: QuerySet) -> list[tuple[str, str, int]]:
    """(status, label, count) for every status, in the flow's order (one query)."""
    counts = dict(invitations.order_by().values_list("status").annotate(n=Count("id")))
    return [(s.value, s.label, counts.get(s.value, 0)) for s in InvitationStatus]


def _count(queryset: QuerySet) -> Subquery:
    return Subquery(queryset.order_by().values("campaign_id").annotate(n=Count("id")).values("n")[:1])


def campaign_list(*, survey: Survey) -> list[Campaign]:
    """The survey's campaigns, newest first, with their invitation and refusal counts
    (one query; a subquery per count, not a join of invitations with refusals)."""
    invitations = Invitation.objects.filter(campaign_id=OuterRef("pk"))
    return list(survey.campaigns.annotate(
        invited=Coalesce(_count(invitations), 0),
        sent=Coalesce(_count(invitations.filter(sent_at__isnull=False)), 0),
        responded=Coalesce(_count(invitations.filter(status=InvitationStatus.RESPONDED)), 0),
        refused=Coalesce(_count(Refusal.objects.filter(campaign_id=OuterRef("pk"))), 0)).select_related("created_by"))


def invitation_list(*, survey: Survey, status: str = "", source: str = "", campaign: int | None = None) -> QuerySet:
    invitations = survey.invitations.select_related("campaign").order_by("-created_at", "-id")
    if status:
        invitations = invitations.filter(status=status)
    if source:
        invitations = invitations.filter(source=source)
    if campaign:
        invitations = invitations.filter(campaign_id=campaign)
    return invitations


def refusal_list(*, survey: Survey, source: str = "", campaign: int | None = None) -> QuerySet:
    refusals = survey.refusals.order_by("-created_at", "-id")
    if source:
        refusals = refusals.filter(source=source)
    if campaign:
        refusals = refusals.filter(campaign_id=campaign)
    return refusals


def outbox_emails() -> QuerySet:
    """The Outbox's emails: survey and digest mail only. Account emails are never stored
    (tenants.mail); this filter keeps any that ever were out of every Outbox page too."""
    return OutboxEmail.objects.filter(category__in=OUTBOX_CATEGORIES)


def outbox_list() -> QuerySet:
    return outbox_emails().select_related("invitation__survey").defer("html", "text", "inline_images").order_by("-sent_at", "-id")


def suppression_list() -> QuerySet:
    return Suppression.objects.order_by("-created_at", "-id")


def refusal_count(*, survey: Survey) -> int:
    return Refusal.objects.filter(survey=survey).count()


def invitation_by_token(token: str) -> Invitation | None:
    return Invitation.objects.select_related("survey").filter(token=token).first()


MAX_AUDIENCE = 50_000


def audience_customers(*, plan: str = "", country: str = "", active_only: bool = True) -> list[dict]:
    """Recipients from the customers dataset: by plan and country, optionally only the
    active ones (not churned). Test customers are never surveyed. Customers without an
    email are kept (the preview lists them as refused: "no email address")."""
    customers = Customer.objects.filter(is_test=False)
    if plan:
        customers = customers.filter(plan=plan)
    if country:
        customers = customers.filter(country=country)
    if active_only:
        customers = customers.filter(churned_at__isnull=True)
    rows = customers.order_by("external_id").values_list("email", "name", "external_id")[:MAX_AUDIENCE]
    return [{"email": email, "name": name, "customer_external_id": external_id} for email, name, external_id in rows]


def audience_customer_options() -> dict[str, list[str]]:
    """The plans and countries the customers dataset holds (the Send page's choices)."""
    customers = Customer.objects.filter(is_test=False)
    return {"plans": list(customers.exclude(plan="").order_by("plan").values_list("plan", flat=True).distinct()),
            "countries": list(customers.exclude(country="").order_by("country").values_list("country", flat=True).distinct())}


# Only conversations resolved this recently are surveyed: a CSAT question about a
# conversation from weeks ago would not be answered meaningfully.
RECENT = timedelta(days=7)


SCAN_LIMIT = 5000


def csat_trigger_candidates(*, since, now, limit: int = SCAN_LIMIT) -> list[dict]:
    """The undecided resolved conversations with a surveyable customer, oldest first: one
    query (conversations joined to their customer; invitations and refusals excluded
    through their unique conversation indexes)."""
    customer = Customer.objects.filter(external_id=OuterRef("customer_external_id"), is_test=False).exclude(email="")
    rows = (Conversation.objects
            .filter(resolved_at__gte=max(since, now - RECENT), resolved_at__lte=now)
            .exclude(customer_external_id="")
            .annotate(customer_email=Subquery(customer.values("email")[:1]),
                      customer_name=Subquery(customer.values("name")[:1]))
            .filter(customer_email__isnull=False)
            .exclude(Exists(Invitation.objects.filter(conversation_external_id=OuterRef("external_id"))))
            .exclude(Exists(Refusal.objects.filter(conversation_external_id=OuterRef("external_id"))))
            .order_by("resolved_at")
            .values("external_id", "channel", "agent", "customer_external_id", "resolved_at", "customer_email",
                    "customer_name")[:limit])
    return list(rows)


def invitations_work_due(*, now: datetime | None = None) -> bool:
    """Anything for a sender to do? One indexed query: the beat asks every minute for
    every workspace. (Reminders of invitations that can no longer get one leave the
    reminder index: invitations_expire marks them "skipped".)"""
    now = now or timezone.now()
    return Invitation.objects.filter(
        Q(status=InvitationStatus.SCHEDULED, scheduled_at__lte=now) | Q(status=InvitationStatus.SENDING)
        | Q(reminder_status="", reminder_at__lte=now, status=InvitationStatus.SENT) | Q(reminder_status="sending")).exists()
