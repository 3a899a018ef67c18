# syntax=docker/dockerfile:1
# One image for web (gunicorn, the default CMD), worker and beat:
#   docker run IMAGE                                          -> web on ${PORT:-8000}
#   docker run IMAGE celery -A config worker -n worker@%h -l INFO  -> a worker (as many as needed)
#   docker run IMAGE celery -A config beat -l INFO            -> beat (DatabaseScheduler; one only)
#   docker run IMAGE python manage.py migrate --noinput       -> the migrations, once per release
# Configuration comes from the environment: see .env.example.

############################ builder: wheels for [project].dependencies only ############################
FROM python:3.11-slim-bookworm AS builder

ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /build
COPY pyproject.toml ./
# The runtime dependency list is read from pyproject.toml (never the dev extras), so it is
# never duplicated. Every pinned dependency ships binary wheels (psycopg[binary] brings its
# own libpq), so the builder needs no compiler.
RUN python -c "import tomllib; deps = tomllib.load(open('pyproject.toml', 'rb'))['project']['dependencies']; print('\n'.join(deps))" > requirements.txt \
 && pip wheel --wheel-dir /wheels -r requirements.txt

############################ runtime ############################
FROM python:3.11-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    DJANGO_SETTINGS_MODULE=config.settings.production

RUN groupadd --system --gid 10001 app \
 && useradd --system --uid 10001 --gid app --home-dir /app --no-create-home --shell /usr/sbin/nologin app

COPY --from=builder /wheels /wheels
RUN pip install --no-index --find-links=/wheels /wheels/*.whl \
 && rm -rf /wheels

WORKDIR /app
# Code and collected static files stay owned by root (read-only for the app user); only var/
# is writable: uploaded documents, plus var/mail and var/broker should mail or the broker
# ever fall back to their embedded defaults.
COPY . .
RUN SECRET_KEY=build-only ALLOWED_HOSTS=localhost DATABASE_URL=sqlite:////tmp/build.sqlite3 \
    python manage.py collectstatic --noinput \
 && rm -f /tmp/build.sqlite3* \
 && mkdir -p /app/var/documents \
 && chown -R app:app /app/var

USER app
# Created and chowned above, so a fresh named volume starts out owned by app.
VOLUME ["/app/var/documents"]

EXPOSE 8000

# /healthz answers 200 "ok". No curl in the image: Python's urllib does it.
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
    CMD ["python", "-c", "import os, sys, urllib.request; r = urllib.request.urlopen('http://127.0.0.1:%s/healthz' % os.environ.get('PORT', '8000'), timeout=4); sys.exit(0 if r.status == 200 else 1)"]

# exec: gunicorn becomes PID 1 and receives SIGTERM directly.
CMD ["sh", "-c", "exec gunicorn config.wsgi:application --bind 0.0.0.0:${PORT:-8000} --workers ${WEB_CONCURRENCY:-3} --access-logfile -"]
