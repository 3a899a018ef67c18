import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")
application = get_wsgi_application()

from core.startup import freeze_after_startup  # noqa: E402 (needs Django set up)

freeze_after_startup()
