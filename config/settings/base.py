"""Settings shared by every environment. Every value comes from the environment.

The apps are split the django-tenants way: SHARED_APPS live in the ``public`` schema
(workspaces and their domains), TENANT_APPS get one copy per workspace schema (users,
sessions, API keys, workspace calendar, and later the datasets, KPIs and surveys).
"""
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import environ
from csp.constants import NONE, SELF, UNSAFE_INLINE

from kpis.charts import CHARTKICK_SCRIPT_HASH

BASE_DIR = Path(__file__).resolve().parent.parent.parent
VAR_DIR = BASE_DIR / "var"

env = environ.Env()

SECRET_KEY = env("SECRET_KEY", default="dev-only-insecure-key-do-not-use-in-production-0123456789")
DEBUG = env.bool("DEBUG", default=False)

# Workspaces live at <slug>.<PULSE_BASE_DOMAIN>; the public site at PULSE_BASE_DOMAIN.
PULSE_BASE_DOMAIN = env("PULSE_BASE_DOMAIN", default="localhost")
PULSE_SCHEME = env("PULSE_SCHEME", default="http")
# Port shown in the URLs Pulse prints and emails ("" for the scheme's default port).
PULSE_PORT = env("PULSE_PORT", default="8000")
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=[PULSE_BASE_DOMAIN, f".{PULSE_BASE_DOMAIN}", "127.0.0.1"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

SHARED_APPS = [
    "django_tenants",
    "tenants",
    "django.contrib.contenttypes",
    "django.contrib.auth",
    "tenants.accounts",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "chartkick.django",  # only its static files: Chart.js and Chartkick, served locally
]
TENANT_APPS = [
    "django.contrib.contenttypes",
    "django.contrib.auth",
    "django.contrib.sessions",
    "tenants.accounts",
    "tenants.workspace",
    "ingestion",
    "kpis",
    "kpis.staffing",
    "kpis.themes",
    "surveys",
    "tenants.webhooks",
]
INSTALLED_APPS = list(SHARED_APPS) + [app for app in TENANT_APPS if app not in SHARED_APPS]

TENANT_MODEL = "tenants.Workspace"
TENANT_DOMAIN_MODEL = "tenants.Domain"
# New workspaces are cloned from this migrated template schema instead of running every
# migration again: creation stays fast however many migrations and workspaces exist.
TENANT_CREATION_FAKES_MIGRATIONS = True
TENANT_BASE_SCHEMA = "_template"
PUBLIC_SCHEMA_URLCONF = "config.urls_public"
ROOT_URLCONF = "config.urls_tenant"
SHOW_PUBLIC_IF_NO_TENANT_FOUND = False
DATABASE_ROUTERS = ("django_tenants.routers.TenantSyncRouter",)

MIDDLEWARE = [
    # First, so every answer gets the Content-Security-Policy header, the "no such
    # workspace" page WorkspaceMiddleware answers by itself included.
    "csp.middleware.CSPMiddleware",
    "tenants.middleware.WorkspaceMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "tenants.middleware.WorkspaceTimezoneMiddleware",
    # After the session and the workspace: its 400 page is a normal page of the site.
    "tenants.inputs.InputGuardMiddleware",
]

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "tenants.context_processors.workspace",
            ],
        },
    },
]

WSGI_APPLICATION = "config.wsgi.application"
# The records API takes up to 10,000 rows per request (several MB of JSON).
DATA_UPLOAD_MAX_MEMORY_SIZE = env.int("DATA_UPLOAD_MAX_MEMORY_SIZE", default=64 * 1024 * 1024)

# Uploaded files (CSV imports until their report is read). Workers read them from here, so
# in a multi-machine deployment MEDIA_ROOT must be shared storage.
MEDIA_ROOT = env.path("MEDIA_ROOT", default=str(VAR_DIR / "media"))
MEDIA_URL = "/media/"  # never served: uploads are read by the app only
IMPORT_MAX_BYTES = env.int("IMPORT_MAX_MB", default=512) * 1024 * 1024
# Rows per committed chunk of an import: the unit of progress and of resumption.
IMPORT_CHUNK_ROWS = env.int("IMPORT_CHUNK_ROWS", default=20_000)

DATABASES = {"default": env.db("DATABASE_URL", default="postgres://postgres@127.0.0.1:5432/pulse")}
DATABASES["default"]["ENGINE"] = "django_tenants.postgresql_backend"
DATABASES["default"]["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=60)
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

REDIS_URL = env("REDIS_URL", default="redis://127.0.0.1:6379/0")
CACHES = {
    "default": {
        "BACKEND": "django_redis.cache.RedisCache",
        "LOCATION": REDIS_URL,
        # Keys are prefixed with the schema so one workspace never reads another's cache.
        "KEY_FUNCTION": "django_tenants.cache.make_key",
        "REVERSE_KEY_FUNCTION": "django_tenants.cache.reverse_key",
        "OPTIONS": {"CLIENT_CLASS": "django_redis.client.DefaultClient"},
    }
}

AUTH_USER_MODEL = "accounts.User"
# Sessions live in each workspace's schema, so a session cookie minted by one workspace
# means nothing to another.
SESSION_ENGINE = "django.contrib.sessions.backends.db"
SESSION_COOKIE_AGE = env.int("SESSION_COOKIE_AGE", default=14 * 24 * 3600)
LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "dashboard"
LOGOUT_REDIRECT_URL = "accounts:login"
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 10}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
PASSWORD_RESET_TIMEOUT = env.int("PASSWORD_RESET_TIMEOUT", default=3 * 3600)
PULSE_INVITATION_DAYS = env.int("PULSE_INVITATION_DAYS", default=7)

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}

EMAIL_CONFIG = env.email_url("EMAIL_URL", default="consolemail://")
vars().update(EMAIL_CONFIG)
DEFAULT_FROM_EMAIL = env("DEFAULT_FROM_EMAIL", default="Pulse <no-reply@pulse.localhost>")
EMAIL_TIMEOUT = env.int("EMAIL_TIMEOUT", default=10)
# The backend that actually delivers (from EMAIL_URL). With EMAIL_OUTBOX on, Django's
# EMAIL_BACKEND is surveys.mail.OutboxBackend: it delivers through this one (None: the
# outbox is the only mailbox) and keeps a copy of every email a workspace sends, shown on
# its Outbox page. Local and test settings turn it on; production leaves it off.
EMAIL_DELIVERY_BACKEND = EMAIL_CONFIG["EMAIL_BACKEND"]
EMAIL_OUTBOX = env.bool("EMAIL_OUTBOX", default=False)
OUTBOX_BACKEND = "surveys.mail.OutboxBackend"
# Account emails (password resets, team invitations) are never kept in the Outbox: they
# hold a credential of their recipient, and the Outbox is shared. Through the Outbox
# backend they go to the delivery backend above; when there is none (local runs without
# EMAIL_URL) they go here instead: printed on the console of the process sending them
# (the Celery worker's, in `pulse.py up`'s output). `...filebased.EmailBackend` with
# EMAIL_FILE_PATH writes them to files instead.
ACCOUNT_EMAIL_FALLBACK_BACKEND = env("ACCOUNT_EMAIL_FALLBACK_BACKEND", default="django.core.mail.backends.console.EmailBackend")
EMAIL_FILE_PATH = env("EMAIL_FILE_PATH", default=str(VAR_DIR / "mail"))
if EMAIL_OUTBOX:
    EMAIL_BACKEND = OUTBOX_BACKEND



# Content-Security-Policy (django-csp) on every answer. Scripts are the strict part: only
# files served by Pulse itself (static/, chartkick's and drf-spectacular-sidecar's copies,
# never a CDN), plus the one inline script chartkick writes after each chart, allowed by
# its hash (kpis/charts.py). No inline script of any other origin, no event handler
# attribute, no eval. Styles may be inline: templates use style attributes and Chart.js
# sizes its canvas with them. Pages are never framed (as X-Frame-Options: DENY says),
# except the Outbox's email frame, which has a policy of its own
# (surveys/views/distribution.py); the public site's forms also lead to workspace hosts
# (tenants/views.py).
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF, CHARTKICK_SCRIPT_HASH],
        "style-src": [SELF, UNSAFE_INLINE],
        "img-src": [SELF, "data:"],
        "frame-src": [SELF],
        "object-src": [NONE],
        "base-uri": [SELF],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
    },
}
# Where browsers report what the policy blocked (a collector URL); empty: no reports.
CSP_REPORT_URI = env("CSP_REPORT_URI", default="")
if CSP_REPORT_URI:
    CONTENT_SECURITY_POLICY["DIRECTIVES"]["report-uri"] = CSP_REPORT_URI


def celery_redis_url(url: str) -> str:
    """Kombu and Celery spell a Redis unix socket ``redis+socket://`` with the database as
    ``virtual_host``; redis-py and django-redis spell it ``unix://...?db=``."""
    parts = urlsplit(url)
    if parts.scheme != "unix":
        return url
    db = parse_qs(parts.query).get("db", ["0"])[0]
    return f"redis+socket://{parts.path}?virtual_host={db}"


# Celery: JSON only, named queues, long tasks acknowledged late one at a time.
CELERY_BROKER_URL = env("CELERY_BROKER_URL", default=celery_redis_url(REDIS_URL))
CELERY_RESULT_BACKEND = env("CELERY_RESULT_BACKEND", default=celery_redis_url(REDIS_URL))
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_RESULT_EXPIRES = 24 * 3600
CELERY_TASK_DEFAULT_QUEUE = "default"
CELERY_TASK_ROUTES = ("tenants.tasking.route_task",)
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_TIME_LIMIT = env.int("CELERY_TASK_TIME_LIMIT", default=30 * 60)
CELERY_TASK_SOFT_TIME_LIMIT = env.int("CELERY_TASK_SOFT_TIME_LIMIT", default=25 * 60)
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_TASK_ALWAYS_EAGER = False
CELERY_WORKER_HIJACK_ROOT_LOGGER = False

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "tenants.accounts.authentication.ApiKeyAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["tenants.accounts.permissions.IsWorkspaceMember"],
    # JSON only, with the nesting and text limits of tenants/inputs.py; forms for uploads.
    "DEFAULT_PARSER_CLASSES": [
        "tenants.inputs.GuardedJSONParser",
        "rest_framework.parsers.FormParser",
        "rest_framework.parsers.MultiPartParser",
    ],
    "DEFAULT_PAGINATION_CLASS": "tenants.pagination.PageNumberPagination",
    "PAGE_SIZE": 50,
    # AutoSchema plus the error answers (400/401/403/404/415, the shared Error body) of every operation.
    "DEFAULT_SCHEMA_CLASS": "tenants.openapi.PulseAutoSchema",
    "EXCEPTION_HANDLER": "tenants.api.exception_handler",
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer", "rest_framework.renderers.BrowsableAPIRenderer"],
    "UNAUTHENTICATED_USER": None,
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Pulse API",
    "DESCRIPTION": "Customer-service analytics: workspaces, datasets, KPIs and surveys. "
    "Authenticate with `Authorization: Bearer <api key>`; every key belongs to one workspace "
    "and is only valid on that workspace's host.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    "APPEND_COMPONENTS": {
        "securitySchemes": {"ApiKey": {"type": "http", "scheme": "bearer", "description": "A workspace API key"}}
    },
    "SECURITY": [{"ApiKey": []}],
    # Choice sets whose field names other components use too: named, not numbered.
    "ENUM_NAME_OVERRIDES": {
        "AlertRuleKindEnum": "kpis.models.AlertRule.Kind",
        "AlertDirectionEnum": "kpis.models.AlertRule.Direction",
        "StaffingModeEnum": "kpis.staffing.models.StaffingChannel.Mode",
        "StaffingMethodEnum": "kpis.staffing.models.StaffingChannel.Method",
        "StaffingPlanMethodEnum": ["erlang_a", "erlang_c", "backlog"],
        "StaffingHandleTimeSourceEnum": ["set", "measured", "assumed"],
    },
}

# Outgoing webhooks (tenants/webhooks): timeouts of each POST (connect, read; seconds),
# attempts in all, and the waits between attempts (the last one repeats).
WEBHOOK_CONNECT_TIMEOUT = env.float("WEBHOOK_CONNECT_TIMEOUT", default=5.0)
WEBHOOK_READ_TIMEOUT = env.float("WEBHOOK_READ_TIMEOUT", default=10.0)
WEBHOOK_MAX_ATTEMPTS = env.int("WEBHOOK_MAX_ATTEMPTS", default=7)
WEBHOOK_RETRY_DELAYS = [float(s) for s in env.list("WEBHOOK_RETRY_DELAYS", default=["30", "120", "600", "3600", "21600", "86400"])]

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env("LOG_LEVEL", default="INFO")},
    "loggers": {"django.db.backends": {"level": "WARNING"}},
}

# Surveys' public link: answers accepted per client address and survey ("30/10m": 30 per
# 10 minutes); empty turns the limit off (the answer benchmark's 50 clients share one IP).
SURVEY_PUBLIC_RATE = env("SURVEY_PUBLIC_RATE", default="30/10m")
# Scanner protection (surveys/services/scanner.py): a survey form sent back sooner than
# this many seconds after its page was shown was not read by a person, and is held for a
# team lead's review. The delivery window is per workspace (Survey settings).
SURVEY_MIN_DWELL_SECONDS = env.float("SURVEY_MIN_DWELL_SECONDS", default=1.5)
# Account forms, POSTs per client address (tenants/ratelimits.py; empty: no limit): the
# sign-in of a workspace (password guessing across many emails, which the per-email
# lockout does not see), the public sign-up (workspaces are schemas: costly to create)
# and the password-reset request (each one emails a member).
ACCOUNT_SIGN_IN_RATE = env("ACCOUNT_SIGN_IN_RATE", default="30/10m")
ACCOUNT_SIGN_UP_RATE = env("ACCOUNT_SIGN_UP_RATE", default="10/h")
ACCOUNT_PASSWORD_RESET_RATE = env("ACCOUNT_PASSWORD_RESET_RATE", default="10/h")
# "Send me a preview now" of the digest settings page, per client address: each click
# emails the team lead a digest with its charts drawn.
DIGEST_PREVIEW_RATE = env("DIGEST_PREVIEW_RATE", default="5/10m")
# Trusted reverse proxies in front of the app (each appends to X-Forwarded-For): the
# client address of every rate limit is read that many entries from the right. 0: the
# connection's address (no proxy). SURVEY_PUBLIC_PROXY_HOPS is its former name.
PROXY_HOPS = env.int("PROXY_HOPS", default=env.int("SURVEY_PUBLIC_PROXY_HOPS", default=0))
# A refused form on the public survey pages (blocked cookies) gets a page asking to
# reload; other pages keep Django's own.
CSRF_FAILURE_VIEW = "surveys.views.answering.csrf_failure"
# django-tenants issues `SET search_path` once per request (per workspace switch) rather
# than before every query; it forgets the setting on rollback, so this is safe and halves
# the round trips of a request (the public answer endpoint is benchmarked).
TENANT_LIMIT_SET_CALLS = env.bool("TENANT_LIMIT_SET_CALLS", default=True)

# Digest emails (kpis/services/digests.py): a pending delivery older than this lost its
# task message (a broker flush, a worker killed with it reserved) and is queued again by
# the next due check — harmless if it was not lost, since each send claims its row first.
DIGEST_REQUEUE_SECONDS = env.int("DIGEST_REQUEUE_SECONDS", default=600)
