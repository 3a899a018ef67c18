"""`make test`: PostgreSQL and Redis on localhost unless DATABASE_URL / REDIS_URL say otherwise."""

import os

os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/tracker")

from .base import *  # noqa: F403
from .base import DATABASES, env

DATABASES["default"]["CONN_MAX_AGE"] = 0
DEBUG = False
DEMO = True
SECRET_KEY = "test-only-secret"
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
ALLOWED_HOSTS = ["*"]
CELERY_BROKER_URL = env("CELERY_BROKER_URL", default="memory://")
