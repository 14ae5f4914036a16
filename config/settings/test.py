"""Test settings: the same code as production, on SQLite unless DATABASE_URL names another.

Tasks run eagerly here; tests that exercise real workers configure the broker themselves.
"""

from .base import *  # noqa: F403
from .base import REDIS_URL

DEBUG = False
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
CELERY_TASK_ALWAYS_EAGER = True
CELERY_BROKER_URL = REDIS_URL or "memory://localhost/"
LOGGING_CONFIG = None

# Static files come from the apps' folders; no collectstatic before a test run.
STATIC_ROOT = None
WHITENOISE_USE_FINDERS = True
