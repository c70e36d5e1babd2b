"""Tests: real PostgreSQL and Redis, fast password hashing, a Redis database of their own."""
from urllib.parse import urlsplit, urlunsplit

from .base import *  # noqa: F401,F403
from .base import REDIS_URL, celery_redis_url, env

DEBUG = False
# Commits need not wait for the WAL to reach the disk in tests (PostgreSQL still never
# loses consistency, only the last moments on a server crash): the tests that commit —
# every workspace made in a transactional test is a schema cloned and dropped — run
# without a disk flush each. A session setting any user may change.
DATABASES["default"].setdefault("OPTIONS", {})["options"] = "-c synchronous_commit=off"  # noqa: F405
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
# Tests use their own Redis database number, so a running dev app's queues are untouched.
_TEST_REDIS_DB = env.int("REDIS_TEST_DB", default=9)


def _with_db(url: str, db: int) -> str:
    parts = urlsplit(url)
    if parts.scheme == "unix":  # redis over a socket names its database in the query
        return f"unix://{parts.path}?db={db}"
    return urlunsplit(parts._replace(path=f"/{db}"))


REDIS_URL = _with_db(REDIS_URL, _TEST_REDIS_DB)
# The cache gets the next database, so tests can clear it without touching queued tasks.
CACHES["default"]["LOCATION"] = _with_db(REDIS_URL, _TEST_REDIS_DB + 1)  # noqa: F405
CELERY_BROKER_URL = celery_redis_url(REDIS_URL)
CELERY_RESULT_BACKEND = celery_redis_url(REDIS_URL)
# Processes started by the tests (the Celery worker) deliver through TEST_EMAIL_BACKEND
# (SMTP to the tests' server) and keep Outbox copies; in the test process itself Django's
# test set-up swaps EMAIL_BACKEND for locmem (tests that need the outbox set it back).
EMAIL_OUTBOX = True
EMAIL_DELIVERY_BACKEND = env("TEST_EMAIL_BACKEND", default="django.core.mail.backends.locmem.EmailBackend")
EMAIL_BACKEND = OUTBOX_BACKEND  # noqa: F405
# Tests that keep mail in the Outbox only (no delivery) read account emails from
# django.core.mail.outbox: their recipient's mailbox, not the workspace's Outbox.
ACCOUNT_EMAIL_FALLBACK_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
LOGGING["root"]["level"] = "WARNING"  # noqa: F405
# Serve static files straight from the app and static/ folders, no collectstatic needed.
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = True
MEDIA_ROOT = env.path("MEDIA_ROOT", default=str(VAR_DIR / "test-media"))  # noqa: F405
# Small chunks, so tests exercise chunking, checkpoints and resumption on small files.
IMPORT_CHUNK_ROWS = env.int("IMPORT_CHUNK_ROWS", default=1000)
# Webhook attempts in tests (the worker process reads these too): short timeouts, tiny
# waits, three attempts, so a receiver that never answers fails in a few seconds.
WEBHOOK_CONNECT_TIMEOUT = env.float("WEBHOOK_CONNECT_TIMEOUT", default=1.0)
WEBHOOK_READ_TIMEOUT = env.float("WEBHOOK_READ_TIMEOUT", default=1.0)
WEBHOOK_MAX_ATTEMPTS = env.int("WEBHOOK_MAX_ATTEMPTS", default=3)
WEBHOOK_RETRY_DELAYS = [0.2, 0.4]
# A worker restarted by the tests queues again, at once, the digests a killed one had reserved.
DIGEST_REQUEUE_SECONDS = env.int("DIGEST_REQUEUE_SECONDS", default=1)
