"""Rendering and sending the account emails (always from a Celery worker, never from a
request: SMTP is a slow external call). They are categorised ``account``: delivered to
their recipient only, never kept in the workspace's Outbox (tenants.mail)."""
import zoneinfo

from django.conf import settings
from django.contrib.auth.tokens import default_token_generator
from django.core.mail import EmailMultiAlternatives
from django.db import connection
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode

from tenants.accounts.models import Invitation, User
from tenants.mail import MailCategory, mail_categorise


def email_send(*, to: str, subject: str, template: str, context: dict) -> None:
    workspace = connection.tenant
    context = {"workspace": workspace, **context}
    # Dates in the email read in the workspace's time zone, as on its pages.
    with timezone.override(zoneinfo.ZoneInfo(workspace.time_zone)):
        text = render_to_string(f"emails/{template}.txt", context)
        html = render_to_string(f"emails/{template}.html", context)
    message = EmailMultiAlternatives(subject=subject, body=text, from_email=settings.DEFAULT_FROM_EMAIL, to=[to])
    message.attach_alternative(html, "text/html")
    # Its link is a credential of the recipient: never kept in the shared Outbox.
    mail_categorise(message, MailCategory.ACCOUNT)
    message.send()


def invitation_email_send(*, invitation_id: int) -> bool:
    """Email a pending invitation its link; False when it was revoked, accepted or expired
    while queued."""
    from tenants.accounts.services import invitation_link

    invitation = Invitation.objects.pending().select_related("invited_by").filter(pk=invitation_id).first()
    if invitation is None:
        return False
    email_send(
        to=invitation.email,
        subject=f"You're invited to {connection.tenant.name} on Pulse",
        template="invitation",
        context={"invitation": invitation, "link": invitation_link(invitation), "inviter": invitation.invited_by},
    )
    Invitation.objects.filter(pk=invitation.pk).update(sent_at=timezone.now())
    return True


def password_reset_email_send(*, user_id: int) -> bool:
    user = User.objects.filter(pk=user_id, is_active=True).first()
    if user is None:
        return False
    path = reverse(
        "accounts:password_reset_confirm",
        kwargs={"uidb64": urlsafe_base64_encode(force_bytes(user.pk)), "token": default_token_generator.make_token(user)},
    )
    email_send(
        to=user.email,
        subject=f"Reset your Pulse password for {connection.tenant.name}",
        template="password_reset",
        context={"user": user, "link": f"{connection.tenant.url}{path}", "hours": settings.PASSWORD_RESET_TIMEOUT // 3600},
    )
    return True
