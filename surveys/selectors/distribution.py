"""Reads of the distribution pages: invitations, refusals, campaigns, outbox, suppression."""
from django.db.models import Count, OuterRef, QuerySet, Subquery
from django.db.models.functions import Coalesce

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
    return outbox_emails().select_related("invitation__survey").defer("html", "text").order_by("-sent_at", "-id")


def suppression_list() -> QuerySet:
    return Suppression.objects.order_by("-created_at", "-id")


def refusal_count(*, survey: Survey) -> int:
    return Refusal.objects.filter(survey=survey).count()


def invitation_by_token(token: str) -> Invitation | None:
    return Invitation.objects.select_related("survey").filter(token=token).first()
