"""Test settings: the same code as production, on SQLite unless DATABASE_URL names another.

Tasks run eagerly here, where a worker is not what a test checks; tests that exercise real
workers switch eager mode off and start one.
"""

from .base import *  # noqa: F403
from .base import DATABASES, REDIS_URL, env

DEBUG = False
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
CELERY_TASK_ALWAYS_EAGER = env.bool("CELERY_TASK_ALWAYS_EAGER", default=True)
# Worker threads and processes open their own connections; close them after each task so the
# test database can be dropped at the end.
DATABASES["default"]["CONN_MAX_AGE"] = 0
# No connection pool in the test process: the threads of race tests take connections of their
# own, and a pooled one would only come back when each thread closes it. The pool is checked by
# tests/ops/test_database_pool.py (which turns it on) and by the storm test's server, which runs
# on the production settings.
DATABASES["default"].get("OPTIONS", {}).pop("pool", None)
CELERY_DB_REUSE_MAX = None
if not REDIS_URL:
    # Each test process keeps its own cache and broker (tests/generation/test_embedded_worker.py
    # runs a worker on the embedded run's filesystem broker in folders of its own).
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "atelier"}}
    CELERY_BROKER_URL = "memory://localhost/"
    CELERY_BROKER_TRANSPORT_OPTIONS = {}
LOGGING_CONFIG = None

# Static files come from the apps' folders; no collectstatic before a test run.
STATIC_ROOT = None
WHITENOISE_USE_FINDERS = True

# Rate limits and quotas are switched on by the tests that check them.
RATELIMIT_ENABLE = False
ATELIER_QUOTAS_ENABLED = False
GOOGLE_CLIENT_ID = "atelier-test-client.apps.googleusercontent.com"
