"""What kind of email a message is, set where the message is made.

The Outbox (surveys.mail.OutboxBackend) keeps a copy of the mail a workspace sends for its
team leads to read. Account emails — password resets, team invitations, sign-in links —
carry a credential for one person: whoever reads them can take that account over, so they
must reach their recipient only and are never kept. The category travels on the message
object (Django's email classes have no such notion) and the backend keeps only the
categories listed in ``OUTBOX_CATEGORIES``; a message nobody categorised is not kept
either (fail closed: new mail is private until someone decides otherwise).
"""
from django.core.mail import EmailMessage
from django.db import models

ATTRIBUTE = "pulse_category"


class MailCategory(models.TextChoices):
    SURVEY = "survey", "Survey invitation or reminder"
    DIGEST = "digest", "Digest"
    ALERT = "alert", "KPI alert"
    ACCOUNT = "account", "Account email (password reset, team invitation, sign-in link)"


# Shown in the Outbox, to team leads only. Never add ACCOUNT here.
OUTBOX_CATEGORIES = (MailCategory.SURVEY.value, MailCategory.DIGEST.value, MailCategory.ALERT.value)


def mail_categorise(message: EmailMessage, category: MailCategory) -> EmailMessage:
    setattr(message, ATTRIBUTE, MailCategory(category).value)
    return message


def mail_category(message: EmailMessage) -> str | None:
    return getattr(message, ATTRIBUTE, None)


def mail_kept_in_outbox(message: EmailMessage) -> bool:
    return mail_category(message) in OUTBOX_CATEGORIES
