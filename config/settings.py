"""Momento settings, read from the environment (see README "Configuration").

Every variable has a safe laptop default; production sets DEBUG=0, SECRET_KEY,
ALLOWED_HOSTS, FIELD_ENCRYPTION_KEY, DATABASE_URL and CELERY_BROKER_URL, and passes
``python manage.py check --deploy``.
"""

from __future__ import annotations

import base64
import hashlib
from pathlib import Path

import environ
from django.utils.csp import CSP
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(environ.Env().str("MOMENTO_VAR_DIR", default=str(BASE_DIR / "var")))

env = environ.Env()
env.smart_cast = False


def _secret(name: str, default: str | None = None) -> str | None:
    """A secret from NAME, or from the file named by NAME_FILE (Docker/K8s secrets)."""
    path = env.str(f"{name}_FILE", default="")
    if path:
        return Path(path).read_text().strip()
    return env.str(name, default=default)


SECRET_KEY = _secret("SECRET_KEY", default="")
# A laptop with nothing configured is a development box; a server sets SECRET_KEY and
# is then in production unless DEBUG=1 says otherwise.
DEBUG = env.bool("DEBUG", default=not SECRET_KEY)
if not SECRET_KEY:
    if not DEBUG:
        raise RuntimeError("SECRET_KEY must be set when DEBUG is off (see README).")
    SECRET_KEY = "django-insecure-momento-development-only-key-do-not-use"  # noqa: S105

# Old keys kept while rotating SECRET_KEY: sessions, signed links and erasure
# tombstones (contacts.Tombstone) made under them still verify.
SECRET_KEY_FALLBACKS = env.list("SECRET_KEY_FALLBACKS", default=[])

ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])
SITE_URL = env.str("SITE_URL", default="http://127.0.0.1:8000").rstrip("/")

# Fernet key(s) for credentials stored at rest; comma-separated, newest first, so keys
# can be rotated. Development derives one from SECRET_KEY; production must set it.
FIELD_ENCRYPTION_KEY = _secret("FIELD_ENCRYPTION_KEY", default="")
if not FIELD_ENCRYPTION_KEY:
    if not DEBUG:
        raise RuntimeError("FIELD_ENCRYPTION_KEY must be set when DEBUG is off (see README).")
    FIELD_ENCRYPTION_KEY = base64.urlsafe_b64encode(
        hashlib.sha256(SECRET_KEY.encode()).digest()
    ).decode()

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.postgres",
    "rest_framework",
    "rest_framework.authtoken",
    "django_filters",
    "drf_spectacular",
    "django_htmx",
    "django_celery_beat",
    "django_celery_results",
    "axes",
    # Momento's apps, lowest layer first (README "Architecture").
    "core",
    "contacts",
    "crm",
    "support",
    "campaigns",
    # The demo loader (``seed_demo``): apart, so no production module imports it.
    "demo",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "core.middleware.NoStoreMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "core.middleware.LoginRequiredMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django.middleware.csp.ContentSecurityPolicyMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "django.template.context_processors.csp",
                "core.context_processors.shell",
                "demo.context_processors.demo",
            ],
        },
    },
]

# --- Database -------------------------------------------------------------------------
# Without DATABASE_URL: an SQLite file under var/ (WAL, immediate transactions so the web
# process, the worker and beat can share it). With it: usually PostgreSQL.
DATABASES = {
    "default": env.db("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'momento.sqlite3'}"),
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATABASES["default"]["OPTIONS"] = {
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
    }
else:
    DATABASES["default"]["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=60)
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
IS_POSTGRES = DATABASES["default"]["ENGINE"].endswith("postgresql")

# --- Cache (DRF throttles, axes) -------------------------------------------------------
REDIS_URL = env.str("REDIS_URL", default="")
if REDIS_URL:
    CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}
    }
else:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
            "LOCATION": str(VAR_DIR / "cache"),
        }
    }

# --- Auth -----------------------------------------------------------------------------
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"
AXES_FAILURE_LIMIT = env.int("AXES_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = env.float("AXES_COOLOFF_HOURS", default=0.25)  # hours
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"

# --- Internationalisation -------------------------------------------------------------
LANGUAGE_CODE = "en"
LANGUAGES = [("en", _("English")), ("es", _("Spanish"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
#: The language of the demo's names (``seed_demo``; ``make run DEMO_LANGUAGE=es``).
MOMENTO_DEMO_LANGUAGE = env.str("MOMENTO_DEMO_LANGUAGE", default=LANGUAGE_CODE)
TIME_ZONE = env.str("TIME_ZONE", default="UTC")
USE_I18N = True
USE_TZ = True

# --- Static files ---------------------------------------------------------------------
STATIC_URL = "static/"
STATIC_ROOT = Path(env.str("STATIC_ROOT", default=str(BASE_DIR / "staticfiles")))
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
WHITENOISE_USE_FINDERS = DEBUG

# --- Security headers -----------------------------------------------------------------
# No inline script anywhere: HTMX and our JS come from /static/, styles too.
SECURE_CSP = {
    "default-src": [CSP.SELF],
    "script-src": [CSP.SELF],
    "style-src": [CSP.SELF],
    "img-src": [CSP.SELF, "data:", "https:"],
    "connect-src": [CSP.SELF],
    "frame-ancestors": [CSP.NONE],
    "form-action": [CSP.SELF],
    "base-uri": [CSP.SELF],
    "object-src": [CSP.NONE],
}
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
SESSION_COOKIE_HTTPONLY = True
if not DEBUG:
    SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=True)
    SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=31536000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = env.bool("SECURE_HSTS_PRELOAD", default=True)
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    if env.bool("BEHIND_TLS_PROXY", default=False):
        SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

# --- REST API -------------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        # Token first: an anonymous request then gets 401 with WWW-Authenticate.
        "rest_framework.authentication.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["core.permissions.RolePermission"],
    # DRF's three parsers, the JSON one with its nesting bounded (core.parsers).
    "DEFAULT_PARSER_CLASSES": [
        "core.parsers.JSONParser",
        "rest_framework.parsers.FormParser",
        "rest_framework.parsers.MultiPartParser",
    ],
    # django-filter, skipped where a request filters nothing (core/filters.py).
    "DEFAULT_FILTER_BACKENDS": ["core.filters.FilterBackend"],
    "DEFAULT_PAGINATION_CLASS": "core.paging.KeysetPagination",
    "PAGE_SIZE": 50,
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_THROTTLE_CLASSES": [
        "rest_framework.throttling.AnonRateThrottle",
        "core.throttling.ClientRateThrottle",
    ],
    "DEFAULT_THROTTLE_RATES": {
        "anon": env.str("API_THROTTLE_ANON", default="30/min"),
        "user": env.str("API_THROTTLE_USER", default="1200/min"),
        # API tokens (shops, BI, scripts): see core/throttling.py and docs/benchmarks.md.
        "integration": env.str("API_THROTTLE_INTEGRATION", default="12000/min"),
    },
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
    # The browsable API's inline styles and scripts break the CSP: it is a development
    # aid (DEBUG=1 or API_BROWSABLE=1); production serves JSON only.
    "DEFAULT_RENDERER_CLASSES": [
        "rest_framework.renderers.JSONRenderer",
        *(
            ["core.renderers.BrowsableAPIRenderer"]
            if env.bool("API_BROWSABLE", default=DEBUG)
            else []
        ),
    ],
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Momento API",
    "DESCRIPTION": "Contacts, timelines, social accounts, campaigns and support for Momento CRM.",
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    "SERVE_PERMISSIONS": ["rest_framework.permissions.IsAuthenticated"],
    # Vendored (no CDN here); served by SpectacularSwaggerSplitView, which keeps the
    # page's script out of line so the CSP holds on /api/docs/ too.
    "SWAGGER_UI_DIST": "/static/vendor/swagger-ui",
    "SWAGGER_UI_FAVICON_HREF": "/static/img/favicon.svg",
    "COMPONENT_SPLIT_REQUEST": True,
    # Several models have a "kind"/"state": name each enum after its model.
    "ENUM_NAME_OVERRIDES": {
        "EntryKindEnum": "core.choices.EntryKind",
        "SocialAccountKindEnum": "crm.models.SocialAccount.Kind",
        "SocialAccountStateEnum": "crm.models.SocialAccount.State",
        "OutboundKindEnum": "crm.models.OutboundMessage.Kind",
        "OutboundStateEnum": "crm.models.OutboundMessage.State",
        "SyncStreamStatusEnum": "crm.models.SyncStream.Status",
        "StatusEnum": "support.models.tickets.Status",  # the tickets' (its name before streams)
        # One name for the stage choices wherever they appear (contacts, rules).
        "StageEnum": "contacts.models.Stage",
    },
}

# --- Celery ---------------------------------------------------------------------------
# Without CELERY_BROKER_URL: kombu's filesystem transport under var/celery (one machine).
CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default="filesystem://localhost//")
if CELERY_BROKER_URL.startswith("filesystem://"):
    _queue_dir = VAR_DIR / "celery" / "queue"
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(_queue_dir),
        "data_folder_out": str(_queue_dir),
        "control_folder": str(VAR_DIR / "celery" / "control"),
        "processed_folder": str(VAR_DIR / "celery" / "processed"),
        "store_processed": False,
        "polling_interval": 0.1,
    }
    # The transport expects its folders to exist (any process may queue first).
    for _folder in ("queue", "control", "processed"):
        (VAR_DIR / "celery" / _folder).mkdir(parents=True, exist_ok=True)
elif CELERY_BROKER_URL.startswith(("redis://", "rediss://")):
    # Redis hands an unacknowledged message (a late-acked task still running, or waiting
    # for its countdown/eta in a worker) to another worker after `visibility_timeout`.
    # It must exceed the longest countdown or eta a task is given plus its hard time
    # limit, or a waiting task runs twice: sync tasks never wait longer than
    # MOMENTO_TASK_MAX_COUNTDOWN (15 min; a later rate-limit reset is handed to beat and
    # the sweeper instead). An outbox send scheduled further ahead may be handed out
    # twice; its row is claimed before sending, so it is still sent once. A killed
    # worker's messages come back only after it, but sync does not wait for them: its
    # work is state in the database that beat and the sweeper resume within a minute.
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "visibility_timeout": env.int("CELERY_VISIBILITY_TIMEOUT", default=1800)
    }
CELERY_RESULT_BACKEND = env.str("CELERY_RESULT_BACKEND", default="django-db")
CELERY_RESULT_EXTENDED = True
CELERY_TASK_ALWAYS_EAGER = env.bool("CELERY_TASK_ALWAYS_EAGER", default=False)
CELERY_TASK_DEFAULT_QUEUE = "default"
# Network I/O (sync, backfill, listening) runs on its own queue so a slow network never
# starves replies, SLA timers or the UI's jobs.
CELERY_TASK_ROUTES = {
    "crm.tasks.sync_*": {"queue": "sync"},
    "crm.tasks.backfill_*": {"queue": "sync"},
    "campaigns.tasks.listen_*": {"queue": "sync"},
}
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"
# Periodic jobs (beat copies them into django-celery-beat's tables, where managers can
# pause or retime them in the admin). Apps add theirs here.
CELERY_BEAT_SCHEDULE = {
    "outbound-reap-stale": {"task": "crm.tasks.outbound_reap_stale", "schedule": 300.0},
    "sync-due-accounts": {"task": "crm.tasks.sync_due_accounts", "schedule": 60.0},
    # Resumes every account with unfinished stream work (a catch-up or first-poll walk,
    # a stream due to retry) whose lease is free, whatever happened to its task.
    "sync-sweep": {"task": "crm.tasks.sync_sweep", "schedule": 60.0},
    # Stored pages whose follow-up (tickets, stage rules, search) was lost or killed.
    "ingest-followups-sweep": {"task": "crm.tasks.ingest_followups_sweep", "schedule": 30.0},
    "campaigns-listen": {"task": "campaigns.tasks.listen_due", "schedule": 300.0},
    "contacts-task-reminders": {"task": "contacts.tasks.task_reminders_send", "schedule": 60.0},
    "contacts-score-refresh-all": {
        "task": "contacts.tasks.contacts_score_refresh_all",
        "schedule": 24 * 3600.0,
    },
    # SLA clocks: 80% warnings and breaches, and round-robin for tickets left waiting.
    "support-sla-check": {"task": "support.tasks.sla_check", "schedule": 60.0},
}
# Social sync (crm.sync): how often an account is polled, how long a sync's lease on an
# account lasts without renewal (a killed worker's sync is taken over after it), and how
# many pages per stream a backfill reads at most.
MOMENTO_SYNC_INTERVAL_SECONDS = env.int("MOMENTO_SYNC_INTERVAL_SECONDS", default=60)
MOMENTO_SYNC_LEASE_SECONDS = env.int("MOMENTO_SYNC_LEASE_SECONDS", default=120)
MOMENTO_BACKFILL_MAX_PAGES = env.int("MOMENTO_BACKFILL_MAX_PAGES", default=40)
# Items a sync asks for per page (0: the network's largest page: Mastodon 80, Bluesky and
# X 100) and pages it reads per stream in one run before it hands over to the next task.
MOMENTO_SYNC_PAGE_SIZE = env.int("MOMENTO_SYNC_PAGE_SIZE", default=0)
MOMENTO_SYNC_WALK_PAGES = env.int("MOMENTO_SYNC_WALK_PAGES", default=20)
# The first backoff after a transient error of a task (doubling, capped at
# MOMENTO_TASK_MAX_COUNTDOWN), and the longest countdown/eta a sync task waits in a
# worker (see visibility_timeout above).
MOMENTO_SYNC_BACKOFF_SECONDS = env.int("MOMENTO_SYNC_BACKOFF_SECONDS", default=30)
MOMENTO_TASK_MAX_COUNTDOWN = env.int("MOMENTO_TASK_MAX_COUNTDOWN", default=900)
# Idempotent tasks (sync, backfill, the sweeper) are acked late and rejected back to the
# queue when their pool process dies (`reject_on_worker_lost`, set on each task). A task
# that raised or hit its time limit is acked: its failure is recorded in the database
# and beat/the sweeper resume the work; requeueing it would repeat the same failure.
CELERY_TASK_ACKS_ON_FAILURE = True
CELERY_TASK_ACKS_ON_TIMEOUT = True
# A server URL (Bluesky PDS, Mastodon instance) on a private, loopback or link-local
# address is refused (SSRF) unless this is on: tests and `make run` set it for the
# local peers.
MOMENTO_ALLOW_PRIVATE_NETWORKS = env.bool("MOMENTO_ALLOW_PRIVATE_NETWORKS", default=False)
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_SOFT_TIME_LIMIT = env.int("CELERY_TASK_SOFT_TIME_LIMIT", default=300)
CELERY_TASK_TIME_LIMIT = env.int("CELERY_TASK_TIME_LIMIT", default=360)
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True

# --- Support desk ---------------------------------------------------------------------
# How long a CSAT link sent after a resolution stays valid (seconds).
SUPPORT_CSAT_MAX_AGE = env.int("SUPPORT_CSAT_MAX_AGE", default=14 * 24 * 3600)

# --- Email (SLA alerts where configured) ----------------------------------------------
EMAIL_CONFIG = env.email_url("EMAIL_URL", default="consolemail://")
vars().update(EMAIL_CONFIG)
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="momento@localhost")

# --- Logging --------------------------------------------------------------------------
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    "loggers": {"axes": {"level": "WARNING"}},
}
