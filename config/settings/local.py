"""Local development and the demo: debug on, every email kept in the workspace's Outbox."""
from .base import *  # noqa: F401,F403
from .base import OUTBOX_BACKEND, env

DEBUG = env.bool("DEBUG", default=True)
# Serve static files straight from the app and static/ folders, no collectstatic needed.
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = True

# Survey mail lands in the workspace's Outbox page (where its links work), and is also
# delivered when EMAIL_URL names a server; without one the Outbox is its only mailbox.
# Account emails (resets, team invitations) never go to the Outbox: without EMAIL_URL
# they are printed on the worker's console (ACCOUNT_EMAIL_FALLBACK_BACKEND, base.py).
EMAIL_OUTBOX = env.bool("EMAIL_OUTBOX", default=True)
EMAIL_DELIVERY_BACKEND = EMAIL_CONFIG["EMAIL_BACKEND"] if env.str("EMAIL_URL", default="") else None  # noqa: F405
EMAIL_BACKEND = OUTBOX_BACKEND if EMAIL_OUTBOX else (EMAIL_DELIVERY_BACKEND or "django.core.mail.backends.console.EmailBackend")
