"""Settings of the benchmark: production's (DEBUG off, no demo), on a benchmark database.

`BENCH_DATABASE` names the database (default `bench_1m`) on `BENCH_PG` (default
postgres://postgres@127.0.0.1:5432). The URLconf adds the benchmark's plain view beside the
product's URLs (`bench.urls`); nothing here is used by the product itself.
"""

import os

os.environ.setdefault("SECRET_KEY", "bench-only-secret-key-not-for-production-use-0123456789")
os.environ.setdefault("ALLOWED_HOSTS", "localhost,127.0.0.1")
os.environ.setdefault("LOG_LEVEL", "WARNING")

from config.settings.base import DATABASES, _database
from config.settings.production import *  # noqa: F403

BENCH_PG = os.environ.get("BENCH_PG", "postgres://postgres@127.0.0.1:5432")
BENCH_DATABASE = os.environ.get("BENCH_DATABASE", "bench_1m")
DATABASES["default"] = _database(f"{BENCH_PG}/{BENCH_DATABASE}")
DATABASES["default"]["CONN_MAX_AGE"] = None  # persistent, as gunicorn workers run it

ROOT_URLCONF = "bench.urls"
ALLOWED_HOSTS = ["localhost", "127.0.0.1"]
SESSION_COOKIE_SECURE = False
CSRF_COOKIE_SECURE = False
# Plain http on loopback, as docker-compose's local stack: production's redirect to https
# would answer every request 301.
SECURE_SSL_REDIRECT = False
# Static files are not collected for the benchmark: no manifest.
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
# Nothing leaves the machine: alerts stay rows (their transactions are rolled back) and
# digests are rendered and handed to a backend that drops them.
EMAIL_BACKEND = "django.core.mail.backends.dummy.EmailBackend"
CELERY_BROKER_URL = "memory://"
CELERY_BROKER_TRANSPORT_OPTIONS = {}  # type: ignore[no-redef]

# The API's throttles run as in production, with rates no benchmark client reaches (the
# defaults, 2,000 requests a minute per user, would cap the measured throughput).
from config.settings.base import REST_FRAMEWORK as _API  # noqa: E402

_rates: dict[str, str] = {**_API["DEFAULT_THROTTLE_RATES"]}  # type: ignore[dict-item]
_rates.update(user="100000000/minute", anon="100000000/minute")
REST_FRAMEWORK = {**_API, "DEFAULT_THROTTLE_RATES": _rates}  # type: ignore[no-redef,dict-item]
# Nothing is collected for the benchmark; an (empty) directory keeps whitenoise quiet.
STATIC_ROOT = VAR_DIR / "bench-static"  # noqa: F405
STATIC_ROOT.mkdir(parents=True, exist_ok=True)
