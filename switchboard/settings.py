"""Settings from the environment, with embedded defaults that run on one machine with no services.

Embedded default: SQLite file, in-memory channel layer, Celery tasks executed in-process (no broker).
Set ``DATABASE_URL`` for PostgreSQL and ``REDIS_URL`` for channels-redis plus the Celery broker.
``SWITCHBOARD_ENV=production`` refuses to start with a default secret.
"""

from __future__ import annotations

import os
from datetime import timedelta
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

# Browser security. Production defaults are strict; SECURE_COOKIES=false only for plain-HTTP loopback runs.
SECURE_COOKIES = env_bool("SECURE_COOKIES", PRODUCTION)
SESSION_COOKIE_SECURE = CSRF_COOKIE_SECURE = SECURE_COOKIES
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = CSRF_COOKIE_SAMESITE = "Lax"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
# Issue 9: Content-Security-Policy (switchboard/security.py; its DEFAULT_POLICY unless set here) on every page:
# no template carries an inline <script> (Swagger UI is drf-spectacular's split view, its script a separate URL).
CONTENT_SECURITY_POLICY_EXEMPT_PATHS: tuple[str, ...] = ()
# Swagger UI inserts a <style> element at run time: styles only, never scripts, are loosened on its page.
CONTENT_SECURITY_POLICY_PATH_DIRECTIVES = {"/api/docs/": ("style-src 'self' 'unsafe-inline'",)}
if PRODUCTION and SECURE_COOKIES:
    SECURE_HSTS_SECONDS = int(env("SECURE_HSTS_SECONDS", "31536000"))
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

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
    "drf_spectacular_sidecar",  # Swagger UI served from our own static files: /api/docs/ works offline
    "inbox",
    "integrations",
    "signals",
    # OAuth: accounts connected as a client of TikTok/Meta, and Switchboard as a provider (django-oauth-toolkit).
    "oauth2_provider",
    "integrations.connections",
    "inbox.automation",  # auto-replies and keyword rules (own app label "automation")
    "inbox.commerce",  # orders and reservations (own app label "commerce"; issue 7)
    "integrations.crm",  # HubSpot sync and signed webhooks for any other CRM (own app label "crm"; issue 8)
    "inbox.access",  # members, custom roles, invitations, audit log (own app label "access"; issue 5)
    "inbox.preferences",  # per-user language, time zone, notifications (own app label "preferences"; issue 10)
    "inbox.lifecycle",  # contact erasure and retention (own app label "lifecycle"; issue 11)
]

MIDDLEWARE = [
    "switchboard.observability.RequestIdMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "switchboard.middleware.MachineEndpointMiddleware",  # issues 2/9: webhooks skip the browser middleware below
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",  # issue 10: Accept-Language and the language cookie
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "inbox.preferences.middleware.UserPreferenceMiddleware",  # issue 10: the user's saved language and time zone
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "switchboard.security.ContentSecurityPolicyMiddleware",  # issue 9: CSP on every response
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
                "inbox.preferences.context_processors.preferences",  # issue 10: switcher, notification prefs
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
                # Issue 9: redis-py 8 reads with a 5 s socket timeout by default, the same 5 s that channels-redis
                # blocks in BZPOPMIN waiting for a message: under load the empty answer comes a little later, the
                # read times out, and the consumer dies with the agent's websocket (close 1011). Read longer.
                "hosts": [{"address": REDIS_URL, "socket_timeout": 30}],
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
if CELERY_BROKER_URL.startswith(("redis://", "rediss://")):
    CELERY_BROKER_TRANSPORT = "switchboard.broker:RedisTransport"  # one redis client per channel, see the module
CELERY_TASK_EAGER_PROPAGATES = False
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_WORKER_PREFETCH_MULTIPLIER = 4
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_TASK_DEFAULT_QUEUE = "default"
CELERY_TASK_ROUTES = {
    "integrations.process_inbound": {"queue": "ingest"},
    "integrations.process_inbound_batch": {"queue": "ingest"},
    "integrations.send_outbound": {"queue": "outbound"},
    "signals.*": {"queue": "signals"},
    "crm.*": {"queue": "integrations"},  # integrations.crm tasks are named crm.*
}
CELERY_BEAT_SCHEDULE = {
    "sweep-integrations": {"task": "integrations.sweep_pending", "schedule": 60.0},
    "sweep-signals": {"task": "signals.sweep", "schedule": 60.0},
    # Inbox (issue 4): reopen snoozed conversations when due; prune the live catch-up log (inbox.tasks).
    "inbox-reopen-snoozed": {"task": "inbox.reopen_snoozed", "schedule": 60.0},
    "inbox-prune-events": {"task": "inbox.prune_events", "schedule": 900.0},
    # Connections: refresh TikTok business tokens ahead of expiry; deliver due outbound webhooks (retries).
    "connections-refresh-tokens": {"task": "connections.refresh_due_tokens", "schedule": 300.0},
    "connections-deliver-webhooks": {"task": "connections.deliver_due_webhooks", "schedule": 30.0},
    # Auto-replies: "no agent reply within N minutes" rules (inbox.automation).
    "automation-sweep-unanswered": {"task": "automation.sweep_unanswered", "schedule": 60.0},
    # Commerce (issue 7): cancel expired reservation holds; send reservation reminders, once each.
    "commerce-expire-holds": {"task": "commerce.expire_holds", "schedule": 60.0},
    "commerce-send-reminders": {"task": "commerce.send_reminders", "schedule": 60.0},
    # CRM (issue 8): re-enqueue due HubSpot syncs and webhook deliveries; refresh pulled owners and stages.
    "crm-sweep": {"task": "crm.sweep", "schedule": 60.0},
    "crm-pull-stale-contacts": {"task": "crm.pull_stale_contacts", "schedule": 900.0},
    # Data lifecycle (issue 11): each organization's retention, daily, in batches (inbox.lifecycle).
    "lifecycle-apply-retention": {"task": "lifecycle.apply_retention", "schedule": 86400.0},
    # WhatsApp approved templates (issue 12): refresh every channel's list from its account.
    "integrations-sync-templates": {"task": "integrations.sync_all_message_templates", "schedule": 3600.0},
}
OUTBOX_SWEEP_AFTER_SECONDS = int(env("OUTBOX_SWEEP_AFTER_SECONDS", "120"))
# Auto-replies (inbox.automation): a conversation that got this many automated replies within the window stops
# auto-replying until it calms down (no loops with a customer's own bot or between two rules).
AUTOMATION_LOOP_MAX_REPLIES = int(env("AUTOMATION_LOOP_MAX_REPLIES", "3"))
AUTOMATION_LOOP_WINDOW_MINUTES = int(env("AUTOMATION_LOOP_WINDOW_MINUTES", "10"))

CACHES = (
    {"default": {"BACKEND": "switchboard.cache.ReusingRedisCache", "LOCATION": REDIS_URL}}
    if REDIS_URL
    else {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
)

if env_bool("FAST_PASSWORD_HASHING"):
    # Tests only (set by the test suite for itself and its child processes): PBKDF2 costs ~0.3 s per user.
    PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
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
# Issue 10: the agents' languages (TikTok Instant Messaging Ads markets); catalogues in locale/<code>/LC_MESSAGES.
LANGUAGES = [("en", "English"), ("id", "Bahasa Indonesia"), ("vi", "Tiếng Việt"), ("th", "ไทย")]
LOCALE_PATHS = [BASE_DIR / "locale"]

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "var" / "staticfiles"
STATIC_ROOT.mkdir(parents=True, exist_ok=True)  # WhiteNoise warns on every request when it is missing
NODE_MODULES_DIR = BASE_DIR / "node_modules"
STATICFILES_DIRS = [BASE_DIR / "static", ("vendor/chart.js", NODE_MODULES_DIR / "chart.js" / "dist")]
WHITENOISE_USE_FINDERS = True

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        # Token first: DRF takes the WWW-Authenticate header from the first class, so a wrong or revoked
        # personal token answers 401 (SessionAuthentication first would make it 403). Browsers still use sessions.
        "rest_framework.authentication.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
        # Third-party apps: OAuth bearer tokens bound to one organization and a set of scopes.
        "integrations.connections.provider.drf.OrganizationOAuth2Authentication",
    ],
    # HasRequiredScopes: an OAuth token must carry the scopes a view declares in `required_scopes`
    # (deny by default); session and API-token users are unaffected. Views overriding permission_classes keep it.
    "DEFAULT_PERMISSION_CLASSES": [
        "rest_framework.permissions.IsAuthenticated",
        "integrations.connections.provider.drf.HasRequiredScopes",
        # Issue 5: a deactivated member (or a user of no organization) gets 403 everywhere, not empty lists.
        "inbox.access.drf.IsActiveMember",
    ],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.CursorPagination",
    "PAGE_SIZE": 50,
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Switchboard API",
    "DESCRIPTION": "One inbox for TikTok direct messages, WhatsApp and Messenger.",
    "VERSION": "1",
    # Interactive docs at /api/docs/ from drf-spectacular-sidecar's static files, never a CDN.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "SERVE_INCLUDE_SCHEMA": False,  # the docs list the API, not the schema endpoint itself
    # Choice sets that share a field name ("status", "kind") get stable names instead of hash suffixes + warnings.
    "ENUM_NAME_OVERRIDES": {
        "BulkActionEnum": "inbox.api.base.BULK_ACTIONS",
        "ChannelKindEnum": "inbox.models.Channel.Kind",
        "ChannelStatusEnum": "inbox.models.Channel.Status",
        "ConversationStatusEnum": "inbox.models.Conversation.Status",
        "MessageStatusEnum": "inbox.models.Message.Status",
        "NotificationKindEnum": "inbox.models.Notification.Kind",
    },
}

# Outside services: every base URL is a setting so tests and the sandbox point the same code at fakes.
TIKTOK_API_BASE = env("TIKTOK_API_BASE", "https://business-api.tiktok.com")
TIKTOK_AUTH_BASE = env("TIKTOK_AUTH_BASE", "https://www.tiktok.com")
TIKTOK_ADS_AUTH_URL = env("TIKTOK_ADS_AUTH_URL", "https://business-api.tiktok.com/portal/auth")
META_GRAPH_API_BASE = env("META_GRAPH_API_BASE", "https://graph.facebook.com")
META_GRAPH_API_VERSION = env("META_GRAPH_API_VERSION", "v21.0")
HUBSPOT_API_BASE = env("HUBSPOT_API_BASE", "https://api.hubapi.com")
# CRM (integrations.crm, issue 8): HubSpot OAuth app (optional: a private-app token works without one), and
# the shared rate limiter's budget, set below HubSpot's own (about 100 per 10 s, search about 4-5 per second).
HUBSPOT_AUTH_URL = env("HUBSPOT_AUTH_URL", "https://app.hubspot.com/oauth/authorize")
HUBSPOT_CLIENT_ID = env("HUBSPOT_CLIENT_ID")
HUBSPOT_CLIENT_SECRET = env("HUBSPOT_CLIENT_SECRET")
HUBSPOT_BURST_LIMIT = int(env("HUBSPOT_BURST_LIMIT", "90"))
HUBSPOT_BURST_WINDOW_SECONDS = env_float("HUBSPOT_BURST_WINDOW_SECONDS", 10.0)
HUBSPOT_SEARCH_PER_SECOND = int(env("HUBSPOT_SEARCH_PER_SECOND", "4"))
CRM_RETRY_BASE_SECONDS = env_float("CRM_RETRY_BASE_SECONDS", 30.0)

# App-level provider credentials (a Messaging Partner is one registered app per provider).
TIKTOK_CLIENT_SECRET = env("TIKTOK_CLIENT_SECRET")
META_APP_SECRET = env("META_APP_SECRET")
# Connections (integrations.connections): the ids of Switchboard's registered apps at TikTok and Meta.
TIKTOK_CLIENT_KEY = env("TIKTOK_CLIENT_KEY")  # TikTok business messaging app (tt_user OAuth, webhooks)
TIKTOK_ADS_APP_ID = env("TIKTOK_ADS_APP_ID")  # TikTok for Business (Marketing API) app, advertiser OAuth
TIKTOK_ADS_SECRET = env("TIKTOK_ADS_SECRET")
META_APP_ID = env("META_APP_ID")
# Facebook Login's dialog host (the token and page calls go to META_GRAPH_API_BASE).
META_DIALOG_BASE = env("META_DIALOG_BASE", "https://www.facebook.com")
# The built-in sandbox authorization server (/connections/sandbox-oauth/...) plays TikTok and Meta so the
# offline demo can connect accounts; never in production.
SANDBOX_OAUTH = env_bool("SANDBOX_OAUTH", not PRODUCTION) and not PRODUCTION
# TikTok business access tokens live about 24 h: refresh this long before they expire.
CONNECTIONS_REFRESH_AHEAD_SECONDS = int(env("CONNECTIONS_REFRESH_AHEAD_SECONDS", "7200"))
# Outbound webhooks to authorized apps: retried with backoff for at least this long, then given up; a
# subscriber failing for longer than the disable window is disabled and its owner told.
OUTBOUND_WEBHOOK_RETRY_SECONDS = int(env("OUTBOUND_WEBHOOK_RETRY_SECONDS", str(26 * 3600)))
OUTBOUND_WEBHOOK_DISABLE_AFTER_SECONDS = int(env("OUTBOUND_WEBHOOK_DISABLE_AFTER_SECONDS", str(72 * 3600)))
OUTBOUND_WEBHOOK_TIMEOUT = env_float("OUTBOUND_WEBHOOK_TIMEOUT", 5.0)
# Subscriber URLs must resolve to public addresses in production (no requests into our own network).
OUTBOUND_WEBHOOK_ALLOW_PRIVATE = env_bool("OUTBOUND_WEBHOOK_ALLOW_PRIVATE", not PRODUCTION)
# Switchboard as an OAuth provider (django-oauth-toolkit): authorization code with PKCE, rotating refresh tokens.
OAUTH2_PROVIDER = {
    "SCOPES": {
        "conversations:read": "Read your conversations and messages",
        "conversations:write": "Reply to customers and update conversations",
        "contacts:read": "Read your contacts",
        "orders:write": "Create and update orders",
        "webhooks:subscribe": "Receive webhooks about new messages, conversations and orders",
    },
    "DEFAULT_SCOPES": ["conversations:read"],
    "PKCE_REQUIRED": True,
    "ROTATE_REFRESH_TOKEN": True,
    "ACCESS_TOKEN_EXPIRE_SECONDS": int(env("OAUTH_ACCESS_TOKEN_SECONDS", "3600")),
    "REFRESH_TOKEN_EXPIRE_SECONDS": int(env("OAUTH_REFRESH_TOKEN_SECONDS", str(90 * 86400))),
    "ALLOWED_REDIRECT_URI_SCHEMES": ["https"] if PRODUCTION else ["https", "http"],
    "OAUTH2_VALIDATOR_CLASS": "integrations.connections.provider.validator.OrganizationOAuth2Validator",
    # OAuth 2.0 Security BCP (RFC 9700), tests/connections/test_provider_bcp.py. Codes live a minute, once.
    "AUTHORIZATION_CODE_EXPIRE_SECONDS": 60,
    "ALLOW_URI_WILDCARDS": False,
    "REFRESH_TOKEN_REUSE_PROTECTION": True,  # a replayed spent refresh token revokes its whole family
    "COMPLIANT_BCP_RFC9700_IMPLICIT_GRANT": True,
    "COMPLIANT_BCP_RFC9700_PASSWORD_GRANT": True,
    "COMPLIANT_BCP_RFC9700_PKCE_METHOD": True,
    "COMPLIANT_BCP_RFC9700_ACCESS_TOKEN_TRANSPORT": True,  # never ?access_token= in a URL
    # Deploy-check gates: an insecure value of the settings above is an error under `check --deploy`.
    "COMPLIANT_BCP_RFC9700_REFRESH_TOKEN": True,
    "COMPLIANT_BCP_RFC9700_REDIRECT_URI_MATCHING": True,
    "COMPLIANT_BCP_RFC9700_PKCE_REQUIRED": True,
    "COMPLIANT_BCP_RFC9700_REDIRECT_URI_SCHEME": PRODUCTION,  # http callbacks only outside production
}
# django-oauth-toolkit's models are swappable: naming them lets our migrations reference them.
OAUTH2_PROVIDER_APPLICATION_MODEL = "oauth2_provider.Application"
OAUTH2_PROVIDER_ACCESS_TOKEN_MODEL = "oauth2_provider.AccessToken"
OAUTH2_PROVIDER_REFRESH_TOKEN_MODEL = "oauth2_provider.RefreshToken"
OAUTH2_PROVIDER_GRANT_MODEL = "oauth2_provider.Grant"
OAUTH2_PROVIDER_ID_TOKEN_MODEL = "oauth2_provider.IDToken"
META_VERIFY_TOKEN = env("META_VERIFY_TOKEN")
TIKTOK_SIGNATURE_TOLERANCE_SECONDS = int(env("TIKTOK_SIGNATURE_TOLERANCE_SECONDS", "300"))
PROVIDER_HTTP_TIMEOUT = env_float("PROVIDER_HTTP_TIMEOUT", 10.0)

# Signals to TikTok: facts TikTok does not publish are configuration.
SIGNALS_BATCH_SIZE = int(env("SIGNALS_BATCH_SIZE", "50"))
SIGNALS_MAX_ATTEMPTS = int(env("SIGNALS_MAX_ATTEMPTS", "8"))
SIGNALS_PARTNER_NAME = env("SIGNALS_PARTNER_NAME", "Switchboard")
SIGNALS_TRACKING_MESSAGES = int(env("SIGNALS_TRACKING_MESSAGES", "3"))  # first inbound messages scanned for an ID
SIGNALS_RETRY_BASE_SECONDS = env_float("SIGNALS_RETRY_BASE_SECONDS", 5.0)
SIGNALS_RETRY_MAX_SECONDS = env_float("SIGNALS_RETRY_MAX_SECONDS", 3600.0)
SIGNALS_SENDING_LEASE_SECONDS = env_float("SIGNALS_SENDING_LEASE_SECONDS", 120.0)
SIGNALS_DELIVERY_CONCURRENCY = int(env("SIGNALS_DELIVERY_CONCURRENCY", "4"))  # claimers per delivery run

LOG_FORMAT = env("LOG_FORMAT", "json" if PRODUCTION else "plain")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"request_id": {"()": "switchboard.observability.RequestIdFilter"}},
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"},
        "json": {"()": "switchboard.observability.JsonFormatter"},
    },
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": LOG_FORMAT, "filters": ["request_id"]}},
    "root": {"handlers": ["console"], "level": env("LOG_LEVEL", "INFO")},
    "loggers": {
        "django.channels.server": {"level": "WARNING"},
        "daphne": {"level": "WARNING"},
        # httpx logs full URLs at INFO; provider URLs can carry tokens in query strings (Graph media URLs).
        "httpx": {"level": "WARNING"},
        "httpcore": {"level": "WARNING"},
    },
}
# Who may read /metrics besides loopback clients and staff users (the proxy also limits it).
METRICS_ALLOWED_IPS = [ip for ip in env("METRICS_ALLOWED_IPS", "127.0.0.1,::1").split(",") if ip]

# Commerce (inbox.commerce, issue 7): orders and reservations.
COMMERCE_DEFAULT_CURRENCY = env("COMMERCE_DEFAULT_CURRENCY", "USD")
# Dotted path of the payment provider backend (inbox/commerce/payment_providers/base.py is the interface).
COMMERCE_PAYMENT_PROVIDER = env(
    "COMMERCE_PAYMENT_PROVIDER", "inbox.commerce.payment_providers.fake.FakePaymentProvider"
)
COMMERCE_FAKE_PAYMENT_SECRET = env("COMMERCE_FAKE_PAYMENT_SECRET", "fake-payments-" + SECRET_KEY)
COMMERCE_PAYMENT_CALLBACK_TOLERANCE_SECONDS = int(env("COMMERCE_PAYMENT_CALLBACK_TOLERANCE_SECONDS", "300"))
COMMERCE_HOLD_MINUTES = int(env("COMMERCE_HOLD_MINUTES", "15"))
# Reminder kind -> minutes before the booking; each is sent at most once per reservation.
COMMERCE_RESERVATION_REMINDERS = {"24h": 24 * 60, "2h": 120}
COMMERCE_IMPORT_INLINE_ROWS = int(env("COMMERCE_IMPORT_INLINE_ROWS", "200"))

# Members and access (inbox.access, issue 5): invitation emails. The embedded default prints them to the console.
EMAIL_BACKEND = env("EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")
DEFAULT_FROM_EMAIL = env("DEFAULT_FROM_EMAIL", "Switchboard <no-reply@localhost>")
INVITATION_VALID_DAYS = int(env("INVITATION_VALID_DAYS", "7"))

# Login protection (inbox.access, issue 5). django-axes counts failed logins in the database (every process sees
# the same count) and locks the username+address pair for a cool-off; a success resets the count. Locking by the
# pair, not the username alone, keeps a stranger from locking a real user out from another address.
INSTALLED_APPS += [
    "axes",
    "django_otp",
    "django_otp.plugins.otp_totp",  # authenticator-app codes (TOTP)
    "django_otp.plugins.otp_static",  # single-use backup codes
]
MIDDLEWARE += ["axes.middleware.AxesMiddleware"]  # last, as axes asks: turns a lockout into the lockout page
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",  # first: refuses a locked-out login before the password is checked
    "django.contrib.auth.backends.ModelBackend",
]
AXES_FAILURE_LIMIT = int(env("LOGIN_FAILURE_LIMIT", "5"))
AXES_COOLOFF_TIME = timedelta(minutes=env_float("LOGIN_COOLOFF_MINUTES", 15.0))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_CALLABLE = "inbox.access.login.lockout_response"  # our page, with the wait in minutes
AXES_HTTP_RESPONSE_CODE = 429
AXES_VERBOSE = False  # its log lines carry usernames; the audit log records lockouts instead
# Two-factor authentication: the name authenticator apps show, and how long a password stays good for the code.
OTP_TOTP_ISSUER = env("OTP_TOTP_ISSUER", "Switchboard")
TWO_FACTOR_PENDING_SECONDS = int(env("TWO_FACTOR_PENDING_SECONDS", "300"))

# Issues 2 and 9: paths served by their (csrf-exempt) views without sessions, auth, locale, preferences, messages
# or CSP (switchboard/middleware.py): signed provider webhooks, answered within milliseconds.
MACHINE_PATH_PREFIXES = ("/webhooks/",)
# Issue 9: provider webhook POSTs answered ahead of Django's request handling (integrations/ingress.py, installed in
# switchboard/wsgi.py); false sends them through Django like any request.
WEBHOOK_FAST_INGRESS = env_bool("WEBHOOK_FAST_INGRESS", True)
# How long a process answers a channel's webhooks from its cached secrets (integrations/services/webhooks.py): a
# secret rotated or a channel disconnected in another process takes effect within this many seconds.
WEBHOOK_SECRETS_TTL_SECONDS = env_float("WEBHOOK_SECRETS_TTL_SECONDS", 5.0)
# Issue 9: under sustained webhook traffic, how long a stored delivery waits for others to share one Celery publish
# (about a millisecond of CPU each); an isolated delivery is enqueued at once (switchboard/coalesce.py).
WEBHOOK_ENQUEUE_LINGER_SECONDS = env_float("WEBHOOK_ENQUEUE_LINGER_SECONDS", 0.003)
# Issue 9: how often an open inbox re-reads the event log for a broadcast the channel layer lost (static/inbox.js);
# one small indexed query per open inbox each time. 0 turns it off.
LIVE_CHECK_SECONDS = env_float("LIVE_CHECK_SECONDS", 30.0)

# Data lifecycle (inbox.lifecycle, issue 11): rows per retention batch (one short transaction each) and the daily
# run's time budget (what is left continues the next day).
LIFECYCLE_BATCH_SIZE = int(env("LIFECYCLE_BATCH_SIZE", "500"))
LIFECYCLE_TIME_BUDGET_SECONDS = int(env("LIFECYCLE_TIME_BUDGET_SECONDS", "600"))
