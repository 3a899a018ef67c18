"""`make test`: PostgreSQL and Redis on localhost unless DATABASE_URL / REDIS_URL say otherwise.

The end-to-end tests start a real Celery worker (and beat) with these settings in a
subprocess: it finds the test database through DATABASE_URL, the broker through
CELERY_BROKER_URL, sends by SMTP when TEST_EMAIL_BACKEND says so, and takes short alert
timings from the E2E_* variables.
"""

import os

os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/tracker")

from .base import *  # noqa: F403
from .base import DATABASES, broker_transport_options, cache_settings, env

DATABASES["default"]["CONN_MAX_AGE"] = 0
DEBUG = False
DEMO = True
SECRET_KEY = "test-only-secret"
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
EMAIL_BACKEND = env("TEST_EMAIL_BACKEND", default="django.core.mail.backends.locmem.EmailBackend")
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
ALLOWED_HOSTS = ["*"]
CELERY_BROKER_URL = env("CELERY_BROKER_URL", default="memory://")
CELERY_BROKER_TRANSPORT_OPTIONS = broker_transport_options(CELERY_BROKER_URL)


def _redis_for_this_worker(url: str) -> str:
    """Each pytest-xdist worker (gw0, gw1, …) gets its own Redis database number: the one
    `url` names plus the worker's index, so parallel end-to-end tests never share a broker."""
    worker = os.environ.get("PYTEST_XDIST_WORKER", "")
    if not worker.startswith("gw"):
        return url
    base, _, db = url.rpartition("/")
    number = int(db) if db.isdigit() else 0
    return f"{base}/{(number + int(worker[2:])) % 16}"


# The Redis the end-to-end tests run their worker on (db 12, plus the xdist worker's index,
# unless REDIS_URL says otherwise).
TEST_REDIS_URL = _redis_for_this_worker(env("REDIS_URL", default="redis://127.0.0.1:6379/12"))
# The cache (throttle counts, the dashboard) is there too, as in production: each xdist worker
# on its own database number, so that `cache.clear()` (before every test: see
# tests/conftest.py) empties only its own, and the servers an end-to-end test starts (which
# inherit PYTEST_XDIST_WORKER) share it with the test.
CACHES = cache_settings(TEST_REDIS_URL)

ALERT_RETRY_BASE_SECONDS = env.int("E2E_ALERT_RETRY_BASE_SECONDS", default=60)
ALERT_SWEEP_AFTER_SECONDS = env.int("E2E_ALERT_SWEEP_AFTER_SECONDS", default=120)
ALERT_SWEEP_INTERVAL_SECONDS = env.int("E2E_ALERT_SWEEP_INTERVAL_SECONDS", default=60)
ALERT_LEASE_SECONDS = env.int("E2E_ALERT_LEASE_SECONDS", default=300)
