"""Settings from the environment, with embedded defaults that run on one machine with no services.

Embedded default: SQLite file, in-memory channel layer, Celery tasks executed in-process (no broker).
Set ``DATABASE_URL`` for PostgreSQL and ``REDIS_URL`` for channels-redis plus the Celery broker.
``SWITCHBOARD_ENV=production`` refuses to start with a default secret.
"""

from __future__ import annotations

import os
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent


def env(name: str, default: str = "") -> str:
    return os.environ.get(name, default)


def env_bool(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_float(name: str, default: float) -> float:
    value = os.environ.get(name)
    return float(value) if value else default


SWITCHBOARD_ENV = env("SWITCHBOARD_ENV", "development")
PRODUCTION = SWITCHBOARD_ENV == "production"

_DEFAULT_SECRET_KEY = "dev-insecure-switchboard-secret-key-change-me"
# A Fernet key (urlsafe base64 of 32 bytes); the default is public and only fit for the embedded demo.
_DEFAULT_FIELD_KEY = "c3dpdGNoYm9hcmQtZGV2LW9ubHktZmllbGQta2V5ISE="

SECRET_KEY = env("SECRET_KEY", _DEFAULT_SECRET_KEY)
FIELD_ENCRYPTION_KEY = env("FIELD_ENCRYPTION_KEY", _DEFAULT_FIELD_KEY)
if PRODUCTION and (SECRET_KEY == _DEFAULT_SECRET_KEY or FIELD_ENCRYPTION_KEY == _DEFAULT_FIELD_KEY):
    raise ImproperlyConfigured(
        "SWITCHBOARD_ENV=production needs SECRET_KEY and FIELD_ENCRYPTION_KEY set: the defaults are public."
    )

DEBUG = env_bool("DEBUG", not PRODUCTION)
ALLOWED_HOSTS = [h for h in env("ALLOWED_HOSTS", "localhost,127.0.0.1,[::1],testserver").split(",") if h]
CSRF_TRUSTED_ORIGINS = [o for o in env("CSRF_TRUSTED_ORIGINS", "").split(",") if o]
PUBLIC_BASE_URL = env("PUBLIC_BASE_URL", "http://localhost:8000")

INSTALLED_APPS = [
    "daphne",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "channels",
    "rest_framework",
    "rest_framework.authtoken",
    "drf_spectacular",
    "inbox",
    "integrations",
    "signals",
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
]

ROOT_URLCONF = env("ROOT_URLCONF", "switchboard.urls")
WSGI_APPLICATION = "switchboard.wsgi.application"
ASGI_APPLICATION = "switchboard.asgi.application"

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

DATABASES = {
    "default": dj_database_url.parse(
        env("DATABASE_URL", f"sqlite:///{BASE_DIR / 'var' / 'switchboard.sqlite3'}"),
        conn_max_age=int(env("DB_CONN_MAX_AGE", "60")),
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL lets the ASGI server read while a task writes; the timeout waits out short write locks.
    DATABASES["default"]["OPTIONS"] = {
        "timeout": 20,
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        "transaction_mode": "IMMEDIATE",
    }
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    # A file, not memory, so the server and worker processes that end-to-end tests start share the test database.
    DATABASES["default"]["TEST"] = {"NAME": str(BASE_DIR / "var" / f"test-switchboard-{os.getpid()}.sqlite3")}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

REDIS_URL = env("REDIS_URL")
if REDIS_URL:
    CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels_redis.core.RedisChannelLayer",
            "CONFIG": {
                "hosts": [REDIS_URL],
                # channels-redis silently drops group messages past `capacity` (default 100): size it for bursts.
                "capacity": int(env("CHANNEL_LAYER_CAPACITY", "5000")),
                "expiry": 60,
                "prefix": env("CHANNEL_LAYER_PREFIX", "switchboard"),
            },
        }
    }
else:
    CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer", "CONFIG": {"capacity": 5000}}}

# Celery: with REDIS_URL a real broker; without it tasks run in-process, after the transaction commits.
CELERY_BROKER_URL = env("CELERY_BROKER_URL", REDIS_URL or "memory://localhost/")
CELERY_TASK_ALWAYS_EAGER = not bool(REDIS_URL) and not env("CELERY_BROKER_URL")
CELERY_TASK_EAGER_PROPAGATES = False
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_WORKER_PREFETCH_MULTIPLIER = 4
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_TASK_DEFAULT_QUEUE = "default"
CELERY_TASK_ROUTES = {
    "integrations.process_inbound": {"queue": "ingest"},
    "integrations.send_outbound": {"queue": "outbound"},
    "signals.*": {"queue": "signals"},
    "integrations.crm.*": {"queue": "integrations"},
}
CELERY_BEAT_SCHEDULE = {
    "sweep-integrations": {"task": "integrations.sweep_pending", "schedule": 60.0},
}
OUTBOX_SWEEP_AFTER_SECONDS = int(env("OUTBOX_SWEEP_AFTER_SECONDS", "120"))

CACHES = (
    {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}}
    if REDIS_URL
    else {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
)

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 8}},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "inbox:index"
LOGOUT_REDIRECT_URL = "login"

LANGUAGE_CODE = "en"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "var" / "staticfiles"
STATIC_ROOT.mkdir(parents=True, exist_ok=True)  # WhiteNoise warns on every request when it is missing
NODE_MODULES_DIR = BASE_DIR / "node_modules"
STATICFILES_DIRS = [BASE_DIR / "static", ("vendor/chart.js", NODE_MODULES_DIR / "chart.js" / "dist")]
WHITENOISE_USE_FINDERS = True

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.SessionAuthentication",
        "rest_framework.authentication.TokenAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.CursorPagination",
    "PAGE_SIZE": 50,
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Switchboard API",
    "DESCRIPTION": "One inbox for TikTok direct messages, WhatsApp and Messenger.",
    "VERSION": "1",
}

# Outside services: every base URL is a setting so tests and the sandbox point the same code at fakes.
TIKTOK_API_BASE = env("TIKTOK_API_BASE", "https://business-api.tiktok.com")
TIKTOK_AUTH_BASE = env("TIKTOK_AUTH_BASE", "https://www.tiktok.com")
TIKTOK_ADS_AUTH_URL = env("TIKTOK_ADS_AUTH_URL", "https://business-api.tiktok.com/portal/auth")
META_GRAPH_API_BASE = env("META_GRAPH_API_BASE", "https://graph.facebook.com")
META_GRAPH_API_VERSION = env("META_GRAPH_API_VERSION", "v21.0")
HUBSPOT_API_BASE = env("HUBSPOT_API_BASE", "https://api.hubapi.com")

# App-level provider credentials (a Messaging Partner is one registered app per provider).
TIKTOK_CLIENT_SECRET = env("TIKTOK_CLIENT_SECRET")
META_APP_SECRET = env("META_APP_SECRET")
META_VERIFY_TOKEN = env("META_VERIFY_TOKEN")
TIKTOK_SIGNATURE_TOLERANCE_SECONDS = int(env("TIKTOK_SIGNATURE_TOLERANCE_SECONDS", "300"))
PROVIDER_HTTP_TIMEOUT = env_float("PROVIDER_HTTP_TIMEOUT", 10.0)

# Signals to TikTok: facts TikTok does not publish are configuration.
SIGNALS_BATCH_SIZE = int(env("SIGNALS_BATCH_SIZE", "50"))
SIGNALS_MAX_ATTEMPTS = int(env("SIGNALS_MAX_ATTEMPTS", "8"))
SIGNALS_PARTNER_NAME = env("SIGNALS_PARTNER_NAME", "Switchboard")

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env("LOG_LEVEL", "INFO")},
    "loggers": {"django.channels.server": {"level": "WARNING"}, "daphne": {"level": "WARNING"}},
}
