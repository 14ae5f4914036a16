from .base import *  # noqa: F403
from .base import DATABASES, env

# The embedded run (`make run`) presents the product as a visitor meets it: styled error pages,
# no URL list on a mistyped address. DJANGO_DEBUG=1 brings back Django's debug pages.
DEBUG = env.bool("DJANGO_DEBUG", default=False)

# No persistent database connections in development: runserver serves each request in a new
# thread, and each thread would keep its own connection open (Django's advice for runserver).
DATABASES = {"default": {**DATABASES["default"], "CONN_MAX_AGE": 0}}

# Static files come from the apps' folders through WhiteNoise, with DEBUG on or off (runserver
# serves them itself only with DEBUG on): no collectstatic before a local run, and an edited file
# is served at once. Users' files are served by the gallery's views in every setting.
STATIC_ROOT = None
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = True
