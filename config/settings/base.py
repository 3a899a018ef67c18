"""Settings shared by every environment.

Everything that differs between machines comes from the environment (see `.env.example`).
With nothing set the product runs on its embedded default: SQLite in WAL mode and a Celery
broker on the filesystem, so `make run` needs no server.
"""

from pathlib import Path

import environ
from django.utils.translation import gettext_lazy

BASE_DIR = Path(__file__).resolve().parent.parent.parent
VAR_DIR = BASE_DIR / "var"

env = environ.Env()
environ.Env.read_env(BASE_DIR / ".env", overwrite=False)

SECRET_KEY = env("SECRET_KEY", default="insecure-local-key-change-me")
DEBUG = env.bool("DEBUG", default=False)
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "[::1]"])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "rest_framework",
    "rest_framework.authtoken",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_celery_beat",
    "django_countries",
    "licenses",
    "shipments",
    "monitoring",
]

# The event log (licenses) also records the events of shipments; the apps are wired here, so
# that licenses never names an app above it.
EVENT_SHIPMENT_MODEL = "shipments.Shipment"
# The API's stored `Idempotency-Key` answers (core.idempotency): the core names no app.
IDEMPOTENCY_MODEL = "licenses.IdempotentRequest"
# How long a request waits for another one with the same key to finish before answering 409
# `idempotency_in_progress`.
IDEMPOTENCY_WAIT_SECONDS = 2

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"
ASGI_APPLICATION = "config.asgi.application"

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
                "django.template.context_processors.i18n",
            ],
        },
    },
    # The parts of a page drawn by the hundred (table rows, charts), in `fragments/`: included
    # from the pages' templates by `{% fragment %}` (`licenses.templatetags.web_tags`), with
    # Django's escaping (`core.jinja2`).
    {
        "BACKEND": "django.template.backends.jinja2.Jinja2",
        "DIRS": [BASE_DIR / "fragments"],
        "APP_DIRS": False,
        "OPTIONS": {
            "environment": "core.jinja2.environment",
            "filter_libraries": ("licenses.templatetags.web_tags",),
        },
    },
]


def _database(url: str) -> dict:
    """Parse DATABASE_URL; SQLite gets WAL and a busy timeout so web, worker and beat share it.
    PostgreSQL runs without JIT compilation: the set-based statements (the scan's, linking
    events into their chains) carry CTEs whose row estimates are guesses, and JIT judged them
    costly enough to compile for about 2 s each — a full scan at 100,000 shipments took 8 to
    10 s instead of about one."""
    config = environ.Env.db_url_config(url)
    if config["ENGINE"] == "django.db.backends.sqlite3":
        config["OPTIONS"] = {
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
            "timeout": 20,
            "transaction_mode": "IMMEDIATE",
        }
    else:
        config.setdefault("CONN_MAX_AGE", env.int("CONN_MAX_AGE", default=60))
        config.setdefault("CONN_HEALTH_CHECKS", True)
        config.setdefault("OPTIONS", {}).setdefault("options", "-c jit=off")
    return config


DATABASE_URL = env("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}")
DATABASES = {"default": _database(DATABASE_URL)}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en"
LANGUAGES = [("en", "English"), ("zh-hans", "简体中文")]
LOCALE_PATHS = [BASE_DIR / "locale"]
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
# Uploaded documents live outside the web root and are only served through a view that
# checks who is asking.
MEDIA_ROOT = Path(env("MEDIA_ROOT", default=str(VAR_DIR / "documents")))

LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "dashboard"
LOGOUT_REDIRECT_URL = "login"

# Mail: SMTP when EMAIL_HOST is set, otherwise files a person can read under var/mail.
EMAIL_HOST = env("EMAIL_HOST", default="")
if EMAIL_HOST:
    EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    EMAIL_PORT = env.int("EMAIL_PORT", default=25)
    EMAIL_HOST_USER = env("EMAIL_HOST_USER", default="")
    EMAIL_HOST_PASSWORD = env("EMAIL_HOST_PASSWORD", default="")
    EMAIL_USE_TLS = env.bool("EMAIL_USE_TLS", default=False)
    EMAIL_TIMEOUT = 10
else:
    EMAIL_BACKEND = "django.core.mail.backends.filebased.EmailBackend"
    EMAIL_FILE_PATH = str(VAR_DIR / "mail")
DEFAULT_FROM_EMAIL = env("DEFAULT_FROM_EMAIL", default="tracker@localhost")
# Links in e-mail: by default the address this process serves (`make run`, the Procfile and the
# image all listen on PORT, and `make` exports it to the worker that sends the mail).
PORT = env.int("PORT", default=8000)
SITE_URL = env("SITE_URL", default="") or f"http://127.0.0.1:{PORT}"

# Celery: Redis when REDIS_URL / CELERY_BROKER_URL is set, otherwise kombu's filesystem
# transport in var/broker so that everything runs with no server (worker with the solo pool,
# no gossip, mingle or heartbeat: see Procfile.local).
REDIS_URL = env("REDIS_URL", default="")
CELERY_BROKER_URL = env("CELERY_BROKER_URL", default=REDIS_URL or "filesystem://")
BROKER_DIR = VAR_DIR / "broker"


def broker_transport_options(url: str) -> dict:
    """Transport options for a broker URL (test settings and tests switch brokers too)."""
    if url.startswith("filesystem"):
        for folder in ("out", "processed", "control"):
            (BROKER_DIR / folder).mkdir(parents=True, exist_ok=True)
        return {
            "data_folder_in": str(BROKER_DIR / "out"),
            "data_folder_out": str(BROKER_DIR / "out"),
            "processed_folder": str(BROKER_DIR / "processed"),
            "control_folder": str(BROKER_DIR / "control"),
            "store_processed": False,
        }
    if url.startswith(("redis", "rediss")):
        # A dead broker must never hang a web request: fail fast (no connection retry when
        # publishing, short connect and socket timeouts: a refused connection fails at once, a
        # hung Redis within about 2 s) and let the outbox sweep send what could not be queued.
        # The worker's consumer keeps its own reconnection policy; its BRPOP waits 1 s, less
        # than the socket timeout.
        return {
            "socket_connect_timeout": 1,
            "socket_timeout": 2,
            "max_retries": 0,
        }
    return {}


CELERY_BROKER_TRANSPORT_OPTIONS = broker_transport_options(CELERY_BROKER_URL)


def cache_settings(url: str) -> dict:
    """The default cache: throttle counts and the dashboard. In Redis when there is one, so
    that every process (gunicorn's workers, several containers) counts against the same limits
    and reuses the same dashboards; else this process's memory, which is all the embedded
    default (one web process) needs. A Redis that is down is a cache miss, never an error
    (core.cache); a hung one fails within the socket timeout."""
    if not url:
        return {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    return {
        "default": {
            "BACKEND": "core.cache.ResilientRedisCache",
            "LOCATION": url,
            "KEY_PREFIX": "tracker",
            "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 1},
        }
    }


CACHE_REDIS_URL = env("CACHE_REDIS_URL", default=REDIS_URL)
CACHES = cache_settings(CACHE_REDIS_URL)
CELERY_BROKER_CONNECTION_TIMEOUT = 2
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_TASK_PUBLISH_RETRY = False
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_TIME_LIMIT = 300
CELERY_TASK_SOFT_TIME_LIMIT = 240
CELERY_TASK_ACKS_LATE = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TIMEZONE = "UTC"
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"
SCAN_INTERVAL_SECONDS = env.int("SCAN_INTERVAL_SECONDS", default=300)

# Alert delivery (monitoring.alerts): a failed send is retried after BASE * 2**(n-1) seconds
# (capped at an hour) up to MAX attempts; the sweep sends any alert still pending
# SWEEP_AFTER seconds after it was written (its task was lost, e.g. the broker was down). A
# claim holds an alert for LEASE seconds (far longer than one SMTP exchange): one older than
# that is taken to be dead, and the alert is sent again unless an attempt completed.
ALERT_RETRY_BASE_SECONDS = 60
ALERT_MAX_ATTEMPTS = 10
ALERT_SWEEP_AFTER_SECONDS = 120
ALERT_SWEEP_INTERVAL_SECONDS = 60
ALERT_LEASE_SECONDS = 300
# Webhooks (`monitoring.webhooks`): a 2xx within the timeout is a delivery; failures are retried
# with backoff (base * 2**(n-1), capped at an hour) for WEBHOOK_RETRY_HOURS after the event.
WEBHOOK_TIMEOUT_SECONDS = env.float("WEBHOOK_TIMEOUT_SECONDS", default=10)
WEBHOOK_RETRY_BASE_SECONDS = env.int("WEBHOOK_RETRY_BASE_SECONDS", default=30)
WEBHOOK_RETRY_HOURS = env.float("WEBHOOK_RETRY_HOURS", default=24)
WEBHOOK_SWEEP_INTERVAL_SECONDS = env.int("WEBHOOK_SWEEP_INTERVAL_SECONDS", default=60)
WEBHOOK_LEASE_SECONDS = 60

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Export-license tracker API",
    "DESCRIPTION": "Shipments of controlled goods and the export licenses they wait on.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env("LOG_LEVEL", default="INFO")},
}

# --- Web forms: sign-in throttling, Content-Security-Policy, the user's time zone ----------
from datetime import timedelta  # noqa: E402

from csp.constants import NONE, SELF  # noqa: E402

INSTALLED_APPS += ["axes", "csp"]

# /healthz answers first (before the ALLOWED_HOSTS check); the CSP header goes on every
# response; the user's time zone is active once we know who asks; axes turns a lockout into
# its page, last.
MIDDLEWARE = ["config.middleware.HealthzMiddleware", *MIDDLEWARE]
MIDDLEWARE.insert(
    MIDDLEWARE.index("django.middleware.security.SecurityMiddleware") + 1,
    "csp.middleware.CSPMiddleware",
)
MIDDLEWARE.insert(
    MIDDLEWARE.index("django.contrib.auth.middleware.AuthenticationMiddleware") + 1,
    "config.middleware.UserTimeZoneMiddleware",
)
MIDDLEWARE.append("axes.middleware.AxesMiddleware")

# UserBackend signs users in and answers permissions with fewer queries (config.auth);
# ModelBackend stays for the sessions begun before UserBackend was named here.
AUTHENTICATION_BACKENDS = [
    "config.auth.LoginThrottleBackend",
    "config.auth.UserBackend",
    "django.contrib.auth.backends.ModelBackend",
]

# Lock a username out from one address after AXES_FAILURE_LIMIT failures in a row, for
# AXES_COOLOFF_MINUTES. Locking by username and address together means nobody can lock a
# colleague out from elsewhere by mistyping their name on purpose.
AXES_FAILURE_LIMIT = env.int("AXES_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = timedelta(minutes=env.int("AXES_COOLOFF_MINUTES", default=15))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"
AXES_VERBOSE = False
# Behind a reverse proxy, say how many proxies add to X-Forwarded-For so axes counts the
# client's address rather than the proxy's.
if env("AXES_PROXY_COUNT", default=""):
    AXES_IPWARE_PROXY_COUNT = env.int("AXES_PROXY_COUNT")
    AXES_IPWARE_META_PRECEDENCE_ORDER = ["HTTP_X_FORWARDED_FOR", "REMOTE_ADDR"]

# Content-Security-Policy (django-csp 4): only our own origin, no inline script or style
# anywhere. The charts are SVG drawn on the server; the few enhancements are in static/js.
# `data:` images are for the icons swagger-ui and the admin embed in their CSS.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF],
        "img-src": [SELF, "data:"],
        "font-src": [SELF],
        "connect-src": [SELF],
        "object-src": [NONE],
        "base-uri": [SELF],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
    },
}

# Sign-in and password reset (LOGIN_URL and the redirects are set above): the reset page only
# records the address, and the worker mails the link (monitoring.password_reset), at most
# PASSWORD_RESET_MAX_PER_HOUR times an hour to one address. A reset link works once, for a day.
PASSWORD_RESET_TIMEOUT = 60 * 60 * 24
PASSWORD_RESET_MAX_PER_HOUR = env.int("PASSWORD_RESET_MAX_PER_HOUR", default=5)
SESSION_COOKIE_HTTPONLY = True
# A form sent without a valid CSRF token (a page left open across a sign-out) gets the site's
# own 403 page, in the visitor's language, saying to reload and try again.
CSRF_FAILURE_VIEW = "core.error_views.csrf_failure"

# REST API (config/api): the SPEC's error body for every DRF error, and throttling. Rates are
# generous defaults; `login` limits sign-in attempts and `bad_token` requests with a wrong
# token, both per client address. The counts live in the default cache: in Redis, shared by
# every process, when REDIS_URL is set (CACHES above). The client's address is the
# connection's, or behind AXES_PROXY_COUNT proxies the one they name in X-Forwarded-For (never
# a header the client could make up).
_API_SETTINGS: dict[str, object] = {
    "EXCEPTION_HANDLER": "core.api.errors.exception_handler",
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "core.api.authentication.ThrottledTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_THROTTLE_CLASSES": [
        "core.api.throttling.AnonThrottle",
        "core.api.throttling.UserThrottle",
    ],
    "DEFAULT_THROTTLE_RATES": {
        "anon": env("API_THROTTLE_ANON", default="120/minute"),
        "user": env("API_THROTTLE_USER", default="2000/minute"),
        "login": env("API_THROTTLE_LOGIN", default="20/minute"),
        "bad_token": env("API_THROTTLE_BAD_TOKEN", default="20/minute"),
    },
    "NUM_PROXIES": env.int("AXES_PROXY_COUNT", default=0),
}
REST_FRAMEWORK |= _API_SETTINGS  # type: ignore[arg-type]
_API_SCHEMA_SETTINGS: dict[str, object] = {
    # Separate request and response components: read-only fields are not asked for.
    "COMPONENT_SPLIT_REQUEST": True,
    "SCHEMA_PATH_PREFIX": r"/api/v1",
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "core.api.schema.strict_requests",
        "core.api.schema.truthful_dates",
    ],
    "ENUM_NAME_OVERRIDES": {
        "CountryEnum": "core.countries.COUNTRY_CODES",
        "ApplicationStatusEnum": "licenses.models.Status",
        "ShipmentStatusEnum": "shipments.models.ShipmentStatus",
        "FlagKindEnum": "monitoring.models.FlagKind",
        "EventKindEnum": "licenses.models.EventKind",
        "PauseReasonEnum": "licenses.models.PauseReason",
        "ReferralReasonEnum": "licenses.models.ReferralReason",
        "WindowUnitEnum": "licenses.models.WindowUnit",
        "WebhookEventEnum": "monitoring.models.WebhookEvent",
        "WebhookDeliveryStateEnum": "monitoring.models.WebhookDelivery.State",
    },
    "DESCRIPTION": (
        "Shipments of controlled goods and the export licenses they wait on.\n\n"
        "Authenticate with `Authorization: Token <key>` (get one from `POST /api/v1/auth/token/`)"
        ' or a session. Every error answers `{"code", "detail", "fields"}`. Lists answer '
        '`{"next", "previous", "results"}`: follow the links; `?page_size=` 1-100, '
        "`?ordering=` one of the orderings listed per list."
    ),
}
SPECTACULAR_SETTINGS |= _API_SCHEMA_SETTINGS

# --- Web forms II: documents, CSV import, languages ----------------------------------------
# Limits of uploaded documents and of a CSV import of shipments; the pages state them.
DOCUMENT_MAX_BYTES = env.int("DOCUMENT_MAX_BYTES", default=10 * 1024 * 1024)
IMPORT_MAX_BYTES = env.int("IMPORT_MAX_BYTES", default=1024 * 1024)
IMPORT_MAX_ROWS = env.int("IMPORT_MAX_ROWS", default=2000)
# The signed-in user's chosen language wins over the cookie and the browser (after auth).
MIDDLEWARE.insert(
    MIDDLEWARE.index("config.middleware.UserTimeZoneMiddleware") + 1,
    "config.middleware.UserLanguageMiddleware",
)
# The header's language switch also stores the choice of a signed-in user.
LANGUAGE_COOKIE_AGE = 60 * 60 * 24 * 365
LANGUAGE_COOKIE_SAMESITE = "Lax"

# List filters offer "Any" rather than "---------" for "no filter".
FILTERS_EMPTY_CHOICE_LABEL = gettext_lazy("Any")
