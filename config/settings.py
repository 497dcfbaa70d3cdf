"""Django settings, read from the environment through config.env.

With no environment at all the project runs on SQLite and a file-system Celery
broker, so `make run` needs no server. DATABASE_URL and REDIS_URL switch to
PostgreSQL and Redis; ESP settings switch to a real email provider.
"""

from __future__ import annotations

import math
from datetime import timedelta
from ipaddress import ip_network
from pathlib import Path

import dj_database_url
from celery.schedules import crontab
from django.core.exceptions import ImproperlyConfigured

from config.env import (
    EnvError,
    env_bool,
    env_choice,
    env_currency,
    env_float,
    env_int,
    env_list,
    env_str,
    env_url,
)
from config.production import DEMO_POSTAL_ADDRESS, DEMO_SHOP_NAME, production_settings_refuse

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(env_str("VAR_DIR", str(BASE_DIR / "var")))
VAR_DIR.mkdir(parents=True, exist_ok=True)

APP_ENV = env_choice("APP_ENV", "development", ("development", "production"), case_sensitive=True)
DEBUG = env_bool("DJANGO_DEBUG", False)

SECRET_KEY = env_str("SECRET_KEY")
if not SECRET_KEY:
    if APP_ENV == "production":
        raise ImproperlyConfigured("SECRET_KEY must be set when APP_ENV=production")
    SECRET_KEY = "dev-only-insecure-key-do-not-use-in-production"  # noqa: S105

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["localhost", "127.0.0.1", "[::1]", "testserver"])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])
# Public base URL used in links inside emails (tracking, unsubscribe).
SITE_URL = env_url("SITE_URL", "http://127.0.0.1:8000").rstrip("/")

INSTALLED_APPS = [
    "campaigns.admin_site.MarketingAdminConfig",  # the admin, with the marketing dashboard as its index
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "anymail",
    "import_export",
    "ninja",  # serves the API docs page (Swagger UI) from local static files, not a CDN
    "axes",  # login throttling
    "customers",
    "campaigns",
    "campaigns.journeys",
    "tracking",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "axes.middleware.AxesMiddleware",  # last: turns a locked-out login into the lockout page
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
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

try:
    DATABASES = {
        "default": dj_database_url.parse(
            env_str("DATABASE_URL").strip() or f"sqlite:///{VAR_DIR / 'db.sqlite3'}",  # empty means unset
            conn_max_age=env_int("DB_CONN_MAX_AGE", 60, minimum=0),
        )
    }
except ValueError as exc:  # dj-database-url's unknown scheme or malformed URL; ours pass through
    if isinstance(exc, EnvError):
        raise
    raise EnvError(f"DATABASE_URL is not a database URL ({exc}); e.g. postgres://user@host:5432/name") from exc
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL and a busy timeout let web, worker and beat share the file.
    DATABASES["default"]["OPTIONS"] = {
        "timeout": 30,
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        "transaction_mode": "IMMEDIATE",
    }
    DATABASES["default"]["CONN_MAX_AGE"] = 0

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# Login throttling (django-axes): after LOGIN_FAILURE_LIMIT wrong passwords for one username
# from one IP address, that pair is refused for LOGIN_COOLOFF_MINUTES, even with the right
# password. Locking the pair, not the username alone, keeps an attacker from locking staff out.
AUTHENTICATION_BACKENDS = [
    "config.login_throttle.LoginThrottleBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AXES_FAILURE_LIMIT = env_int("LOGIN_FAILURE_LIMIT", 5, minimum=1)
AXES_COOLOFF_TIME = timedelta(minutes=env_float("LOGIN_COOLOFF_MINUTES", 15.0, above=0))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_CALLABLE = "config.login_throttle.lockout_response"
AXES_CLIENT_IP_CALLABLE = "config.login_throttle.client_ip"
# Reverse proxies in front of the app that append to X-Forwarded-For (0: use REMOTE_ADDR).
LOGIN_PROXY_HOPS = env_int("LOGIN_PROXY_HOPS", env_int("TRACKING_PROXY_HOPS", 0, minimum=0), minimum=0)

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"] if (BASE_DIR / "static").is_dir() else []
# Outside production, serve static files straight from the apps (no collectstatic step).
WHITENOISE_USE_FINDERS = APP_ENV != "production"
WHITENOISE_AUTOREFRESH = APP_ENV != "production"

# --- Redis, cache and Celery -------------------------------------------------
REDIS_URL = env_url("REDIS_URL", "", schemes=("redis", "rediss", "unix"))

if REDIS_URL:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}}
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

if REDIS_URL:
    CELERY_BROKER_URL = REDIS_URL
    CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": env_int("CELERY_VISIBILITY_TIMEOUT", 3600, minimum=1)}
else:
    _broker_dir = VAR_DIR / "broker"
    for _sub in ("queue", "processed", "control"):
        (_broker_dir / _sub).mkdir(parents=True, exist_ok=True)
    CELERY_BROKER_URL = "filesystem://"
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(_broker_dir / "queue"),
        "data_folder_out": str(_broker_dir / "queue"),
        "processed_folder": str(_broker_dir / "processed"),
        "control_folder": str(_broker_dir / "control"),
        "store_processed": False,
    }
# Workers outlive a broker restart: they reconnect for as long as it takes (Celery's default
# gives up after 100 attempts and leaves a worker that consumes nothing), also at start-up.
# Tasks running when the connection drops finish, so no ESP call is cut off mid-request; with
# acks_late they are delivered again and the atomic claim makes the second run harmless.
CELERY_BROKER_CONNECTION_RETRY = True
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_BROKER_CONNECTION_MAX_RETRIES = None
CELERY_WORKER_CANCEL_LONG_RUNNING_TASKS_ON_CONNECTION_LOSS = False
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TIMEZONE = "UTC"
CELERY_BEAT_SCHEDULE: dict = {}

# --- Email / ESP ------------------------------------------------------------
# Default: anymail's Postmark backend pointed at the local fake ESP that
# `make run` starts, so mail "sent" in development can be inspected.
EMAIL_BACKEND = env_str("EMAIL_BACKEND", "anymail.backends.postmark.EmailBackend")
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "Demo Shop <hello@shop.example>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL
ANYMAIL = {
    # Outside production the defaults point at the local fake ESP; production must name its ESP.
    "POSTMARK_SERVER_TOKEN": env_str(
        "POSTMARK_SERVER_TOKEN", "" if APP_ENV == "production" else "local-fake-esp-token"
    ),
    "POSTMARK_API_URL": env_url(
        "POSTMARK_API_URL", "https://api.postmarkapp.com/" if APP_ENV == "production" else "http://127.0.0.1:8025/"
    ),
    "SENDGRID_API_KEY": env_str("SENDGRID_API_KEY"),
    "MAILGUN_API_KEY": env_str("MAILGUN_API_KEY"),
    "MAILGUN_SENDER_DOMAIN": env_str("MAILGUN_SENDER_DOMAIN"),
    "MAILGUN_WEBHOOK_SIGNING_KEY": env_str("MAILGUN_WEBHOOK_SIGNING_KEY"),
    "WEBHOOK_SECRET": env_str("ANYMAIL_WEBHOOK_SECRET", "" if APP_ENV == "production" else "dev:dev-webhook-secret"),
}
ANYMAIL = {key: value for key, value in ANYMAIL.items() if value}
if APP_ENV == "production" and EMAIL_BACKEND == "anymail.backends.postmark.EmailBackend":
    if "POSTMARK_SERVER_TOKEN" not in ANYMAIL:
        raise ImproperlyConfigured("POSTMARK_SERVER_TOKEN must be set in production (or choose another EMAIL_BACKEND)")

# Legal footer (CAN-SPAM / GDPR) and list identity.
SENDER_POSTAL_ADDRESS = env_str("SENDER_POSTAL_ADDRESS", DEMO_POSTAL_ADDRESS)
LIST_ID_DOMAIN = env_str("LIST_ID_DOMAIN", "shop.example")
UNSUBSCRIBE_MAILTO = env_str("UNSUBSCRIBE_MAILTO", "unsubscribe@shop.example")

# --- Sending --------------------------------------------------------------
SEND_BATCH_SIZE = env_int("SEND_BATCH_SIZE", 200, minimum=1)
SEND_CONCURRENCY = env_int("SEND_CONCURRENCY", 8, minimum=1)
SEND_RATE_PER_SECOND = env_float("SEND_RATE_PER_SECOND", 0.0, minimum=0)  # 0 = unlimited
SEND_MAX_ATTEMPTS = env_int("SEND_MAX_ATTEMPTS", 6, minimum=1)

# --- Event API --------------------------------------------------------------
API_MAX_BATCH = env_int("API_MAX_BATCH", 1000, minimum=1)

# --- Security ---------------------------------------------------------------
SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_HTTPONLY = False
X_FRAME_OPTIONS = "DENY"  # previews use srcdoc iframes, which this header does not affect
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
if APP_ENV == "production":
    SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", True)
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 31536000, minimum=0)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env_choice("LOG_LEVEL", "INFO", LOG_LEVELS)},
    "loggers": {"axes.apps": {"level": "WARNING"}},  # not a start-up banner in every command
}

# --- Feature settings: each section belongs to one feature ------------------
# Templates and rendering
SHOP_NAME = env_str("SHOP_NAME", DEMO_SHOP_NAME)  # {{ shop.name }} in emails
SHOP_URL = env_url("SHOP_URL", "https://shop.example").rstrip("/")  # {{ shop.url }}: the storefront
SHOP_CURRENCY = env_currency("SHOP_CURRENCY", "EUR")  # customer value, spend and predictions are shown in it
TEMPLATE_CACHE_SIZE = env_int("TEMPLATE_CACHE_SIZE", 256, minimum=1)  # parsed template versions kept per process

# Sending engine and fake ESP
SEND_RETRY_BASE_SECONDS = env_float("SEND_RETRY_BASE_SECONDS", 30.0, minimum=0)  # first backoff after a transient error
SEND_RETRY_MAX_SECONDS = env_float("SEND_RETRY_MAX_SECONDS", 3600.0, minimum=0)  # backoff cap
# One send task stops claiming after this.
SEND_TASK_BUDGET_SECONDS = env_float("SEND_TASK_BUDGET_SECONDS", 50.0, above=0)
SEND_STUCK_AFTER_SECONDS = env_int("SEND_STUCK_AFTER_SECONDS", 600, minimum=1)  # 'sending' older than this is in doubt
# The send task is asked to stop.
SEND_TASK_SOFT_TIME_LIMIT_SECONDS = env_int("SEND_TASK_SOFT_TIME_LIMIT_SECONDS", 120, minimum=1)
# The send task's process is killed.
SEND_TASK_TIME_LIMIT_SECONDS = env_int("SEND_TASK_TIME_LIMIT_SECONDS", 150, minimum=1)
# Anymail's connect and read timeout.
ESP_REQUEST_TIMEOUT_SECONDS = env_float("ESP_REQUEST_TIMEOUT_SECONDS", 30.0, above=0)
ANYMAIL["REQUESTS_TIMEOUT"] = ESP_REQUEST_TIMEOUT_SECONDS
# A 'not found' is confirmed after this.
SEND_RECONCILE_RECHECK_SECONDS = env_int("SEND_RECONCILE_RECHECK_SECONDS", 60, minimum=1)
if not 0 < SEND_TASK_BUDGET_SECONDS < SEND_TASK_SOFT_TIME_LIMIT_SECONDS < SEND_TASK_TIME_LIMIT_SECONDS:
    raise ImproperlyConfigured(
        "Send task limits must satisfy 0 < SEND_TASK_BUDGET_SECONDS < SEND_TASK_SOFT_TIME_LIMIT_SECONDS < "
        f"SEND_TASK_TIME_LIMIT_SECONDS (now {SEND_TASK_BUDGET_SECONDS:g}, {SEND_TASK_SOFT_TIME_LIMIT_SECONDS}, "
        f"{SEND_TASK_TIME_LIMIT_SECONDS})."
    )
# An ESP call starts at the latest when the send task is killed and lands at the latest one
# connect plus one read timeout later: a row 'sending' for less than that may still be in flight.
SEND_STUCK_AFTER_MIN_SECONDS = math.ceil(SEND_TASK_TIME_LIMIT_SECONDS + 2 * ESP_REQUEST_TIMEOUT_SECONDS)
if SEND_STUCK_AFTER_SECONDS < SEND_STUCK_AFTER_MIN_SECONDS:
    raise ImproperlyConfigured(
        f"SEND_STUCK_AFTER_SECONDS={SEND_STUCK_AFTER_SECONDS} is unsafe: a message may still be on its way to the "
        f"ESP for {SEND_STUCK_AFTER_MIN_SECONDS} s after its claim (the send task's hard time limit "
        f"SEND_TASK_TIME_LIMIT_SECONDS={SEND_TASK_TIME_LIMIT_SECONDS} plus connect and read timeout "
        f"ESP_REQUEST_TIMEOUT_SECONDS={ESP_REQUEST_TIMEOUT_SECONDS:g} each), and reconcile would send it again. "
        f"Set SEND_STUCK_AFTER_SECONDS to at least {SEND_STUCK_AFTER_MIN_SECONDS}."
    )
SEND_RECONCILE_LOOKUP = env_bool("SEND_RECONCILE_LOOKUP", True)  # ask the ESP (Postmark search) about doubtful rows
SEND_KICK_TASKS = env_int("SEND_KICK_TASKS", 4, minimum=1)  # send tasks enqueued at once by "send now"
SEND_PLAN_CHUNK = env_int("SEND_PLAN_CHUNK", 2000, minimum=1)  # customers per planning page
SEND_SWITCH_INTERVAL_MS = env_float("SEND_SWITCH_INTERVAL_MS", 0.5, above=0)  # GIL switch interval while a batch sends
CELERY_BEAT_SCHEDULE["campaigns.send_due_messages"] = {"task": "campaigns.send_due_messages", "schedule": 5.0}
CELERY_BEAT_SCHEDULE["campaigns.reconcile_stuck_messages"] = {
    "task": "campaigns.reconcile_stuck_messages",
    "schedule": 60.0,
}

# Unsubscribe and ESP webhooks
# Webhook events whose Celery task was lost are applied by this sweep (seconds between runs).
CELERY_BEAT_SCHEDULE["tracking.process_pending_esp_events"] = {
    "task": "tracking.process_pending_esp_events",
    "schedule": float(env_int("ESP_EVENT_SWEEP_SECONDS", 300, minimum=1)),
}

# Tracking, verdicts and engagement
# truncate (/24, /48) | hash (keyed) | none
TRACKING_IP_MODE = env_choice("TRACKING_IP_MODE", "truncate", ("truncate", "hash", "none"))
# Reverse proxies in front of the app that append to X-Forwarded-For (0: use REMOTE_ADDR).
TRACKING_PROXY_HOPS = env_int("TRACKING_PROXY_HOPS", 0, minimum=0)
TRACKING_BUFFER = env_bool("TRACKING_BUFFER", True)  # buffer hits in a Redis list when REDIS_URL is set
TRACKING_BUFFER_KEY = env_str("TRACKING_BUFFER_KEY", "tracking:hits")
TRACKING_DRAIN_SECONDS = env_float("TRACKING_DRAIN_SECONDS", 5.0, above=0)
TRACKING_DRAIN_BATCH = env_int("TRACKING_DRAIN_BATCH", 2000, minimum=1)
# A drainer killed mid-way holds its lock this long; then the next drain recovers its hits.
TRACKING_DRAIN_LOCK_SECONDS = env_int("TRACKING_DRAIN_LOCK_SECONDS", 120, minimum=1)
TRACKING_SCANNER_CLICK_SECONDS = env_int("TRACKING_SCANNER_CLICK_SECONDS", 10, minimum=0)
TRACKING_BURST_SECONDS = env_int("TRACKING_BURST_SECONDS", 5, minimum=0)
TRACKING_BURST_LINKS = env_int("TRACKING_BURST_LINKS", 3, minimum=2)
TRACKING_CLICK_WITHOUT_OPEN_SECONDS = env_int("TRACKING_CLICK_WITHOUT_OPEN_SECONDS", 60, minimum=0)
TRACKING_APPLE_NETWORKS = env_list("TRACKING_APPLE_NETWORKS", ["17.0.0.0/8"], check=ip_network)
TRACKING_SCANNER_UA_MARKERS = env_list(
    "TRACKING_SCANNER_UA_MARKERS",
    "HeadlessChrome,PhantomJS,python-requests,python-urllib,aiohttp,curl/,Wget,Go-http-client,okhttp,Java/,"
    "libwww-perl,Barracuda,Mimecast,Proofpoint,Symantec,Trend Micro,Forcepoint,Sophos,FireEye,Cisco,IronPort,"
    "ZScaler,SafeLinks,Microsoft Office Protection,Bot,Spider,Crawler,Slurp,Scanner".split(","),
)
ENGAGEMENT_HALF_LIFE_DAYS = env_float("ENGAGEMENT_HALF_LIFE_DAYS", 30.0, above=0)
ENGAGEMENT_WEIGHT_OPEN = env_float("ENGAGEMENT_WEIGHT_OPEN", 1.0, minimum=0)
ENGAGEMENT_WEIGHT_CLICK = env_float("ENGAGEMENT_WEIGHT_CLICK", 3.0, minimum=0)
ENGAGEMENT_WEIGHT_ACTIVITY = env_float("ENGAGEMENT_WEIGHT_ACTIVITY", 2.0, minimum=0)
ENGAGEMENT_WEIGHT_ORDER = env_float("ENGAGEMENT_WEIGHT_ORDER", 5.0, minimum=0)
CELERY_BEAT_SCHEDULE["tracking-process-hits"] = {
    "task": "tracking.process_hits",
    "schedule": TRACKING_DRAIN_SECONDS,
    "options": {"expires": TRACKING_DRAIN_SECONDS * 2},
}
CELERY_BEAT_SCHEDULE["engagement-recompute-nightly"] = {
    "task": "tracking.engagement_recompute",
    "schedule": crontab(hour=env_int("ENGAGEMENT_RECOMPUTE_HOUR", 3, minimum=0, maximum=23), minute=30),
    "options": {"expires": 3600},
}

# Customer intelligence
# Lifecycle thresholds: ratios are "days since last order / the customer's own rhythm".
LIFECYCLE_NEW_DAYS = env_float("LIFECYCLE_NEW_DAYS", 30.0, minimum=0)
LIFECYCLE_AT_RISK_RATIO = env_float("LIFECYCLE_AT_RISK_RATIO", 2.0, above=0)
LIFECYCLE_LAPSED_RATIO = env_float("LIFECYCLE_LAPSED_RATIO", 4.0, above=0)
LIFECYCLE_CHURNED_RATIO = env_float("LIFECYCLE_CHURNED_RATIO", 8.0, above=0)
LIFECYCLE_CHURNED_MAX_DAYS = env_float("LIFECYCLE_CHURNED_MAX_DAYS", 730.0, above=0)
LIFECYCLE_CHURNED_P_ALIVE = env_float("LIFECYCLE_CHURNED_P_ALIVE", 0.10, minimum=0, maximum=1)
LIFECYCLE_MIN_INTERVAL_DAYS = env_float("LIFECYCLE_MIN_INTERVAL_DAYS", 7.0, above=0)
LIFECYCLE_DEFAULT_INTERVAL_DAYS = env_float("LIFECYCLE_DEFAULT_INTERVAL_DAYS", 60.0, above=0)
# Predictions: BG/NBD + Gamma-Gamma are fitted only with enough repeat buyers.
METRICS_MIN_REPEAT_BUYERS = env_int("METRICS_MIN_REPEAT_BUYERS", 30, minimum=1)
METRICS_CLV_HORIZON_DAYS = env_int("METRICS_CLV_HORIZON_DAYS", 365, minimum=1)
METRICS_MONTHLY_DISCOUNT_RATE = env_float("METRICS_MONTHLY_DISCOUNT_RATE", 0.0, minimum=0, maximum=1)
METRICS_UPDATE_BATCH_SIZE = env_int("METRICS_UPDATE_BATCH_SIZE", 20000, minimum=1)
METRICS_TASK_TIME_LIMIT = env_int("METRICS_TASK_TIME_LIMIT", 3600, minimum=1)
AUDIENCE_EXPORT_CHUNK = env_int("AUDIENCE_EXPORT_CHUNK", 2000, minimum=1)
CELERY_BEAT_SCHEDULE["customers.compute_metrics"] = {
    "task": "customers.compute_metrics",
    "schedule": crontab(hour=2, minute=30),
    "options": {"expires": 6 * 3600},
}

# Consent: who may receive marketing mail. opt_in: only customers who granted consent.
# soft_opt_in: also buyers (at least one order) whose consent is unknown; refused consent never mails.
CONSENT_POLICIES = ("opt_in", "soft_opt_in")
CONSENT_POLICY = env_choice("CONSENT_POLICY", "opt_in", CONSENT_POLICIES)

# Event API and imports
# Requests per API key per minute; 0 = no limit.
EVENT_API_RATE_PER_MINUTE = env_int("EVENT_API_RATE_PER_MINUTE", 600, minimum=0)
EVENT_API_MAX_BODY_BYTES = env_int("EVENT_API_MAX_BODY_BYTES", 10_000_000, minimum=1)  # largest accepted request body
IMPORT_ADMIN_MAX_MB = env_int("IMPORT_ADMIN_MAX_MB", 50, minimum=1)  # largest CSV accepted by the admin import page
# Admin uploads are kept here until the worker has imported them (shared by web and worker processes).
IMPORT_UPLOAD_DIR = Path(env_str("IMPORT_UPLOAD_DIR", str(VAR_DIR / "imports")))
IMPORT_TASK_TIME_LIMIT = env_int("IMPORT_TASK_TIME_LIMIT", 3600, minimum=1)  # seconds one background import may run
IMPORT_JOB_KEEP_DAYS = env_int("IMPORT_JOB_KEEP_DAYS", 30, minimum=1)  # finished imports and their failed-row reports

# Lifecycle journeys
# Per customer, across all marketing campaigns: at most this many messages sent or queued.
FREQUENCY_CAP_PER_DAY = env_int("FREQUENCY_CAP_PER_DAY", 1, minimum=0)
FREQUENCY_CAP_PER_WEEK = env_int("FREQUENCY_CAP_PER_WEEK", 3, minimum=0)
# A step deferred by the cap for longer than this is skipped, with the reason recorded.
DEFERRAL_EXPIRY_HOURS = env_int("DEFERRAL_EXPIRY_HOURS", 72, minimum=1)
# Quiet hours in the customer's own timezone (UTC when unknown): messages wait for the end.
QUIET_HOURS_START = env_int("QUIET_HOURS_START", 21, minimum=0, maximum=23)
QUIET_HOURS_END = env_int("QUIET_HOURS_END", 8, minimum=0, maximum=23)
# Promotional campaigns skip customers unengaged this long (or never engaged after N sends),
# except win-back, which may mail each sunset customer once per lapse (since their last order).
SUNSET_DAYS = env_int("SUNSET_DAYS", 180, minimum=1)
SUNSET_MIN_SENDS = env_int("SUNSET_MIN_SENDS", 5, minimum=1)
# An order within this many days of a human click (or open, if enabled) is attributed.
ATTRIBUTION_WINDOW_DAYS = env_int("ATTRIBUTION_WINDOW_DAYS", 5, minimum=1)
ATTRIBUTION_ON_OPEN = env_bool("ATTRIBUTION_ON_OPEN", False)
# Treatment vs holdout: orders within this many days of entry count as conversions.
INCREMENTALITY_WINDOW_DAYS = env_int("INCREMENTALITY_WINDOW_DAYS", 14, minimum=1)
# How far back each tick looks for trigger events (covers late imports and missed ticks).
JOURNEY_EVENT_LOOKBACK_HOURS = env_int("JOURNEY_EVENT_LOOKBACK_HOURS", 48, minimum=1)
JOURNEY_PAGE_SIZE = env_int("JOURNEY_PAGE_SIZE", 2000, minimum=1)
JOURNEY_SCAN_WINDOW = env_int("JOURNEY_SCAN_WINDOW", 1_000_000, minimum=1)
# Cross-sell looks at co-purchases of orders this recent (bounds the join on big shops).
CROSS_SELL_LOOKBACK_DAYS = env_int("CROSS_SELL_LOOKBACK_DAYS", 180, minimum=1)
CELERY_BEAT_SCHEDULE["journeys.tick"] = {"task": "journeys.tick", "schedule": 60.0}
CELERY_BEAT_SCHEDULE["journeys.attribute_orders"] = {"task": "journeys.attribute_orders", "schedule": 300.0}

# Marketing admin (dashboard, campaign page)
# Dashboard figures and audience counts are cached this long; beat recomputes them every WARM seconds.
ADMIN_DASHBOARD_CACHE_SECONDS = env_int("ADMIN_DASHBOARD_CACHE_SECONDS", 60, minimum=0)
ADMIN_DASHBOARD_WARM_SECONDS = env_float("ADMIN_DASHBOARD_WARM_SECONDS", 50.0, minimum=1)
# Live progress bar refresh on the campaign page.
ADMIN_PROGRESS_POLL_MS = env_int("ADMIN_PROGRESS_POLL_MS", 2000, minimum=100)
# Deliverability traffic lights (rates 0..1): amber from the first value, red from the second.
ADMIN_COMPLAINT_AMBER = env_float("ADMIN_COMPLAINT_AMBER", 0.001, minimum=0, maximum=1)
ADMIN_COMPLAINT_RED = env_float("ADMIN_COMPLAINT_RED", 0.003, minimum=0, maximum=1)  # the line Gmail and Yahoo enforce
ADMIN_BOUNCE_AMBER = env_float("ADMIN_BOUNCE_AMBER", 0.02, minimum=0, maximum=1)
ADMIN_BOUNCE_RED = env_float("ADMIN_BOUNCE_RED", 0.05, minimum=0, maximum=1)
ADMIN_UNSUBSCRIBE_AMBER = env_float("ADMIN_UNSUBSCRIBE_AMBER", 0.005, minimum=0, maximum=1)
ADMIN_UNSUBSCRIBE_RED = env_float("ADMIN_UNSUBSCRIBE_RED", 0.01, minimum=0, maximum=1)
CELERY_BEAT_SCHEDULE["campaigns.dashboard_warm"] = {
    "task": "campaigns.dashboard_warm",
    "schedule": ADMIN_DASHBOARD_WARM_SECONDS,
    "options": {"expires": ADMIN_DASHBOARD_WARM_SECONDS},
}

# --- Production refuses demo values and plain-http links (every problem listed at once) ---
if APP_ENV == "production":
    production_settings_refuse(
        site_url=SITE_URL,
        default_from_email=DEFAULT_FROM_EMAIL,
        sender_postal_address=SENDER_POSTAL_ADDRESS,
        unsubscribe_mailto=UNSUBSCRIBE_MAILTO,
        list_id_domain=LIST_ID_DOMAIN,
        shop_name=SHOP_NAME,
        shop_url=SHOP_URL,
    )
