"""WSGI entry of the benchmark's gunicorn (bench.settings)."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bench.settings")

application = get_wsgi_application()

from core.startup import freeze_after_startup  # noqa: E402 (needs Django set up)

freeze_after_startup()
