from .base import *  # noqa: F403
from .base import DATABASES, env

DEBUG = env.bool("DJANGO_DEBUG", default=True)

# No persistent database connections in development: runserver serves each request in a new
# thread, and each thread would keep its own connection open (Django's advice for runserver).
DATABASES = {"default": {**DATABASES["default"], "CONN_MAX_AGE": 0}}

# Static files come from the apps' folders; no collectstatic before a local run.
STATIC_ROOT = None
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = True
