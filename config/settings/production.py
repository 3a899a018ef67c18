"""Production: secrets from the environment, never the demo."""

from .base import *  # noqa: F403
from .base import env

DEBUG = False
DEMO = False
SECRET_KEY = env("SECRET_KEY")
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS")
SESSION_COOKIE_SECURE = env.bool("SESSION_COOKIE_SECURE", default=True)
CSRF_COOKIE_SECURE = env.bool("CSRF_COOKIE_SECURE", default=True)
# Behind a TLS-terminating proxy that sets X-Forwarded-Proto (and strips it from clients):
# a request it forwarded as https is https. Off when nothing in front sets the header.
if env.bool("SECURE_PROXY_SSL", default=True):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
# Plain http is redirected to https. (`/healthz`, which the container runtime asks over plain
# http from inside, is answered by the first middleware, before any redirect.)
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=True)
# Strict-Transport-Security on every https response: a year, subdomains, preload-ready.
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=31_536_000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", default=True)
SECURE_HSTS_PRELOAD = env.bool("SECURE_HSTS_PRELOAD", default=True)
SECURE_CONTENT_TYPE_NOSNIFF = True
