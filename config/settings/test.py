"""Test settings: the same code as production, on SQLite unless DATABASE_URL names another.

Tasks run eagerly here; tests that exercise real workers configure the broker themselves.
"""

from .base import *  # noqa: F403
from .base import DATABASES, REDIS_URL, env

DEBUG = False
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
CELERY_TASK_ALWAYS_EAGER = env.bool("CELERY_TASK_ALWAYS_EAGER", default=True)
# Worker threads and processes open their own connections; close them after each task so the
# test database can be dropped at the end.
DATABASES["default"]["CONN_MAX_AGE"] = 0
CELERY_DB_REUSE_MAX = None
CELERY_BROKER_URL = REDIS_URL or "memory://localhost/"
LOGGING_CONFIG = None

# Static files come from the apps' folders; no collectstatic before a test run.
STATIC_ROOT = None
WHITENOISE_USE_FINDERS = True

# Rate limits and quotas are switched on by the tests that check them.
RATELIMIT_ENABLE = False
ATELIER_QUOTAS_ENABLED = False
GOOGLE_CLIENT_ID = "atelier-test-client.apps.googleusercontent.com"
