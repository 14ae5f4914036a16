"""Production settings: secrets and the database must come from the environment."""

from django.core.exceptions import ImproperlyConfigured

from .base import *  # noqa: F403
from .base import database_settings, env

DEBUG = False

try:
    SECRET_KEY = env("DJANGO_SECRET_KEY")
    DATABASES = {"default": database_settings(env.db("DATABASE_URL"))}
except ImproperlyConfigured as exc:
    raise ImproperlyConfigured(f"Production needs DJANGO_SECRET_KEY and DATABASE_URL: {exc}") from exc


SESSION_COOKIE_SECURE = env.bool("DJANGO_SECURE_COOKIES", default=True)
CSRF_COOKIE_SECURE = env.bool("DJANGO_SECURE_COOKIES", default=True)
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_CONTENT_TYPE_NOSNIFF = True
