from smtplib import SMTPException

from celery import shared_task

from tenants.accounts.emails import invitation_email_send, password_reset_email_send
from tenants.accounts.services import session_clear_expired
from tenants.tasking import LONG_TASK

# SMTP servers fail transiently (greylisting, restarts); retry with backoff.
EMAIL_RETRY = dict(autoretry_for=(SMTPException, OSError), retry_backoff=True, retry_backoff_max=600, max_retries=6)


@shared_task(name="accounts.invitation_send_email", **EMAIL_RETRY)
def invitation_send_email_task(invitation_id: int) -> bool:
    return invitation_email_send(invitation_id=invitation_id)


@shared_task(name="accounts.password_reset_send_email", **EMAIL_RETRY)
def password_reset_send_email_task(user_id: int) -> bool:
    return password_reset_email_send(user_id=user_id)


@shared_task(name="accounts.sessions_clear_expired", **LONG_TASK)
def sessions_clear_expired_task() -> int:
    return session_clear_expired()
