"""Django settings: the one place that reads the environment (python-decouple)."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from urllib.parse import quote, urlsplit

import django_stubs_ext
from celery.schedules import crontab
from decouple import Csv, config
from django.core.exceptions import ImproperlyConfigured

from project.esp import anymail_settings, parse_domain_rates
from project.redis import parse_sentinels
from worker import queues

# Lets generic Django classes be subscripted at run time (ModelAdmin[Delivery]).
django_stubs_ext.monkeypatch()

BASE_DIR = Path(__file__).resolve().parent.parent

DEBUG = config("DEBUG", default=False, cast=bool)

_PLACEHOLDER_SECRET = "change-me"  # noqa: S105 (the .env.example value)
SECRET_KEY = config("SECRET_KEY", default="")


def _weak_secret_key(key: str) -> bool:
    """Missing, the placeholder, short, or low in entropy (few characters, or one
    short run repeated): Django's own bar for `check --deploy`, and a bit more."""
    repeated = key in (key + key)[1:-1]
    placeholder = key.startswith((_PLACEHOLDER_SECRET, "django-insecure-"))
    return len(key) < 50 or len(set(key)) < 10 or repeated or placeholder


if not DEBUG and _weak_secret_key(SECRET_KEY):
    raise ImproperlyConfigured(
        "SECRET_KEY is missing, still the placeholder from .env.example, or weak "
        "(under 50 characters, or too few different ones). Set a long random one, "
        "e.g. python -c 'import secrets; print(secrets.token_urlsafe(50))' "
        "(or DEBUG=True for local development)."
    )
if not SECRET_KEY:
    SECRET_KEY = "dev-only-" + "x" * 50  # DEBUG only: never reachable in production

ALLOWED_HOSTS = config("ALLOWED_HOSTS", default="localhost,127.0.0.1", cast=Csv())
CSRF_TRUSTED_ORIGINS = config("CSRF_TRUSTED_ORIGINS", default="", cast=Csv())
FRONTEND_URL = config("FRONTEND_URL", default="http://127.0.0.1:8000").rstrip("/")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django_celery_results",
    "anymail",
    "axes",
    "csp",
    "django_ratelimit",
    "users",
    "tasks",
    "notifications",
    "worker",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "csp.middleware.CSPMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "users.actor.ActorMiddleware",
    "users.middleware.TimeZoneMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "notifications.middleware.ReadFromEmailMiddleware",
    "ui.middleware.HtmxWholePageMiddleware",
    "ui.middleware.FriendlyNotFoundMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_ratelimit.middleware.RatelimitMiddleware",
    # Last, as django-axes asks: turns a locked-out sign-in into its page.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "project.urls"
WSGI_APPLICATION = "project.wsgi.application"

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
                "users.context_processors.sign_up",
            ],
        },
    },
]

# Database: PostgreSQL when DB_NAME is set, SQLite otherwise.
DB_NAME = config("DB_NAME", default="")
if DB_NAME:
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.postgresql",
            "NAME": DB_NAME,
            "USER": config("DB_USER", default="postgres"),
            "PASSWORD": config("DB_PASSWORD", default=""),
            "HOST": config("DB_HOST", default="127.0.0.1"),
            "PORT": config("DB_PORT", default="5432"),
            "CONN_MAX_AGE": config("DB_CONN_MAX_AGE", default=60, cast=int),
            "CONN_HEALTH_CHECKS": True,
        }
    }
else:
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": config("SQLITE_PATH", default=str(BASE_DIR / "db.sqlite3")),
            # The web process, the worker and beat share one file: wait for locks.
            "OPTIONS": {"timeout": 20, "transaction_mode": "IMMEDIATE"},
        }
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "users.User"
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": f"django.contrib.auth.password_validation.{name}"}
    for name in (
        "UserAttributeSimilarityValidator",
        "MinimumLengthValidator",
        "CommonPasswordValidator",
        "NumericPasswordValidator",
    )
]
LOGIN_URL = "users:sign-in"
LOGIN_REDIRECT_URL = "/"
LOGOUT_REDIRECT_URL = "users:sign-in"
# Seconds an activation, email-change or address-restore link works (Django's
# name; users/tokens.py).
PASSWORD_RESET_TIMEOUT = config(
    "PASSWORD_RESET_TIMEOUT", default=60 * 60 * 24 * 3, cast=int
)
# Seconds a password-reset link works: shorter, as a link that changes the
# password should be (users.tokens.PasswordResetLinkTokenGenerator).
PASSWORD_RESET_LINK_TIMEOUT = config(
    "PASSWORD_RESET_LINK_TIMEOUT", default=60 * 60, cast=int
)
if not 0 < PASSWORD_RESET_LINK_TIMEOUT <= PASSWORD_RESET_TIMEOUT:
    raise ImproperlyConfigured(
        "PASSWORD_RESET_LINK_TIMEOUT must be positive and at most "
        "PASSWORD_RESET_TIMEOUT, which Django's token check applies first."
    )

# Accounts never activated are deleted this many days after their sign-up (a
# nightly beat job), so an address someone else signed up with is free for its
# owner again; at least as long as an activation link stays valid.
UNACTIVATED_ACCOUNT_DAYS = config("UNACTIVATED_ACCOUNT_DAYS", default=7, cast=int)
if UNACTIVATED_ACCOUNT_DAYS * 86400 < PASSWORD_RESET_TIMEOUT:
    raise ImproperlyConfigured(
        "UNACTIVATED_ACCOUNT_DAYS must be at least as long as an activation link "
        "stays valid (PASSWORD_RESET_TIMEOUT), or accounts go while their link works."
    )

# Whether anyone may sign up on their own (and then wait for an Admin's approval
# before being assigned); off, people join by an Admin's invitation (/team/).
# Off unless set; `make run` turns it on.
SIGN_UP_OPEN = config("SIGN_UP_OPEN", default=False, cast=bool)

# `make run` only: the password given to the demo accounts (.env, generated).
DEMO_PASSWORD = config("DEMO_PASSWORD", default="")

LANGUAGE_CODE = "en-us"
TIME_ZONE = config("TIME_ZONE", default="UTC")
USE_I18N = True
USE_TZ = True
# One way of writing dates and times everywhere (project/formats/en/formats.py).
FORMAT_MODULE_PATH = ["project.formats"]

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}

# Email: only the worker talks to SMTP.
# Django's SMTP backend, with certificates verified even beside a client
# certificate (notifications/smtp.py says why).
EMAIL_BACKEND = config("EMAIL_BACKEND", default="notifications.smtp.EmailBackend")
EMAIL_HOST = config("EMAIL_HOST", default="127.0.0.1")
EMAIL_PORT = config("EMAIL_PORT", default=1025, cast=int)
EMAIL_USE_TLS = config("EMAIL_USE_TLS", default=False, cast=bool)  # STARTTLS, 587
EMAIL_USE_SSL = config("EMAIL_USE_SSL", default=False, cast=bool)  # implicit, 465
if EMAIL_USE_TLS and EMAIL_USE_SSL:
    raise ImproperlyConfigured(
        "EMAIL_USE_TLS (STARTTLS, usually port 587) and EMAIL_USE_SSL (implicit "
        "TLS, usually port 465) exclude each other: set only the one your "
        "provider's port speaks."
    )
EMAIL_SSL_CERTFILE = config("EMAIL_SSL_CERTFILE", default="") or None
EMAIL_SSL_KEYFILE = config("EMAIL_SSL_KEYFILE", default="") or None
EMAIL_SSL_CAFILE = config("EMAIL_SSL_CAFILE", default="") or None  # a private CA
EMAIL_HOST_USER = config("EMAIL_HOST_USER", default="")
EMAIL_HOST_PASSWORD = config("EMAIL_HOST_PASSWORD", default="")
EMAIL_TIMEOUT = config("EMAIL_TIMEOUT", default=10, cast=int)
# The provider's pace, shared by every worker (notifications/pace.py); unset: none.
EMAIL_RATE_LIMIT = config(
    "EMAIL_RATE_LIMIT", default="", cast=lambda v: float(v) if v else None
)
EMAIL_DAILY_LIMIT = config(
    "EMAIL_DAILY_LIMIT", default="", cast=lambda v: int(v) if v else None
)
# The share of EMAIL_DAILY_LIMIT (percent) kept for account emails (activation,
# reset, email change): notifications stop short of it.
EMAIL_DAILY_ACCOUNT_RESERVE = config(
    "EMAIL_DAILY_ACCOUNT_RESERVE", default=10, cast=int
)
# Per recipient domain, messages per second (outlook.com=5,gmail.com=20), shared
# by every worker like EMAIL_RATE_LIMIT.
EMAIL_DOMAIN_RATE_LIMITS = config(
    "EMAIL_DOMAIN_RATE_LIMITS", default="", cast=parse_domain_rates
)
DEFAULT_FROM_EMAIL = config("DEFAULT_FROM_EMAIL", default="Tasks <noreply@example.com>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL
# A second SMTP relay that carries the mail while the primary cannot be reached
# or keeps answering busy (notifications/relays.py); unset: none.
EMAIL_FALLBACK_HOST = config("EMAIL_FALLBACK_HOST", default="")
EMAIL_FALLBACK_PORT = config("EMAIL_FALLBACK_PORT", default=587, cast=int)
EMAIL_FALLBACK_USER = config("EMAIL_FALLBACK_USER", default="")
EMAIL_FALLBACK_PASSWORD = config("EMAIL_FALLBACK_PASSWORD", default="")
EMAIL_FALLBACK_USE_TLS = config("EMAIL_FALLBACK_USE_TLS", default=True, cast=bool)
EMAIL_FALLBACK_USE_SSL = config("EMAIL_FALLBACK_USE_SSL", default=False, cast=bool)
if EMAIL_FALLBACK_USE_TLS and EMAIL_FALLBACK_USE_SSL:
    raise ImproperlyConfigured(
        "EMAIL_FALLBACK_USE_TLS (STARTTLS) and EMAIL_FALLBACK_USE_SSL (implicit "
        "TLS) exclude each other: set only the one the fallback relay's port speaks."
    )
# DKIM signatures on every email sent over SMTP (notifications/dkim.py): the
# signing domain, the selector its public key is published under
# (<selector>._domainkey.<domain>) and the private key's PEM file.
DKIM_DOMAIN = config("DKIM_DOMAIN", default="")
DKIM_SELECTOR = config("DKIM_SELECTOR", default="")
DKIM_PRIVATE_KEY = config("DKIM_PRIVATE_KEY", default="")
if any((DKIM_DOMAIN, DKIM_SELECTOR, DKIM_PRIVATE_KEY)) and not all(
    (DKIM_DOMAIN, DKIM_SELECTOR, DKIM_PRIVATE_KEY)
):
    raise ImproperlyConfigured(
        "DKIM needs all three of DKIM_DOMAIN, DKIM_SELECTOR and DKIM_PRIVATE_KEY."
    )
# django-anymail, when EMAIL_BACKEND names one of its ESP backends
# (anymail.backends.postmark.EmailBackend, ...): the ESP's API key, its API URL
# (another region; unset: the ESP's default), and the credentials and signing
# key its tracking webhooks (/notifications/webhooks/<esp>/) must present.
ANYMAIL = anymail_settings(
    EMAIL_BACKEND,
    api_key=config("ESP_API_KEY", default=""),
    api_url=config("ESP_API_URL", default=""),
    webhook_secret=config("ANYMAIL_WEBHOOK_SECRET", default=""),
    webhook_signing_key=config("ESP_WEBHOOK_SIGNING_KEY", default=""),
    timeout=EMAIL_TIMEOUT,
)

# Mail that comes back (notifications/inbound.py). With INBOUND_DOMAIN set, every
# email's envelope sender is bounces+<signed token>@INBOUND_DOMAIN and task emails
# answer to reply+<signed token>@INBOUND_DOMAIN; unset, nothing is received.
INBOUND_DOMAIN = config("INBOUND_DOMAIN", default="").strip().lower()
# `manage.py serve_inbound_smtp` (make run starts it) listens here, on loopback
# unless told otherwise.
INBOUND_SMTP_PORT = config("INBOUND_SMTP_PORT", default=2525, cast=int)
# Larger messages are refused at every door: Django's own limit on a request's
# form fields, so an ESP's webhook takes what the SMTP listener and the pipe take.
INBOUND_MAX_MESSAGE_BYTES = 2_621_440
# Replies one person may turn into comments in an hour; past it they are refused.
INBOUND_REPLIES_PER_HOUR = 20
# Soft bounces (4.x.x) suppress an address once this many came within the window.
INBOUND_SOFT_BOUNCE_LIMIT = 3
INBOUND_SOFT_BOUNCE_DAYS = 7
# ESPs' inbound webhooks (django-anymail, /anymail/<esp>/inbound/) present the
# same basic-auth secret (ANYMAIL_WEBHOOK_SECRET, above); Mailgun's inbound route
# also signs with its key, which may be set apart from an EMAIL_BACKEND of
# another ESP. Only when set: an empty signing key would let anyone sign.
MAILGUN_WEBHOOK_SIGNING_KEY = config("MAILGUN_WEBHOOK_SIGNING_KEY", default="")
if MAILGUN_WEBHOOK_SIGNING_KEY:
    ANYMAIL["MAILGUN_WEBHOOK_SIGNING_KEY"] = MAILGUN_WEBHOOK_SIGNING_KEY

# Celery: the broker is Redis; an unset CELERY_BROKER_URL means the embedded
# Redis that `make run` starts on this loopback port.
EMBEDDED_REDIS_PORT = config("EMBEDDED_REDIS_PORT", default=6390, cast=int)
CELERY_BROKER_URL = config(
    "CELERY_BROKER_URL", default=f"redis://127.0.0.1:{EMBEDDED_REDIS_PORT}/0"
)
# With Sentinels (CELERY_BROKER_URL=sentinel://host:26379;sentinel://host2:26379/0)
# the name of the primary they watch.
REDIS_SENTINEL_MASTER = config("REDIS_SENTINEL_MASTER", default="mymaster")
if parse_sentinels(CELERY_BROKER_URL) is not None:
    # kombu's Sentinel transport, fixed to survive a failover (worker/sentinel.py).
    CELERY_BROKER_TRANSPORT = "worker.sentinel:Transport"
# Jobs are acknowledged late; Redis hands an unacknowledged job to another worker
# after this many seconds, so every retry countdown and time limit stays below it.
CELERY_VISIBILITY_TIMEOUT = 3600
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "visibility_timeout": CELERY_VISIBILITY_TIMEOUT,
    "socket_connect_timeout": 2,
    "socket_timeout": 5,
    # Queues in the order listed below, not round robin: account emails first.
    "queue_order_strategy": "priority",
    # Read by kombu's sentinel:// transport only.
    "master_name": REDIS_SENTINEL_MASTER,
}
# Two lanes (worker/queues.py). "priority" carries account emails (activation,
# password reset) and the sweep; "bulk" the notifications. A worker consumes both,
# "priority" first, unless told otherwise with -Q.
CELERY_TASK_QUEUES: dict[str, dict[str, str]] = {lane: {} for lane in queues.IN_ORDER}
CELERY_TASK_DEFAULT_QUEUE = queues.BULK
CELERY_TASK_ROUTES = {
    "notifications.sweep_outbox": {"queue": queues.URGENT},
    "notifications.send_digests": {"queue": queues.URGENT},
}
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_SOFT_TIME_LIMIT = 240
CELERY_TASK_TIME_LIMIT = 300
# No "task-sent" event: it is one more Redis round trip on every request that
# records an email; Flower still shows each job from the worker's events.
CELERY_TASK_SEND_SENT_EVENT = False
CELERY_WORKER_SEND_TASK_EVENTS = True
CELERY_RESULT_BACKEND = "django-db"
CELERY_RESULT_EXTENDED = True
# Job results are deleted this long after they were stored (by the nightly
# retention job, in batches).
CELERY_RESULT_EXPIRES = timedelta(
    days=config("CELERY_RESULT_EXPIRE_DAYS", default=7, cast=int)
)
# A long-running worker process is replaced after this many jobs, so memory a
# library keeps (template caches, SSL contexts, fragmentation) cannot grow
# without end; at 50 emails a job that is every 50,000 emails, about one new
# process a few minutes into a large burst, which costs a fork.
CELERY_WORKER_MAX_TASKS_PER_CHILD = 1000
CELERY_TIMEZONE = TIME_ZONE
FLOWER_BASIC_AUTH = config("FLOWER_BASIC_AUTH", default="")

# Notifications: retry, sweep and lease timings for notifications/ and worker/.
NOTIFICATIONS_BATCH_SIZE = 50  # delivery ids per job
NOTIFICATIONS_MAX_ATTEMPTS = config("NOTIFICATIONS_MAX_ATTEMPTS", default=12, cast=int)
NOTIFICATIONS_RETRY_BASE_DELAY = config(
    "NOTIFICATIONS_RETRY_BASE_DELAY", default=30.0, cast=float
)
NOTIFICATIONS_RETRY_MAX_DELAY = config(
    "NOTIFICATIONS_RETRY_MAX_DELAY", default=900.0, cast=float
)
if NOTIFICATIONS_RETRY_MAX_DELAY >= CELERY_VISIBILITY_TIMEOUT:
    raise ImproperlyConfigured(
        "NOTIFICATIONS_RETRY_MAX_DELAY must stay below the broker visibility "
        "timeout, or Redis hands a retry waiting for its countdown to a second worker."
    )
# An email about a task waits this long after the first change to it, so that
# every change within the window goes out as one email (0: one email per change,
# at once). Each person may choose otherwise (notifications/timing.py).
NOTIFICATIONS_COALESCE_SECONDS = config(
    "NOTIFICATIONS_COALESCE_SECONDS", default=120, cast=int
)
# The sweep re-dispatches deliveries queued longer than the grace, and those left
# in "sending" past the lease: longer than the hard time limit, so only dead ones.
NOTIFICATIONS_SWEEP_GRACE = config("NOTIFICATIONS_SWEEP_GRACE", default=60, cast=int)
# /healthz and the delivery log call the outbox lagging when the oldest due
# delivery has waited longer than this (seconds).
NOTIFICATIONS_LAG_THRESHOLD = config(
    "NOTIFICATIONS_LAG_THRESHOLD", default=600, cast=int
)
# Sent, skipped, cancelled and bundled deliveries older than this many days are
# deleted by the nightly retention job; failed ones stay until dealt with.
NOTIFICATIONS_RETENTION_DAYS = config(
    "NOTIFICATIONS_RETENTION_DAYS", default=90, cast=int
)
# Prometheus scrapes /metrics with "Authorization: Bearer <METRICS_TOKEN>";
# unset, /metrics answers 404.
METRICS_TOKEN = config("METRICS_TOKEN", default="")
NOTIFICATIONS_LEASE = CELERY_TASK_TIME_LIMIT + 60
# Every open page asks this often (seconds) whether the bell's unread count changed.
NOTIFICATIONS_INBOX_POLL_SECONDS = 30
NOTIFICATIONS_RESEND_WINDOW = 300  # one activation / reset email per 5 minutes
# A busy provider (throttling, quota spent) pauses all sending this long, doubled
# while it keeps refusing, up to the cap.
NOTIFICATIONS_PROVIDER_COOLDOWN = config(
    "NOTIFICATIONS_PROVIDER_COOLDOWN", default=10.0, cast=float
)
NOTIFICATIONS_PROVIDER_COOLDOWN_MAX = config(
    "NOTIFICATIONS_PROVIDER_COOLDOWN_MAX", default=1800.0, cast=float
)
# With a fallback relay: a probe tries the primary again this long after the
# fallback took over, doubled while the primary stays down, up to the cap.
NOTIFICATIONS_FAILOVER_PROBE = config(
    "NOTIFICATIONS_FAILOVER_PROBE", default=30.0, cast=float
)
NOTIFICATIONS_FAILOVER_PROBE_MAX = config(
    "NOTIFICATIONS_FAILOVER_PROBE_MAX", default=300.0, cast=float
)
# A notifications run hands what it has not sent to a new job after this long,
# so account emails queued behind it find a free worker within seconds.
NOTIFICATIONS_BULK_RUN_SECONDS = config(
    "NOTIFICATIONS_BULK_RUN_SECONDS", default=3.0, cast=float
)
# How often beat looks for due-date reminders whose hour has passed: the
# longest a reminder waits after its hour.
NOTIFICATIONS_REMINDER_INTERVAL = config(
    "NOTIFICATIONS_REMINDER_INTERVAL", default=60.0, cast=float
)
CELERY_BEAT_SCHEDULE = {
    "sweep-outbox": {"task": "notifications.sweep_outbox", "schedule": 30.0},
    # Each person's digest goes at their hour; this looks for due ones.
    "send-digests": {"task": "notifications.send_digests", "schedule": 300.0},
    # Due-date reminders at each person's hour (notifications/reminders.py).
    "send-reminders": {
        "task": "notifications.send_reminders",
        "schedule": NOTIFICATIONS_REMINDER_INTERVAL,
    },
    "purge-outbox": {
        "task": "notifications.purge_outbox",
        "schedule": crontab(hour=3, minute=17),  # nightly, off the hour
    },
    "delete-unactivated-accounts": {
        "task": "users.delete_unactivated_accounts",
        "schedule": crontab(hour=3, minute=47),
    },
}
# End of Notifications.

# Security: strict unless DEBUG.
SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_HTTPONLY = False
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
# Only behind a reverse proxy of ours may X-Forwarded-* be believed: published
# directly, any client could claim HTTPS or another address.
BEHIND_PROXY = config("BEHIND_PROXY", default=False, cast=bool)
if BEHIND_PROXY:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
if not DEBUG:
    SECURE_SSL_REDIRECT = config("SECURE_SSL_REDIRECT", default=True, cast=bool)
    # Probes and Prometheus speak plain HTTP inside the deployment.
    SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^metrics$"]
    SESSION_COOKIE_SECURE = config("SESSION_COOKIE_SECURE", default=True, cast=bool)
    CSRF_COOKIE_SECURE = config("CSRF_COOKIE_SECURE", default=True, cast=bool)
    SECURE_HSTS_SECONDS = config(
        "SECURE_HSTS_SECONDS", default=60 * 60 * 24 * 30, cast=int
    )
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = config("SECURE_HSTS_PRELOAD", default=True, cast=bool)

# Content-Security-Policy (django-csp) on every page: only our own scripts and
# styles, no inline ones. data: images are the form controls' icons in app.css.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'none'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    }
}

# Sign-in lockout (django-axes, users/lockout.py): sign-in is refused for
# SIGN_IN_LOCKOUT_MINUTES after the last failure once one of three budgets is
# spent: SIGN_IN_FAILURE_LIMIT failures for one account from one client address,
# SIGN_IN_CLIENT_FAILURE_LIMIT from one address whatever the accounts, or
# SIGN_IN_ACCOUNT_FAILURE_LIMIT for one account from anywhere (much higher, so
# nobody locks a chosen person out with a few tries). A sign-in clears only its
# own account's failures from its own address. Kept in the database, so every
# gunicorn process and host shares it; the admin sign-in goes through it too.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    # Sign-in by username or email address; axes counts both against the account.
    "users.backends.UsernameOrEmailBackend",
]
AXES_USERNAME_CALLABLE = "users.protection.account_key"
AXES_HANDLER = "users.lockout.LockoutHandler"
AXES_FAILURE_LIMIT = config("SIGN_IN_FAILURE_LIMIT", default=5, cast=int)
SIGN_IN_CLIENT_FAILURE_LIMIT = config(
    "SIGN_IN_CLIENT_FAILURE_LIMIT", default=4 * AXES_FAILURE_LIMIT, cast=int
)
SIGN_IN_ACCOUNT_FAILURE_LIMIT = config(
    "SIGN_IN_ACCOUNT_FAILURE_LIMIT", default=10 * AXES_FAILURE_LIMIT, cast=int
)
AXES_COOLOFF_TIME = timedelta(
    minutes=config("SIGN_IN_LOCKOUT_MINUTES", default=15, cast=int)
)
# The pair axes records, locks at AXES_FAILURE_LIMIT and resets on success.
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
# Every failure is logged (WARNING, axes.handlers.database) with the username and
# client address, never the password, and kept in the admin's access failure log.
AXES_ENABLE_ACCESS_FAILURE_LOG = True
AXES_SENSITIVE_PARAMETERS: list[str] = []
AXES_LOCKOUT_CALLABLE = "users.protection.locked_out"
AXES_CLIENT_IP_CALLABLE = "users.protection.client_address"

# Rate limits per client address (django-ratelimit) on sign-up, activation resend
# and password reset. The counters live in the broker's Redis, shared by every
# process and host (a per-process cache would multiply the limit by the number
# of gunicorn workers); if Redis is down the limits lapse rather than the pages
# (the outbox's per-account resend window still holds), and /healthz says so;
# a Redis refusing our credentials stops start-up (users/checks.py).
RATELIMIT_ENABLE = config("RATELIMIT_ENABLE", default=True, cast=bool)
RATELIMIT_SIGN_UP = config("RATELIMIT_SIGN_UP", default="20/h")
RATELIMIT_ACCOUNT_EMAILS = config("RATELIMIT_ACCOUNT_EMAILS", default="10/h")
# Per signed-in account: password changes (each checks the current password),
# and comments and status changes together (each may email several people).
RATELIMIT_PASSWORD_CHANGE = config("RATELIMIT_PASSWORD_CHANGE", default="10/h")
RATELIMIT_TASK_UPDATES = config("RATELIMIT_TASK_UPDATES", default="120/h")
RATELIMIT_USE_CACHE = "ratelimit"
RATELIMIT_FAIL_OPEN = True
RATELIMIT_IP_META_KEY = "users.protection.client_address"
RATELIMIT_VIEW = "users.protection.rate_limited"


def redis_cache(url: str, prefix: str) -> dict[str, object]:
    """A django-redis cache on the broker's Redis, behind Sentinels too."""
    options: dict[str, object] = {
        "IGNORE_EXCEPTIONS": True,
        "SOCKET_CONNECT_TIMEOUT": 1,
        "SOCKET_TIMEOUT": 1,
    }
    location = url
    sentinels = parse_sentinels(url)
    if sentinels is not None:
        # The primary's password, as the broker's transport uses it: without it
        # every counter fails, and the limits fail open.
        secret = f":{quote(sentinels.password, safe='')}@" if sentinels.password else ""
        location = f"redis://{secret}{REDIS_SENTINEL_MASTER}/{sentinels.database}"
        options |= {
            "CLIENT_CLASS": "django_redis.client.SentinelClient",
            "CONNECTION_FACTORY": "django_redis.pool.SentinelConnectionFactory",
            "SENTINELS": list(sentinels.nodes),
        }
    return {
        "BACKEND": "django_redis.cache.RedisCache",
        "LOCATION": location,
        "KEY_PREFIX": prefix,
        "OPTIONS": options,
    }


CACHES = {
    "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"},
    "ratelimit": redis_cache(CELERY_BROKER_URL, "ratelimit"),
}
DJANGO_REDIS_LOG_IGNORED_EXCEPTIONS = True
# End of sign-in lockout and rate limits.

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": config("LOG_LEVEL", default="INFO")},
    "loggers": {
        # Through the root's handler only: Django's own console handler (DEBUG)
        # printed every record, tracebacks included, a second time.
        "django": {"handlers": [], "propagate": True},
        # 4xx answers (an ordinary 403 or 404) are in the access log; only 5xx
        # are worth a traceback here.
        "django.request": {"level": "ERROR"},
    },
}


# Production refuses what .env.example only holds a place for (DEBUG off).
def _deployment_mistakes() -> list[str]:
    flower_password = FLOWER_BASIC_AUTH.partition(":")[2]
    frontend = urlsplit(FRONTEND_URL)
    loopback = frontend.hostname in ("localhost", "127.0.0.1", "::1")
    return [
        problem
        for problem, found in (
            ("DB_PASSWORD is the .env.example placeholder",
             bool(DB_NAME) and DATABASES["default"]["PASSWORD"] == _PLACEHOLDER_SECRET),
            ("FLOWER_BASIC_AUTH's password is the .env.example placeholder or "
             "shorter than 12 characters",
             bool(FLOWER_BASIC_AUTH)
             and (flower_password == _PLACEHOLDER_SECRET or len(flower_password) < 12)),
            ("METRICS_TOKEN is weak: under 32 characters or few different ones "
             "(python -c 'import secrets; print(secrets.token_urlsafe(32))')",
             bool(METRICS_TOKEN)
             and (len(METRICS_TOKEN) < 32 or len(set(METRICS_TOKEN)) < 10)),
            # RFC 8058's one-click unsubscribe links must be https; a loopback
            # address serves only this machine (a local try-out).
            ("FRONTEND_URL must be https:// (emailed links, one-click unsubscribe)",
             frontend.scheme != "https" and not loopback),
        )
        if found
    ]  # fmt: skip


if not DEBUG and (_mistakes := _deployment_mistakes()):
    raise ImproperlyConfigured(
        "; ".join(_mistakes) + " (or DEBUG=True for development)."
    )

# django-debug-toolbar: development only, and only when asked for.
DEBUG_TOOLBAR = DEBUG and config("DEBUG_TOOLBAR", default=False, cast=bool)
if DEBUG_TOOLBAR:
    INSTALLED_APPS += ["debug_toolbar"]
    # After WhiteNoise, so static files skip the toolbar.
    MIDDLEWARE.insert(
        MIDDLEWARE.index("whitenoise.middleware.WhiteNoiseMiddleware") + 1,
        "debug_toolbar.middleware.DebugToolbarMiddleware",
    )
    INTERNAL_IPS = ["127.0.0.1", "::1"]
    # Collapsed to its handle, so the page stays usable (and tappable on a phone).
    DEBUG_TOOLBAR_CONFIG = {"SHOW_COLLAPSED": True}
