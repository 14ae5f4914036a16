"""Production settings: secrets and the database must come from the environment."""

from django.core.exceptions import ImproperlyConfigured

from .base import *  # noqa: F403
from .base import env

DEBUG = False

try:
    SECRET_KEY = env("DJANGO_SECRET_KEY")
    DATABASES = {"default": env.db("DATABASE_URL")}
except ImproperlyConfigured as exc:
    raise ImproperlyConfigured(f"Production needs DJANGO_SECRET_KEY and DATABASE_URL: {exc}") from exc

DATABASES["default"]["ATOMIC_REQUESTS"] = False
DATABASES["default"]["CONN_MAX_AGE"] = env.int("DB_CONN_MAX_AGE", default=60)

SESSION_COOKIE_SECURE = env.bool("DJANGO_SECURE_COOKIES", default=True)
CSRF_COOKIE_SECURE = env.bool("DJANGO_SECURE_COOKIES", default=True)
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_CONTENT_TYPE_NOSNIFF = True
