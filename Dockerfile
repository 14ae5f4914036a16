# syntax=docker/dockerfile:1
# One image for every role of the stack (web, workers, beat, migrations); compose.yaml picks the
# command. Pinned base, dependencies installed from the pinned requirements, runs as a user
# without privileges.

FROM python:3.11.11-slim-bookworm AS build
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
RUN python -m venv /opt/venv
COPY requirements/ /tmp/requirements/
RUN /opt/venv/bin/pip install -r /tmp/requirements/production.txt

FROM python:3.11.11-slim-bookworm
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    DJANGO_SETTINGS_MODULE=config.settings.production \
    ATELIER_VAR_DIR=/tmp/atelier
RUN groupadd --system --gid 10001 atelier \
    && useradd --system --uid 10001 --gid atelier --home-dir /app --shell /usr/sbin/nologin atelier
COPY --from=build /opt/venv /opt/venv
WORKDIR /app
COPY --chown=atelier:atelier . .
# Static files are collected into the image (served by WhiteNoise); the settings need a secret
# and a database to load, neither of which is used here.
RUN DJANGO_SECRET_KEY=collectstatic DATABASE_URL=sqlite:////tmp/collectstatic.sqlite3 \
    python manage.py collectstatic --noinput \
    && rm -f /tmp/collectstatic.sqlite3
USER atelier
EXPOSE 8000
# Liveness: the web server answers (a 503 from /health only says a dependency is down).
HEALTHCHECK --interval=15s --timeout=5s --start-period=20s --retries=3 \
    CMD python -c "import http.client as h; c = h.HTTPConnection('127.0.0.1', 8000, timeout=4); c.request('GET', '/health'); raise SystemExit(c.getresponse().status not in (200, 503))"
# The web role; workers and beat override the command (compose.yaml).
CMD ["gunicorn", "config.asgi", "-k", "uvicorn_worker.UvicornWorker", "-w", "4", "-b", "0.0.0.0:8000", "--graceful-timeout", "30"]
